"""The one module that imports the official ``twilio`` SDK.

Everything else in smishguard calls :func:`send_sms`, :func:`list_messages` and :func:`validate_request` and
sees our own exceptions (:mod:`smishguard.messaging.errors`), never the SDK's.

``SMISHGUARD_TWILIO_API_BASE`` points the SDK at another host (the tests' Twilio-compatible server on
127.0.0.1): the SDK has no base-URL setting, so :class:`RebasingHttpClient` rewrites ``https://api.twilio.com``
in each request URL.  Unset, requests go to Twilio itself.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass
from datetime import datetime

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageList  # noqa: F401 - loaded now, not in a timed send
from twilio.twiml.messaging_response import MessagingResponse

from smishguard.config import TwilioSettings
from smishguard.messaging.errors import (
    InvalidNumber,
    ProviderNotConfigured,
    ProviderRefused,
    ProviderUnavailable,
)

log = logging.getLogger("smishguard.messaging")

TWILIO_API = "https://api.twilio.com"
INVALID_TO_NUMBER = 21211  # "The 'To' number is not a valid phone number"


@dataclass(frozen=True)
class ProviderMessage:
    """One message as Twilio lists it."""

    sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: datetime | None
    date_sent: datetime | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class RebasingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending what it would send to api.twilio.com to ``api_base`` instead."""

    def __init__(self, api_base: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: object, **kwargs: object) -> Response:
        if url.startswith(TWILIO_API):
            url = self.api_base + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def _settings() -> TwilioSettings:
    from django.conf import settings

    return settings.SMISHGUARD.twilio


@functools.lru_cache(maxsize=4)
def _client_for(account_sid: str, auth_token: str, api_base: str | None, timeout: float) -> Client:
    http_client = RebasingHttpClient(api_base, timeout=timeout) if api_base else TwilioHttpClient(timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)


def client(config: TwilioSettings | None = None) -> Client:
    config = config or _settings()
    if not (config.account_sid and config.auth_token):
        raise ProviderNotConfigured(
            "Twilio is not configured: set SMISHGUARD_TWILIO_ACCOUNT_SID and SMISHGUARD_TWILIO_AUTH_TOKEN"
        )
    return _client_for(config.account_sid, config.auth_token, config.api_base, config.timeout_seconds)


def default_sender(config: TwilioSettings | None = None) -> str:
    config = config or _settings()
    if config.from_numbers:
        return config.from_numbers[0]
    if config.messaging_service_sid:
        return config.messaging_service_sid
    raise ProviderNotConfigured("no sender: set SMISHGUARD_TWILIO_FROM or SMISHGUARD_TWILIO_MESSAGING_SERVICE_SID")


def _translate(exc: Exception) -> Exception:
    """The SDK's (and requests') failure as one of our narrow exceptions."""
    if isinstance(exc, TwilioRestException):
        status = int(exc.status or 0)
        message = str(exc.msg or f"Twilio answered {status}")
        code = exc.code if isinstance(exc.code, int) and exc.code != status else None
        if code == INVALID_TO_NUMBER:
            return InvalidNumber(message, code=code, status=status)
        if status >= 500 or status == 429:
            return ProviderUnavailable(message, code=code, status=status)
        return ProviderRefused(message, code=code, status=status)
    if isinstance(exc, requests.RequestException):
        return ProviderUnavailable(f"cannot reach Twilio: {exc.__class__.__name__}")
    # TwilioException without a status: e.g. "Unable to fetch page" carrying the response.
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    if status is not None and 400 <= status < 500 and status != 429:
        return ProviderRefused(f"Twilio answered {status}", status=status)
    return ProviderUnavailable(f"Twilio failed: {exc.args[0] if exc.args else exc.__class__.__name__}", status=status)


def send_sms(to: str, body: str, status_callback: str | None = None, *, sender: str | None = None) -> str:
    """Send one SMS; returns Twilio's message SID.

    ``sender`` is a sending number (E.164) or a Messaging Service SID (``MG...``); default: the first
    configured number, else the Messaging Service.
    """
    sender = sender or default_sender()
    kwargs: dict[str, str] = {"to": to, "body": body}
    if sender.startswith("MG"):
        kwargs["messaging_service_sid"] = sender
    else:
        kwargs["from_"] = sender
    if status_callback:
        kwargs["status_callback"] = status_callback
    try:
        message = client().messages.create(**kwargs)
    except (TwilioException, requests.RequestException) as exc:
        raise _translate(exc) from exc
    return str(message.sid)


def list_messages(
    *, to: str, date_sent_after: datetime | None = None, limit: int = 100, page_size: int = 50
) -> list[ProviderMessage]:
    """Messages Twilio holds for recipient ``to`` (newest first), optionally sent on or after a date.

    Twilio filters ``DateSent>`` by day; callers compare times themselves.  A message Twilio has not yet sent
    has no ``date_sent`` and is left out by that filter: list without it to see those.
    """
    kwargs: dict[str, object] = {"to": to, "limit": limit, "page_size": page_size}
    if date_sent_after is not None:
        kwargs["date_sent_after"] = date_sent_after
    try:
        records = client().messages.list(**kwargs)
    except (TwilioException, requests.RequestException) as exc:
        raise _translate(exc) from exc
    return [
        ProviderMessage(
            sid=str(m.sid),
            to=str(m.to or ""),
            from_=str(m.from_ or ""),
            body=str(m.body or ""),
            status=str(m.status or ""),
            date_created=m.date_created,
            date_sent=m.date_sent,
        )
        for m in records
    ]


def validate_request(url: str, params: object, signature: str | None, *, auth_token: str | None = None) -> bool:
    """True when ``signature`` (the X-Twilio-Signature header) signs ``url`` and the POST ``params``."""
    token = auth_token if auth_token is not None else _settings().auth_token
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(url, params, signature))


def compute_signature(url: str, params: object, *, auth_token: str) -> str:
    """The X-Twilio-Signature Twilio would send for ``url`` and ``params`` (used by the test server)."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def twiml_message(text: str | None) -> str:
    """A TwiML document answering with one SMS (or with nothing when ``text`` is empty)."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
