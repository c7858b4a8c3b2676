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
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, HttpResponse

from smishguard.ratelimits.redis_cache import FailoverCounterCache
from smishguard.responses import error_response

HEALTH_PATHS = ("/healthz", "/readyz")


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
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            response = error_response(405, "method_not_allowed", "use GET")
            response["Allow"] = "GET, HEAD"
            return response
        return healthz() if path == "/healthz" else readyz()
