"""Training's periodic work, in the worker: the reminder pass (about once a minute) and the reduction of
simulation results past their retention period (about once an hour).

Both run as the ``poll`` of one outbox kind, ``training-periodic``, which the worker's loop calls on every pass
(outbox kinds are how the apps above the outbox give the worker work); the kind records no deliveries of its
own: the reminders are ``sms`` and ``email`` deliveries.  Each job is throttled per process; what each did is in
the database (an assignment's ``reminded_*_at``, a simulation's ``reduced_at``), so two workers, or a restart,
repeat nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from smishguard.outbox import registry
from smishguard.outbox.errors import SendFailed
from smishguard.training import reminders, retention

KIND = "training-periodic"


@dataclass
class Every:
    """``job`` at most every ``seconds`` in this process (the first call runs it)."""

    seconds: float
    job: Callable[[], object]
    last: float | None = field(default=None)

    def __call__(self) -> int:
        clock = time.monotonic()
        if self.last is not None and clock - self.last < self.seconds:
            return 0
        self.last = clock
        done = self.job()
        return len(done) if isinstance(done, list) else int(done or 0)


JOBS = (Every(60.0, reminders.run), Every(3600.0, retention.reduce_due))


def poll() -> int:
    """What the jobs due now did (reminders sent, simulations reduced): non-zero makes the loop go round again."""
    return sum(job() for job in JOBS)


def _no_delivery(delivery) -> str:
    raise SendFailed(f"{KIND} records no deliveries of its own ({delivery.key})", retry=False)


def register() -> None:
    registry.register(registry.Kind(name=KIND, send=_no_delivery, poll=poll))
