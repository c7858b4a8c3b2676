"""The worker loop behind ``smishguard worker``: django-tasks-db's own worker, plus our recovery pass.

django-tasks-db's ``Worker`` runs the tasks (claiming each row so that several workers can run side by side);
around it this loop runs :func:`smishguard.messaging.tasks.recover` at start and every ``recovery_every``
seconds, so that sends a crashed worker left behind are reconciled and finished.
"""

from __future__ import annotations

import logging
import time

from django.utils.crypto import get_random_string

from smishguard.messaging.models import OutboundMessage
from smishguard.messaging.tasks import recover

log = logging.getLogger("smishguard.messaging")


def unfinished() -> int:
    return OutboundMessage.objects.filter(
        status__in=[OutboundMessage.Status.QUEUED, OutboundMessage.Status.SENDING]
    ).count()


def waiting() -> int:
    """Messages recorded while no Twilio account is configured (sent once one is)."""
    return OutboundMessage.objects.filter(status=OutboundMessage.Status.WAITING).count()


def run(
    *,
    interval: float = 1.0,
    recovery_every: float | None = None,
    until_idle: bool = False,
    timeout: float | None = None,
    queue_names: tuple[str, ...] = ("*",),
    worker_id: str | None = None,
    handle_signals: bool = True,
) -> int:
    """Run background tasks until stopped (SIGINT/SIGTERM), or with ``until_idle`` until no message is
    unfinished (messages waiting for a Twilio account are not: they cannot be sent until one is configured).
    ``timeout`` (seconds) stops it in any case.  Returns the number of tasks run."""
    from django.conf import settings
    from django_tasks_db.management.commands.db_worker import Worker

    if recovery_every is None:
        recovery_every = min(30.0, settings.SMISHGUARD.twilio.send_lease_seconds / 2)
    worker = Worker(
        queue_names=list(queue_names),
        interval=0,
        batch=True,  # one pass over the ready tasks per call of run(); this loop does the waiting
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id or get_random_string(32),
        excluded_queue_names=[],
    )
    if handle_signals:
        worker.configure_signals()
    started = time.monotonic()
    last_recovery = float("-inf")
    while worker.running:
        if time.monotonic() - last_recovery >= recovery_every:
            recover()
            last_recovery = time.monotonic()
        worker.run()
        if until_idle and not unfinished():
            break
        if timeout is not None and time.monotonic() - started >= timeout:
            log.warning("worker: stopping after %.0f s with %d message(s) unfinished", timeout, unfinished())
            break
        time.sleep(interval)
    return worker._run_tasks
