"""The kinds of outgoing call, registered by the apps that own them in their ``AppConfig.ready()``.

A kind says how to make its call (``send``), optionally how to ask the provider whether an in-doubt call took
effect (``reconcile``: an SMS asks Twilio; a webhook has none, so it is sent again and the receiver drops the
repeat by its ``Idempotency-Key``), how many attempts it gets, how long a claimed call may be in flight before it
is in doubt (``lease``), and what to do on each change of state (``on_change``: mirror it onto the app's own
record, write its timeline and audit rows, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from smishguard.outbox.errors import UnknownKind
from smishguard.webhooks import backoff

if TYPE_CHECKING:
    from smishguard.outbox.models import Delivery

# What ``on_change`` is told: the delivery was claimed (the call is next), delivered, failed for good, will be
# retried (back to pending, or still in doubt), or was found not sent by a reconcile (back to pending).
CLAIMED = "claimed"
DELIVERED = "delivered"
FAILED = "failed"
RETRY = "retry"
REQUEUED = "requeued"


def _no_change(delivery: Delivery, change: str, error: Exception | None) -> None:  # noqa: ARG001 - the hook's shape
    return None


@dataclass(frozen=True)
class Kind:
    name: str
    send: Callable[[Delivery], str]
    """Make the call for a claimed delivery; returns the provider's reference (may be ""); raises SendFailed."""
    reconcile: Callable[[Delivery], str | None] | None = None
    """For an in-doubt delivery: the provider's reference if the call took effect, None if it did not; raises
    ReconcileUnavailable when the provider cannot be asked.  None: the call is simply made again."""
    max_attempts: Callable[[], int] = lambda: 8
    lease_seconds: Callable[[], float] = lambda: 300.0
    """How long a claimed call may take before it is in doubt (longer than the call's own timeout)."""
    retry_delay: Callable[[int], float] = backoff
    """Seconds before the next attempt after ``attempts`` failed ones (a failure that is not in doubt)."""
    pace: Callable[[Delivery], datetime] | None = None
    """In the claim's transaction: reserve the moment of the call (a rate limit); the sender waits for it."""
    on_change: Callable[[Delivery, str, Exception | None], None] = _no_change
    before_recover: Callable[[], object] | None = None
    """Run at the start of each recovery pass (messaging queues the sends that waited for a Twilio account)."""
    poll: Callable[[], object] | None = None
    """Run on every pass of the worker's loop: a kind that finds its own work records it (the SIEM streams); a
    true result (work recorded) makes the loop go round again at once instead of sleeping."""


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Register (or replace, for a test) a kind; in registration order."""
    _kinds[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Forget a kind (a test's own kind, once the test is over)."""
    _kinds.pop(name, None)


def get(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownKind(f"no outbox kind {name!r} is registered") from None


def kinds() -> list[Kind]:
    return list(_kinds.values())
