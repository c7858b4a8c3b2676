"""Outgoing JSON webhooks (security-team alerts, CT alert sinks): one POST, and whether a failure is worth a retry.

The URL of a chat hook is its secret: a message or audit row names it only as ``redact_url(url)``
(``scheme://host/…``).  The outbox (:mod:`smishguard.outbox.webhook`) queues the deliveries and retries them with
``backoff(attempt)``; each POST carries an ``Idempotency-Key`` so a receiver can drop the repeat that a crash
between its answer and our mark can cause.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

from smishguard.redaction import redact_url

TIMEOUT = 10.0
BACKOFF_BASE = 5.0
BACKOFF_MAX = 600.0


class WebhookFailed(Exception):
    """A POST failed; ``retry`` says whether trying again later may help (408/425/429, 5xx, network)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def backoff(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: 5 s, 10 s, 20 s, ... at most 10 minutes."""
    return min(BACKOFF_BASE * 2 ** max(0, attempt - 1), BACKOFF_MAX)


def post_json(url: str, payload: dict[str, object], *, key: str, user_agent: str, timeout: float = TIMEOUT) -> int:
    """POST ``payload`` as JSON; returns the 2xx status or raises ``WebhookFailed``."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - callers accept only http(s) URLs when configured
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key, "User-Agent": user_agent},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        raise WebhookFailed(f"HTTP {exc.code}", retry=exc.code in (408, 425, 429) or exc.code >= 500) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise WebhookFailed(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}", retry=True) from None
    except (ValueError, http.client.InvalidURL):  # their messages for a malformed URL quote it: a secret
        raise WebhookFailed(f"invalid URL {redact_url(url)}", retry=False) from None
