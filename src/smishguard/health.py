"""``GET /healthz`` and ``GET /readyz`` for load balancers and orchestrators.

* ``/healthz``: the process is alive and answering: 200 ``{"status": "ok"}``, touching nothing else.
* ``/readyz``: this process can serve: the database answers, every migration is applied, and Redis answers when
  one is configured (SMISHGUARD_REDIS_URL).  200 ``{"status": "ready", "checks": {...}}``, else 503 with the
  same ``checks`` naming what is wrong and the usual ``{"error": {"code": "not_ready", "message": ...}}``.

Answered by :class:`HealthMiddleware`, placed in settings.MIDDLEWARE after the security headers and before
everything that does per-request work: no rate limit counts them, no session is looked up, nothing is written
to the audit trail, and the Host header is not checked against ALLOWED_HOSTS (a load balancer probes by
address).  The answers name a failing part and say nothing more (no host name, no error text): they are
unauthenticated.  It lives at the top layer: it looks at every app's migrations and at the rate limits' Redis.

A database that stops answering mid-request (PostgreSQL restarted, a SQLite write lock held past the busy
timeout) ends that request with a 503, not a 500 (:func:`database_outage`, called by the URLconf's handler500),
with ``Retry-After`` and one log line instead of a traceback; the first request served after it logs that the
database answers again.  Nothing is admitted half-done: each request's writes are one transaction.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, HttpResponse

from smishguard.ratelimits.redis_cache import FailoverCounterCache
from smishguard.responses import error_response

HEALTH_PATHS = ("/healthz", "/readyz")
OUTAGE_RETRY_AFTER = 5  # seconds: what a client is told to wait while the database does not answer

log = logging.getLogger(__name__)


class _Outage:
    """When this process last found the database not answering, until a request is served again, and how many
    requests it answered 503 meanwhile."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None
        self.refused = 0

    def begins(self) -> bool:
        with self.lock:
            first = self.since is None
            if first:
                self.since = time.monotonic()
                self.refused = 0
            self.refused += 1
        return first

    def over(self) -> None:
        with self.lock:
            since, self.since = self.since, None
            refused = self.refused
        if since is not None:
            log.warning(
                "database answering again after %.1f s (%d request(s) answered 503 meanwhile)",
                time.monotonic() - since,
                refused,
            )


_outage = _Outage()


def database_outage(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    """The answer to a request that failed because the database did not answer (``OperationalError`` or
    ``InterfaceError``): a 503 with ``Retry-After`` (the JSON error under /api/ and /hooks/, a page elsewhere),
    logged as one line naming the error class; None for any other failure."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    first = _outage.begins()
    message = "the database is not answering; try again shortly"
    if request.path.startswith(("/api/", "/hooks/")):
        response = error_response(503, "database_unavailable", message)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1><p>{message}.</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    response._has_been_logged = True  # (django.utils.log.log_response: this line instead of a traceback)
    log.log(  # the first of an outage is a warning; the others are counted, and said when it is over
        logging.WARNING if first else logging.INFO,
        "database unavailable (%s): %s %s answered 503%s",
        type(exc).__name__,
        request.method,
        request.path[:200],
        "; outage begins" if first else "",
    )
    return response


def answered(status: int) -> None:
    """A request was answered with ``status``: an answer below 500 during an outage says that it is over."""
    if _outage.since is not None and status < 500:
        _outage.over()


def unapplied_migrations() -> int:
    """How many of the code's migrations the database has not recorded as applied: every node of the graph, not
    only the leaves (``migrate --check`` plans from the leaves and misses a gap below an applied one)."""
    loader = MigrationLoader(connection)  # (the graph after squashed migrations are resolved against the database)
    return len(set(loader.graph.nodes) - set(loader.applied_migrations or {}))


def readiness() -> dict[str, str]:
    """Each part's state: "ok", "not configured" (Redis without SMISHGUARD_REDIS_URL), or what is wrong."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        checks["database"] = "unreachable"
        checks["migrations"] = "not checked"
    else:
        checks["database"] = "ok"
        try:
            missing = unapplied_migrations()
        except DatabaseError:
            checks["migrations"] = "not checked"
        else:
            checks["migrations"] = f"{missing} not applied" if missing else "ok"
    counters = caches[settings.RATELIMIT_USE_CACHE]
    if isinstance(counters, FailoverCounterCache):
        checks["redis"] = "ok" if counters.ping() else "unreachable"
    else:
        checks["redis"] = "not configured"
    return checks


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def healthz() -> HttpResponse:
    return _json(200, {"status": "ok"})


def readyz() -> HttpResponse:
    checks = readiness()
    wrong = {part: state for part, state in checks.items() if state not in {"ok", "not configured"}}
    if not wrong:
        return _json(200, {"status": "ready", "checks": checks})
    message = "not ready: " + "; ".join(f"{part} {state}" for part, state in wrong.items())
    return _json(503, {"status": "unavailable", "checks": checks, "error": {"code": "not_ready", "message": message}})


class HealthMiddleware:
    """Answers /healthz and /readyz before any middleware that looks at a session, counts or audits."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in HEALTH_PATHS:
            response = self.get_response(request)
            answered(response.status_code)
            return response
        if request.method not in {"GET", "HEAD"}:
            response = error_response(405, "method_not_allowed", "use GET")
            response["Allow"] = "GET, HEAD"
            return response
        return healthz() if path == "/healthz" else readyz()
