"""A Twilio-compatible HTTP server on 127.0.0.1 for tests: the Messages API as the official SDK uses it.

What it does like Twilio (2010-04-01 API, legacy error JSON):
* HTTP Basic auth with the account SID and auth token (401, code 20003, otherwise); the account in the path
  must be the authenticated one (404, code 20404).
* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: To, Body and From or MessagingServiceSid required
  (21604 / 21602 / 21603), To must be E.164 (400 with code 21211;
  also for Twilio's magic invalid number +15005550001), From one of the account's numbers when
  ``numbers`` is given (21606), Body at most 1600 characters (21617).  201 with the message resource: sid "SM" +
  32 hex, status "queued" ("accepted" through a Messaging Service), RFC 2822 dates, date_sent null.
* ``GET .../Messages.json`` with To / From / DateSent / DateSent< / DateSent> filters (by day, as Twilio
  documents) and Twilio's paging JSON (``messages``, ``next_page_uri``, ...), newest first; a message Twilio has
  not sent yet has no date_sent and so is left out by a DateSent filter.  ``GET .../Messages/{sid}.json`` too.
* Each message moves to "sent" (date_sent set) then "delivered" shortly after, and when it has a
  StatusCallback those statuses are POSTed there, signed with X-Twilio-Signature (HMAC-SHA1 of the URL and the
  sorted parameters, base64; computed here independently of the SDK).

Switches for tests: ``fail_next(n, status=500)`` answers the next n API requests with an error;
``delay_next(n, seconds)`` delays the next n answers and ``delay_seconds`` every answer (after a POST has
created its message, like a timeout that Twilio nevertheless acted on); ``hold = True`` keeps new messages
queued (no date_sent, no callbacks).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
# Twilio's magic test number that its API always refuses as invalid (error 21211).
MAGIC_INVALID = frozenset({"+15005550001"})
MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$")


def rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment, usegmt=True) if moment is not None else None


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature as Twilio computes it: HMAC-SHA1 over the URL + each sorted key and its value."""
    payload = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def error_body(code: int, message: str, status: int) -> dict[str, object]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class Callback:
    url: str
    params: dict[str, str]
    status_code: int | None  # what our server answered (None: unreachable)


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 31 + "1"
    auth_token: str = "fake-auth-token-0123456789abcdef"
    numbers: tuple[str, ...] | None = None  # the account's sending numbers; None: any E.164 number
    send_delay: float = 0.02  # queued -> sent
    deliver_delay: float = 0.02  # sent -> delivered
    delay_seconds: float = 0.0
    hold: bool = False
    messages: list[dict[str, object]] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    requests: list[tuple[float, str, str, int]] = field(default_factory=list)  # (time, method, path, status)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._fail: list[int] = []
        self._delays: list[float] = []
        self._timers: list[threading.Timer] = []
        self.server: ThreadingHTTPServer | None = None
        self._stopped = False

    # --- control -------------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._fail.extend([status] * count)

    def delay_next(self, count: int, seconds: float) -> None:
        """Delay the answers to the next ``count`` API requests (a POST's message is created first)."""
        with self._lock:
            self._delays.extend([seconds] * count)

    @property
    def url(self) -> str:
        assert self.server is not None, "start() the server first"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self.server is not None and not self._stopped:
            self._stopped = True
            self.server.shutdown()
            self.server.server_close()

    # --- what tests look at --------------------------------------------------------------------------------
    def sent_to(self, number: str) -> list[dict[str, object]]:
        with self._lock:
            return [m for m in self.messages if m["to"] == number]

    def creations(self) -> list[tuple[float, str]]:
        """(time, sender) of each successful create, in order."""
        with self._lock:
            return [(m["_created"], m["from"] or m["messaging_service_sid"]) for m in self.messages]  # type: ignore[misc]

    # --- the server ----------------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        status, payload, after = self._answer(method, parsed, handler.headers.get("Authorization", ""), raw)
        with self._lock:
            delay = self._delays.pop(0) if self._delays else self.delay_seconds
        if delay:
            time.sleep(delay)
        body = json.dumps(payload).encode()
        with self._lock:
            self.requests.append((time.monotonic(), method, parsed.path, status))
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): the message was created all the same
        if after is not None:
            after()

    def _answer(self, method: str, parsed: urllib.parse.SplitResult, authorization: str, raw: bytes):
        with self._lock:
            failure = self._fail.pop(0) if self._fail else None
        if failure is not None:
            return failure, error_body(20500, "Internal Server Error", failure), None
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if not hmac.compare_digest(authorization.encode(), expected.encode()):
            return 401, error_body(20003, "Authenticate", 401), None
        match = MESSAGES_PATH.match(parsed.path)
        if match is None:
            return 404, error_body(20404, f"The requested resource {parsed.path} was not found", 404), None
        if match["account"] != self.account_sid:
            return 404, error_body(20404, f"The requested resource {parsed.path} was not found", 404), None
        if method == "POST" and match["sid"] is None:
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()}
            return self._create(form)
        if method == "GET" and match["sid"] is None:
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
            return self._list(parsed.path, query)
        if method == "GET":
            with self._lock:
                found = [m for m in self.messages if m["sid"] == match["sid"]]
            if not found:
                return 404, error_body(20404, f"The requested resource {parsed.path} was not found", 404), None
            return 200, self._public(found[0]), None
        return 405, error_body(20004, "Method not allowed", 405), None

    def _create(self, form: dict[str, str]):
        to = form.get("To", "")
        body = form.get("Body", "")
        sender = form.get("From", "")
        service = form.get("MessagingServiceSid", "")
        if not to:
            return 400, error_body(21604, "A 'To' phone number is required.", 400), None
        if not sender and not service:
            return 400, error_body(21603, "A 'From' phone number is required.", 400), None
        if not body and not form.get("MediaUrl"):
            return 400, error_body(21602, "Message body is required.", 400), None
        if not E164.match(to) or to in MAGIC_INVALID:
            return 400, error_body(21211, f"The 'To' number {to} is not a valid phone number.", 400), None
        if service and not re.fullmatch(r"MG[0-9a-f]{32}", service):
            return 400, error_body(21701, f"The Messaging Service Sid {service} is invalid.", 400), None
        if sender and (not E164.match(sender) or (self.numbers is not None and sender not in self.numbers)):
            message = (
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone number or short code "
                "for your account."
            )
            return 400, error_body(21606, message, 400), None
        if len(body) > 1600:
            return 400, error_body(21617, "The concatenated message body exceeds the 1600 character limit.", 400), None
        now = datetime.now(UTC)
        sid = "SM" + secrets.token_hex(16)
        message: dict[str, object] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "_created": time.monotonic(),
            "_callback": form.get("StatusCallback") or None,
        }
        with self._lock:
            self.messages.append(message)
        after = None if self.hold else (lambda: self._progress(message))
        return 201, self._public(message), after

    def _progress(self, message: dict[str, object]) -> None:
        def sent() -> None:
            with self._lock:
                message["status"] = "sent"
                message["date_sent"] = message["date_updated"] = datetime.now(UTC)
            self._post_callback(message, "sent")
            self._later(self.deliver_delay, delivered)

        def delivered() -> None:
            with self._lock:
                message["status"] = "delivered"
                message["date_updated"] = datetime.now(UTC)
            self._post_callback(message, "delivered")

        self._later(self.send_delay, sent)

    def _later(self, delay: float, func) -> None:
        timer = threading.Timer(delay, func)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _post_callback(self, message: dict[str, object], status: str) -> None:
        url = message["_callback"]
        if not url:
            return
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": str(message["from"] or ""),
            "MessageSid": str(message["sid"]),
            "MessageStatus": status,
            "SmsSid": str(message["sid"]),
            "SmsStatus": status,
            "To": str(message["to"]),
        }
        if message.get("messaging_service_sid"):
            params["MessagingServiceSid"] = str(message["messaging_service_sid"])
        self.post_signed(str(url), params)

    def post_signed(self, url: str, params: dict[str, str], *, signature: str | None = None) -> Callback:
        """POST ``params`` to ``url`` signed like Twilio (or with the given signature); records the answer."""
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - our own test URL
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("X-Twilio-Signature", signature or twilio_signature(self.auth_token, url, params))
        request.add_header("User-Agent", "TwilioProxy/1.1")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                code: int | None = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except OSError:
            code = None
        callback = Callback(url, params, code)
        with self._lock:
            self.callbacks.append(callback)
        return callback

    def _list(self, path: str, query: dict[str, str]):
        try:
            page_size = min(1000, max(1, int(query.get("PageSize", "50"))))
            page = max(0, int(query.get("Page", "0")))
        except ValueError:
            return 400, error_body(20001, "Invalid paging parameter", 400), None
        with self._lock:
            chosen = [m for m in self.messages if self._matches(m, query)]
        chosen.sort(key=lambda m: m["date_created"], reverse=True)  # type: ignore[arg-type,return-value]
        window = chosen[page * page_size : (page + 1) * page_size]
        base = {k: v for k, v in query.items() if k not in {"Page", "PageToken", "PageSize"}}

        def uri(number: int) -> str:
            params = {**base, "PageSize": str(page_size), "Page": str(number)}
            if number:
                params["PageToken"] = f"PASM{number}"
            return f"{path}?{urllib.parse.urlencode(params)}"

        more = (page + 1) * page_size < len(chosen)
        payload = {
            "messages": [self._public(m) for m in window],
            "end": page * page_size + max(0, len(window) - 1),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(page - 1) if page else None,
            "start": page * page_size,
            "uri": uri(page),
        }
        return 200, payload, None

    @staticmethod
    def _day(value: str) -> date:
        return date.fromisoformat(value[:10])

    def _matches(self, message: dict[str, object], query: dict[str, str]) -> bool:
        if "To" in query and message["to"] != query["To"]:
            return False
        if "From" in query and message["from"] != query["From"]:
            return False
        sent = message["date_sent"]
        for key, test in (
            ("DateSent", lambda d, q: d == q),
            ("DateSent<", lambda d, q: d <= q),
            ("DateSent>", lambda d, q: d >= q),
        ):
            if key in query:
                if sent is None:
                    return False
                if not test(sent.date(), self._day(query[key])):  # type: ignore[union-attr]
                    return False
        return True

    def _public(self, message: dict[str, object]) -> dict[str, object]:
        with self._lock:
            out = {k: v for k, v in message.items() if not k.startswith("_")}
        for key in ("date_created", "date_updated", "date_sent"):
            out[key] = rfc2822(out[key])  # type: ignore[arg-type]
        return out


@contextlib.contextmanager
def running(**kwargs: object) -> Iterator[FakeTwilio]:
    fake = FakeTwilio(**kwargs).start()  # type: ignore[arg-type]
    try:
        yield fake
    finally:
        fake.stop()
