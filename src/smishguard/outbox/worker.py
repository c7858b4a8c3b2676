"""The worker loop behind ``smishguard worker``: django-tasks-db's own worker, plus the outbox's recovery pass.

django-tasks-db's ``Worker`` runs the tasks (claiming each row so that several workers can run side by side);
around it this loop runs :func:`smishguard.outbox.queue.recover` at start and every ``recovery_every`` seconds,
so that the calls a crashed worker left behind are reconciled and finished, whatever their kind, and on every pass
each kind's ``poll`` (a kind that finds its own work: the SIEM streams record their next batches).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.utils.crypto import get_random_string

from smishguard.outbox import queue, registry

log = logging.getLogger("smishguard.outbox")


def default_recovery_every() -> float:
    """Half the shortest lease (a send in doubt is found soon after it is), at most 30 s."""
    leases = [kind.lease_seconds() for kind in registry.kinds()]
    return min([30.0, *(lease / 2 for lease in leases)])


def run(
    *,
    interval: float = 1.0,
    recovery_every: float | None = None,
    until_idle: bool = False,
    unfinished: Callable[[], int] = queue.unfinished,
    timeout: float | None = None,
    queue_names: tuple[str, ...] = ("*",),
    worker_id: str | None = None,
    handle_signals: bool = True,
) -> int:
    """Run background tasks until stopped (SIGINT/SIGTERM), or with ``until_idle`` until ``unfinished()`` is 0.
    ``timeout`` (seconds) stops it in any case.  Returns the number of tasks run."""
    from django_tasks_db.management.commands.db_worker import Worker

    if recovery_every is None:
        recovery_every = default_recovery_every()
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
            queue.recover()
            last_recovery = time.monotonic()
        found = 0  # work a kind's poll recorded: more may be waiting, so the loop does not sleep
        for kind in registry.kinds():
            if kind.poll is not None:
                found += bool(kind.poll())
        worker.run()
        if until_idle and not unfinished():
            break
        if timeout is not None and time.monotonic() - started >= timeout:
            log.warning("worker: stopping after %.0f s with %d call(s) unfinished", timeout, unfinished())
            break
        if not found:
            time.sleep(interval)
    return worker._run_tasks
