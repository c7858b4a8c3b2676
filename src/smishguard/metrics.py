"""What ``GET /metrics`` shows (Prometheus, prometheus-client): counters kept as things happen, and gauges read
from the database when Prometheus scrapes.

Counters (an increment each, no database query): requests by method, route group and status class
(:class:`RequestMetricsMiddleware`); sign-ins by result (``audit.recorder`` counts each SIGNIN_SUCCEEDED and
SIGNIN_FAILED as it records or only counts it); refusals by reason (any 4xx answer but 404 and 405: the JSON
error's code, which smishguard.responses marks on the response, else a name for the status; Django's CSRF
failure page is marked ``csrf``).  Under ``smishguard serve`` prometheus-client runs in its multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, a fresh folder per start: smishguard.core_cli), so every gunicorn worker's counts add up
in one scrape.

Gauges: a registry of collectors that the apps fill in their ``AppConfig.ready()`` (``register_collector``):
``outbox`` the task queue's depth and the outgoing calls that failed, ``watch`` how far behind each CT log the
watcher is.  Each is a function returning prometheus-client metric families, run at scrape time only.

Layer 0 (settings' layer): every app may count here; the endpoint itself (token, refusals) is
smishguard.metrics_view at the top layer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from smishguard.responses import REFUSAL_ATTRIBUTE

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "smishguard_http_requests",
    "HTTP requests answered, by method, route group and status class",
    ["method", "route", "status"],
    registry=None,
)
SIGNINS = Counter(
    "smishguard_signins",
    "Passkey sign-ins by result: success, or the failure's reason",
    ["result"],
    registry=None,
)
REFUSALS = Counter(
    "smishguard_refusals",
    "Requests refused (4xx but 404 and 405), by reason: the JSON error's code, else a name for the status",
    ["reason"],
    registry=None,
)
COUNTERS = (REQUESTS, SIGNINS, REFUSALS)

# Route groups: (path, or prefix ending in "/"; group), first match wins.  A small fixed set, so that a scanner's
# random paths cannot make new series.
ROUTE_GROUPS: tuple[tuple[str, str], ...] = (
    ("/api/webauthn/login/", "signin"),
    ("/api/webauthn/register/", "enrolment"),
    ("/enrol/", "enrolment"),
    ("/api/authz/", "gateway"),  # the gateway's checks (smishguard.gateway.views): a 401 there is routine
    ("/api/", "api"),
    ("/hooks/", "webhooks"),
    ("/console/", "console"),
    ("/portal/", "portal"),
    ("/static/", "static"),
    ("/healthz", "health"),
    ("/readyz", "health"),
    ("/metrics", "metrics"),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NOT_REFUSALS = frozenset({404, 405})
STATUS_REASONS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    413: "body_too_large",
    429: "rate_limited",
}


def route_group(path: str) -> str:
    for route, group in ROUTE_GROUPS:
        if path.startswith(route) if route.endswith("/") else path == route:
            return group
    return "pages"


def count_request(method: str, path: str, response: HttpResponse) -> None:
    status = response.status_code
    REQUESTS.labels(method if method in METHODS else "other", route_group(path), f"{status // 100}xx").inc()
    if 400 <= status < 500 and status not in NOT_REFUSALS:
        reason = getattr(response, REFUSAL_ATTRIBUTE, None) or STATUS_REASONS.get(status, f"status_{status}")
        REFUSALS.labels(reason).inc()


def count_signin(result: str) -> None:
    """A sign-in's result: ``success`` or the failure's reason (one of passkeys' fixed reasons)."""
    SIGNINS.labels(result or "unknown").inc()


def mark_refusal(response: HttpResponse, reason: str) -> HttpResponse:
    setattr(response, REFUSAL_ATTRIBUTE, reason)
    return response


class RequestMetricsMiddleware:
    """Counts each answer (an increment, nothing else); early in MIDDLEWARE so that it sees every refusal."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        count_request(request.method or "", request.path_info, response)
        return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: Django's own page, marked so that the refusal is counted as ``csrf``."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    return mark_refusal(django_csrf_failure(request, reason=reason), "csrf")


# Collectors: name -> a function returning metric families (GaugeMetricFamily, ...), run at scrape time.
Collect = Callable[[], Iterable[Metric]]
_collectors: dict[str, Collect] = {}


def register_collector(name: str, collect: Collect) -> None:
    """Add (or replace: ``ready()`` may run twice in tests) a scrape-time collector under ``name``."""
    _collectors[name] = collect


def collectors() -> dict[str, Collect]:
    return dict(_collectors)


class _Registered:
    """The registered collectors as one prometheus-client collector; one that fails is logged and left out, and
    ``smishguard_collector_up{collector}`` says which."""

    def describe(self) -> list[Metric]:
        return []  # no names known in advance: the collectors run at scrape time only

    def collect(self) -> Iterable[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily(
            "smishguard_collector_up", "1 if the collector ran at this scrape, else 0", labels=["collector"]
        )
        families: list[Metric] = []
        for name, collect in sorted(_collectors.items()):
            try:
                families.extend(collect())
            except Exception:  # a broken collector must not hide the others
                log.exception("metrics collector %s failed", name)
                up.add_metric([name], 0)
            else:
                up.add_metric([name], 1)
        return [*families, up]


class _Counters:
    """This process's counters (single-process mode: runserver, tests, the CLI)."""

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        for counter in COUNTERS:
            yield from counter.collect()


# prometheus-client picks its mode when it is first imported (values.ValueClass): multiprocess when this is set.
_MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def multiprocess_dir() -> str | None:
    """The folder every worker counts into (set by ``smishguard serve``), or None: counted in this process."""
    return _MULTIPROCESS_DIR


def exposition() -> bytes:
    """The scrape's body (Prometheus text format): the counters (summed over the workers in multiprocess mode)
    and the registered collectors."""
    registry = CollectorRegistry(auto_describe=False)
    path = multiprocess_dir()
    if path:
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(_Counters())
    registry.register(_Registered())
    return generate_latest(registry)
