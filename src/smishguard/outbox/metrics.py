"""The outbox's gauges for GET /metrics (registered with smishguard.metrics in ``OutboxConfig.ready()``), read
from the database at scrape time: two grouped counts, nothing per request.

* ``smishguard_queue_tasks{state}``: django-tasks' database queue: ``ready`` (may run now), ``waiting`` (ready
  but scheduled later: a retry's back-off), ``running``.  A ``ready`` count that keeps growing means no
  ``smishguard worker`` is keeping up.
* ``smishguard_outbox_deliveries{kind,status}``: the outgoing calls (SMS, alerts, sinks) by kind and state;
  ``status="failed"`` are the sends that failed for good (every attempt used, or refused by the provider),
  ``status="pending"`` includes those waiting for a retry.
* ``smishguard_outbox_retrying{kind}``: pending calls that have failed at least once and wait for a retry.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.core import GaugeMetricFamily, Metric

from smishguard.outbox.models import Delivery


def queue_depth() -> Iterable[Metric]:
    now = timezone.now()
    ready = Q(status=TaskResultStatus.READY)
    unscheduled = get_date_max()  # django-tasks-db's run_after for "as soon as possible" (as its ready() reads it)
    due = Q(run_after=unscheduled) | Q(run_after__lte=now)
    counts = DBTaskResult.objects.aggregate(
        ready=Count("id", filter=ready & due),
        waiting=Count("id", filter=ready & ~due),
        running=Count("id", filter=Q(status=TaskResultStatus.RUNNING)),
    )
    family = GaugeMetricFamily("smishguard_queue_tasks", "Tasks in the database queue, by state", labels=["state"])
    for state in ("ready", "waiting", "running"):
        family.add_metric([state], counts[state] or 0)
    return [family]


def deliveries() -> Iterable[Metric]:
    by_state = GaugeMetricFamily(
        "smishguard_outbox_deliveries",
        "Outgoing calls by kind and state (failed: sends that failed for good)",
        labels=["kind", "status"],
    )
    retrying = GaugeMetricFamily(
        "smishguard_outbox_retrying", "Outgoing calls that failed at least once and wait for a retry", labels=["kind"]
    )
    kinds: set[str] = set()
    seen: set[tuple[str, str]] = set()
    rows = Delivery.objects.values("kind", "status").annotate(
        n=Count("id"), retries=Count("id", filter=Q(status=Delivery.Status.PENDING, attempts__gt=0))
    )
    retries: dict[str, int] = {}
    for row in rows.order_by():
        kinds.add(row["kind"])
        seen.add((row["kind"], row["status"]))
        by_state.add_metric([row["kind"], row["status"]], row["n"])
        retries[row["kind"]] = retries.get(row["kind"], 0) + row["retries"]
    for kind in sorted(kinds):  # every state of a kind that has any, so a series starts at 0
        for status in Delivery.Status.values:
            if (kind, status) not in seen:
                by_state.add_metric([kind, status], 0)
        retrying.add_metric([kind], retries.get(kind, 0))
    return [by_state, retrying]


def collect() -> Iterable[Metric]:
    return [*queue_depth(), *deliveries()]
