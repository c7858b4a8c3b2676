"""A small, polite HTTP client for CT logs on the standard library.

Retries 429 and 5xx answers (and dropped connections and timeouts) with exponential backoff, honouring
``Retry-After``; every request has a bounded timeout and a bounded body size; ``gzip`` bodies (static-CT
data tiles) are decompressed.
"""

from __future__ import annotations

import email.utils
import http.client
import random
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import jsondoc
from .errors import LogRequestFailed, LogUnavailable

USER_AGENT = "smishguard-ct-watcher/0.1"
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: ``attempts`` in all, delays ``base_delay * 2**n`` capped at ``max_delay``.

    A ``Retry-After`` header replaces the computed delay (capped at ``max_retry_after``). ``jitter`` adds up to
    that fraction of the delay at random, so many watchers do not retry in step.
    """

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    timeout: float = 20.0
    jitter: float = 0.1

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        delay = min(self.base_delay * (2**attempt), self.max_delay)
        return delay + (random.uniform(0, delay * self.jitter) if self.jitter else 0.0)  # noqa: S311


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _decode_body(raw: bytes, encoding: str | None, url: str) -> bytes:
    if not encoding or encoding.lower() == "identity":
        return raw
    if encoding.lower() not in ("gzip", "x-gzip"):
        raise LogRequestFailed(f"unsupported Content-Encoding {encoding!r}", url=url)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, MAX_BODY_BYTES)
    except zlib.error as exc:
        raise LogRequestFailed(f"corrupt gzip body: {exc}", url=url) from exc
    if inflater.unconsumed_tail:
        raise LogRequestFailed(f"body larger than {MAX_BODY_BYTES} bytes once decompressed", url=url)
    return body


class HttpClient:
    """GET with retries. ``sleep`` is injectable so tests (and a stopping watcher) control waiting."""

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._user_agent = user_agent
        self.requests = 0  # requests sent, retries included (for the figures line)

    def _once(self, url: str) -> HttpResponse:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in get()
            url, headers={"User-Agent": self._user_agent, "Accept-Encoding": "gzip, identity"}
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.retry.timeout) as response:  # noqa: S310
                raw = response.read(MAX_BODY_BYTES + 1)
                headers = {k.lower(): v for k, v in response.headers.items()}
                status = response.status
        except urllib.error.HTTPError as exc:
            headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
            exc.close()
            return HttpResponse(exc.code, b"", headers)
        if len(raw) > MAX_BODY_BYTES:
            raise LogRequestFailed(f"body larger than {MAX_BODY_BYTES} bytes", url=url)
        return HttpResponse(status, _decode_body(raw, headers.get("content-encoding"), url), headers)

    def get(self, url: str) -> HttpResponse:
        """GET ``url``; return a 2xx response, or raise ``LogRequestFailed`` / ``LogUnavailable``."""
        if not url.startswith(("https://", "http://")):
            raise LogRequestFailed(f"not an http(s) URL: {url!r}", url=url)
        last_problem = ""
        last_status: int | None = None
        for attempt in range(self.retry.attempts):
            retry_after: float | None = None
            try:
                response = self._once(url)
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
                last_problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
                last_status = None
            else:
                if 200 <= response.status < 300:
                    return response
                if response.status == 429 or response.status >= 500:
                    last_problem = f"HTTP {response.status}"
                    last_status = response.status
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                else:
                    raise LogRequestFailed(f"HTTP {response.status} from {url}", url=url, status=response.status)
            if attempt + 1 < self.retry.attempts:
                self._sleep(self.retry.delay(attempt, retry_after))
        raise LogUnavailable(
            f"{url} still failing after {self.retry.attempts} attempts ({last_problem})", url=url, status=last_status
        )

    def get_json(self, url: str) -> Any:
        body = self.get(url).body
        try:
            return jsondoc.loads(body)
        except ValueError as exc:
            raise LogRequestFailed(f"response from {url} is not JSON: {exc}", url=url) from exc
