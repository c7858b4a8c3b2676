"""Background tasks (django-tasks, database backend): webhook delivery of new alerts, off the reader's path.

``smishguard worker`` (or any django-tasks-db worker on the default queue) runs them. Each pending webhook
delivery remembers its task; ``recover_webhooks`` gives a live task back to any delivery whose task is gone,
failed, or stuck RUNNING after its worker died (kill -9 leaves the row RUNNING).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from smishguard.watch import sinks
from smishguard.watch.models import SinkDelivery

log = logging.getLogger("smishguard.watch")

STALE_RUNNING = timedelta(minutes=5)  # a POST times out after 10 s: a task RUNNING this long lost its worker
DEFAULT_ATTEMPTS = 8


@task()
def deliver_alert_webhook(delivery_id: int, max_attempts: int = DEFAULT_ATTEMPTS) -> str:
    """POST one new alert to its webhook; a failure re-queues itself with backoff (see ``sinks``)."""
    return sinks.deliver_webhook(delivery_id, max_attempts)


def enqueue_webhook(delivery_id: int, max_attempts: int, *, run_after: datetime | None = None) -> str:
    """Queue the delivery (in the caller's transaction) and remember the task on the delivery."""
    runner = deliver_alert_webhook if run_after is None else deliver_alert_webhook.using(run_after=run_after)
    result = runner.enqueue(delivery_id, max_attempts)
    SinkDelivery.objects.filter(pk=delivery_id).update(task_id=str(result.id))
    return str(result.id)


def recover_webhooks(*, now: datetime | None = None, max_attempts: int = DEFAULT_ATTEMPTS) -> int:
    """Re-queue every pending webhook delivery that has no live task; returns how many."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    pending = list(
        SinkDelivery.objects.filter(sink=SinkDelivery.Sink.WEBHOOK, status=SinkDelivery.Status.PENDING).values_list(
            "pk", "task_id"
        )
    )
    if not pending:
        return 0
    tasks = {
        str(row["id"]): row
        for row in DBTaskResult.objects.filter(id__in=[t for _, t in pending if t]).values("id", "status", "started_at")
    }
    requeued = 0
    for pk, task_id in pending:
        row = tasks.get(task_id)
        if row is not None:
            if row["status"] == TaskResultStatus.READY:
                continue
            if row["status"] == TaskResultStatus.RUNNING and (row["started_at"] or now) > now - STALE_RUNNING:
                continue
        enqueue_webhook(pk, max_attempts)
        requeued += 1
    if requeued:
        log.warning("webhook recovery: re-queued %d delivery(ies) whose task was lost", requeued)
    return requeued
