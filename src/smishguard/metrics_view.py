"""``GET /metrics``: the Prometheus scrape (smishguard.metrics), behind a bearer token.

No token configured (SMISHGUARD_METRICS_TOKEN_FILE / SMISHGUARD_METRICS_TOKEN: smishguard.config.metrics_token)
and the path does not exist: the request goes on to the URL map, which answers 404.  With one, the request must
carry ``Authorization: Bearer <token>`` (compared in constant time); otherwise 401 with the JSON error.  A refusal
is audited once per source and window (``ops:metrics:refused``, with the number only counted since) and counted
against the token API's limits per address on counters of its own (``metrics-failed``) after it fails, as
login/verify is counted (a good scrape reads and writes no counter): past the limit a refusal is a 429 with
Retry-After.  The token itself (32 characters or more, random) is what keeps guessing out.

Answered by :class:`MetricsMiddleware`, placed after smishguard.health's: no session is looked up, and a scrape
writes nothing.  It lives at the top layer: it uses accounts' rate limits and the audit trail.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from smishguard import metrics
from smishguard.accounts import throttle
from smishguard.audit import Action, record_refusal
from smishguard.responses import error_response

METRICS_PATH = "/metrics"
FAILED_COUNTER = "metrics-failed"  # counters of their own, under the "api" group's limits


def presented_token(request: HttpRequest) -> str | None:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def token_matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _rate_limited(refusal: throttle.Refusal) -> HttpResponse:
    response = error_response(429, "rate_limited", refusal.message)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def scrape(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        response = error_response(405, "method_not_allowed", "use GET")
        response["Allow"] = "GET, HEAD"
        return response
    given = presented_token(request)
    if not token_matches(given, token):
        reason = "missing" if given is None else "wrong"
        record_refusal(Action.METRICS_TOKEN_REFUSED, request=request, kind=reason, reason=reason)
        refusal = throttle.check(request, "api", counter=FAILED_COUNTER)
        if refusal is not None:
            return _rate_limited(refusal)
        response = error_response(401, "not_authenticated", "present the metrics token: Authorization: Bearer <token>")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


class MetricsMiddleware:
    """Answers /metrics when a token is configured; otherwise lets the URL map answer 404."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != METRICS_PATH:
            return self.get_response(request)
        token = settings.METRICS_TOKEN
        if not token:
            return self.get_response(request)
        return scrape(request, token)
