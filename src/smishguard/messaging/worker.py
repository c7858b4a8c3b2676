"""``smishguard worker``: the outbox's worker loop (:mod:`smishguard.outbox.worker`: django-tasks-db's worker plus
the one recovery pass of every kind), idle when no text message is queued or being sent."""

from __future__ import annotations

from typing import Any

from smishguard.messaging.models import OutboundMessage
from smishguard.outbox import worker as outbox_worker


def unfinished() -> int:
    return OutboundMessage.objects.filter(
        status__in=[OutboundMessage.Status.QUEUED, OutboundMessage.Status.SENDING]
    ).count()


def waiting() -> int:
    """Messages recorded while no Twilio account is configured (sent once one is)."""
    return OutboundMessage.objects.filter(status=OutboundMessage.Status.WAITING).count()


def run(**options: Any) -> int:
    """Run background tasks of every kind until stopped, or with ``until_idle`` until no message is unfinished
    (messages waiting for a Twilio account are not: they cannot be sent until one is configured); see
    :func:`smishguard.outbox.worker.run` for the options.  Returns the number of tasks run."""
    return outbox_worker.run(unfinished=unfinished, **options)
