"""Background tasks (django-tasks, database backend) and the recovery pass the worker runs.

``deliver_message`` is idempotent: a duplicate task for a message that is already claimed, sent or failed is a
no-op (see :mod:`smishguard.messaging.sending`), so enqueueing it again is always safe.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from smishguard.messaging import sending
from smishguard.messaging.models import OutboundMessage

log = logging.getLogger("smishguard.messaging")

Status = OutboundMessage.Status


@task()
def deliver_message(message_id: int) -> str:
    """Send (or reconcile, then send) one outbound message."""
    return sending.deliver(message_id)


def enqueue_delivery(message: OutboundMessage, *, run_after: datetime | None = None) -> str:
    """Queue the send of ``message``; remembers the task's id on the message.  Returns the task id."""
    runner = deliver_message if run_after is None else deliver_message.using(run_after=run_after)
    result = runner.enqueue(message.pk)
    OutboundMessage.objects.filter(pk=message.pk).update(task_id=str(result.id))
    return str(result.id)


@dataclass(frozen=True)
class RecoveryReport:
    checked: int
    requeued: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def release_waiting() -> int:
    """Sends recorded while no Twilio account was configured: once one is, give each a sender (round robin over
    the sending numbers, as broadcast does) and queue it.  Returns how many were queued; 0 while none is."""
    from django.conf import settings
    from django.db import transaction

    from smishguard.messaging.broadcast import senders

    if not settings.SMISHGUARD.twilio.configured:
        return 0
    numbers = senders()
    released = 0
    waiting = OutboundMessage.objects.filter(status=Status.WAITING).order_by("pk").values_list("pk", "sender")
    for index, (pk, sender) in enumerate(list(waiting)):
        with transaction.atomic():
            moved = OutboundMessage.objects.filter(pk=pk, status=Status.WAITING).update(
                status=Status.QUEUED, sender=sender or numbers[index % len(numbers)], updated_at=timezone.now()
            )
            if moved:
                enqueue_delivery(OutboundMessage.objects.get(pk=pk))
                released += 1
    if released:
        log.info("a Twilio account is configured: queued %d message(s) that were waiting for one", released)
    return released


def recover(*, now: datetime | None = None) -> RecoveryReport:
    """Give every unfinished message a live task again.

    A message needs one when it is ``queued`` or in doubt (``sending`` past the lease) and its task is gone,
    failed, finished, or RUNNING since before the lease (its worker died: kill -9 leaves the task RUNNING).
    Run at worker start and periodically; first it queues the sends that were waiting for a Twilio account,
    once one is configured.
    """
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    release_waiting()
    config = settings.SMISHGUARD.twilio
    now = now or timezone.now()
    lease_start = now - timedelta(seconds=config.send_lease_seconds)
    pending = list(OutboundMessage.objects.filter(status__in=[Status.QUEUED, Status.SENDING]))
    task_ids = [m.task_id for m in pending if m.task_id]
    tasks = {
        str(row["id"]): row
        for row in DBTaskResult.objects.filter(id__in=task_ids).values("id", "status", "started_at", "run_after")
    }
    requeued = 0
    for message in pending:
        if message.status == Status.SENDING and not sending.in_doubt(message, now=now, config=config):
            continue
        row = tasks.get(message.task_id)
        if row is not None:
            if row["status"] == TaskResultStatus.READY:
                continue
            if row["status"] == TaskResultStatus.RUNNING and (row["started_at"] or now) > lease_start:
                continue
        enqueue_delivery(message)
        requeued += 1
    if requeued:
        log.warning("recovery: re-queued %d unfinished message(s)", requeued)
    return RecoveryReport(checked=len(pending), requeued=requeued)
