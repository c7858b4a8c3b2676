"""Record, attempt, mark, retry and recover: the one code path of every outgoing call.

1. :func:`record` writes the delivery (unique idempotency key: recording it twice sends nothing twice) and queues
   the ONE task, :func:`deliver`, in the caller's transaction: the call is owed exactly when the caller commits.
2. The task claims the delivery with a conditional update ``pending -> sending`` (``attempts`` + 1,
   ``attempted_at`` the moment of the call), committed BEFORE the call: two workers never both make it.
3. The call (the kind's ``send``).
4. The mark: ``delivered`` with the provider's reference, or ``failed``, or back to ``pending`` with a back-off
   (:func:`smishguard.webhooks.backoff`: 5 s, 10 s, ... 10 min) when a retry may help.

A process that dies between 2 and 4 leaves the delivery ``sending``.  Once it is older than the kind's lease (no
live worker can still be in the call) it is *in doubt*, and before anything else it is reconciled: a kind with a
reconciler asks the provider (found: marked delivered; not found: pending again and sent), a kind without one is
sent again under the same idempotency key, which the receiver uses to drop the repeat.  A failure that may have
taken effect (``SendFailed(in_doubt=True)``: a 5xx at an SMS provider) leaves the delivery ``sending`` and is
retried after the lease, which reconciles first.  :func:`recover` (at worker start and periodically) gives every
unfinished delivery whose task was lost a live task again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from smishguard.outbox import registry
from smishguard.outbox.errors import ReconcileUnavailable, SendFailed, UnknownKind
from smishguard.outbox.models import Delivery
from smishguard.outbox.registry import Kind

log = logging.getLogger("smishguard.outbox")

Status = Delivery.Status


# --- 1. record ---------------------------------------------------------------------------------------------------


def record(
    kind: str,
    key: str,
    *,
    target_id: int | None = None,
    payload: dict[str, Any] | None = None,
    max_attempts: int | None = None,
) -> tuple[Delivery, bool]:
    """Record one outgoing call under its idempotency ``key`` and queue its delivery; (delivery, created).

    A key recorded before is left as it is (nothing is queued twice).  Call it inside the transaction that makes
    the call owed, so that both commit or neither does."""
    registry.get(kind)  # an unregistered kind fails here, in the caller, not later in the worker
    with transaction.atomic():
        delivery, created = Delivery.objects.get_or_create(
            key=key,
            defaults={"kind": kind, "target_id": target_id, "payload": payload or {}, "max_attempts": max_attempts},
        )
        if created:
            enqueue(delivery)
    return delivery, created


@task()
def deliver(delivery_id: int) -> str:
    """Make (or reconcile, then make) one outgoing call of any kind; returns what happened."""
    return attempt(delivery_id)


def enqueue(delivery: Delivery, *, run_after: datetime | None = None) -> str:
    """Queue an attempt at ``delivery`` (in the caller's transaction); remembers the task on it.  Always safe:
    an attempt at a delivery already claimed, delivered or failed does nothing."""
    runner = deliver if run_after is None else deliver.using(run_after=run_after)
    result = runner.enqueue(delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(task_id=str(result.id))
    delivery.task_id = str(result.id)
    return str(result.id)


# --- 2-4. attempt ------------------------------------------------------------------------------------------------


def _lease(kind: Kind) -> timedelta:
    return timedelta(seconds=kind.lease_seconds())


def in_doubt(delivery: Delivery, *, now: datetime | None = None) -> bool:
    """A ``sending`` delivery that no live worker can still be calling (claimed longer ago than the lease)."""
    if delivery.status != Status.SENDING or delivery.attempted_at is None:
        return False
    return delivery.attempted_at <= (now or timezone.now()) - _lease(registry.get(delivery.kind))


class _Taken(Exception):
    """Another worker claimed the delivery first."""


def attempt(delivery_id: int) -> str:
    """One attempt, following the protocol above.  Returns what happened (for the task's result)."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    kind = registry.get(delivery.kind)
    if delivery.status == Status.SENDING:
        if not in_doubt(delivery):
            return "in_flight"  # another worker is in the call; the recovery pass looks again later
        try:
            if _reconcile(delivery, kind):
                return "reconciled"
        except ReconcileUnavailable as exc:
            _still_in_doubt(delivery, kind, exc)
            return "provider_unavailable"
        delivery.refresh_from_db()
    if delivery.status != Status.PENDING:
        return str(delivery.status)
    try:
        with transaction.atomic():
            at = kind.pace(delivery) if kind.pace is not None else timezone.now()
            claimed = Delivery.objects.filter(pk=delivery.pk, status=Status.PENDING).update(
                status=Status.SENDING,
                attempts=F("attempts") + 1,
                attempted_at=at,
                next_attempt_at=None,
                updated_at=timezone.now(),
            )
            if not claimed:
                raise _Taken
            delivery.refresh_from_db()
            kind.on_change(delivery, registry.CLAIMED, None)
    except _Taken:
        return "taken"  # another worker claimed it between our read and our update (its pace slot is not used)
    try:
        reference = kind.send(delivery)
    except SendFailed as exc:
        return _after_failure(delivery, kind, exc)
    _mark_delivered(delivery, kind, reference)
    return "delivered"


def _reconcile(delivery: Delivery, kind: Kind) -> bool:
    """Settle an in-doubt delivery.  True: the call took effect (now marked); False: it did not (pending again)."""
    reference = kind.reconcile(delivery) if kind.reconcile is not None else None
    if reference is not None:
        log.info("reconciled %s %s: the provider has it as %s", delivery.kind, delivery.pk, reference)
        _mark_delivered(delivery, kind, reference)
        return True
    if kind.reconcile is not None:
        log.info("reconciled %s %s: the provider has no such call; sending again", delivery.kind, delivery.pk)
    with transaction.atomic():
        moved = Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            status=Status.PENDING, updated_at=timezone.now()
        )
        if moved:
            delivery.refresh_from_db()
            kind.on_change(delivery, registry.REQUEUED, None)
    return False


def _mark_delivered(delivery: Delivery, kind: Kind, reference: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        marked = Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            status=Status.DELIVERED, provider_ref=reference or "", delivered_at=now, updated_at=now, last_error=""
        )
        if marked:
            delivery.refresh_from_db()
            kind.on_change(delivery, registry.DELIVERED, None)


def _mark_failed(delivery: Delivery, kind: Kind, exc: Exception) -> None:
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED, last_error=str(exc)[:2000], updated_at=timezone.now()
        )
        delivery.refresh_from_db()
        kind.on_change(delivery, registry.FAILED, exc)
    log.warning("%s %s failed after %d attempt(s): %s", delivery.kind, delivery.key, delivery.attempts, exc)


def _max_attempts(delivery: Delivery, kind: Kind) -> int:
    return delivery.max_attempts or kind.max_attempts()


def _after_failure(delivery: Delivery, kind: Kind, exc: SendFailed) -> str:
    delivery.refresh_from_db()
    last = delivery.attempts >= _max_attempts(delivery, kind)
    if not exc.retry:
        _mark_failed(delivery, kind, exc)
        return "failed"
    if exc.in_doubt:
        if last and kind.reconcile is not None:
            # Give up only when the provider positively has no such call; otherwise the next pass tries again.
            try:
                reference = kind.reconcile(delivery)
            except ReconcileUnavailable:
                pass
            else:
                if reference is None:
                    _mark_failed(delivery, kind, exc)
                    return "failed"
                _mark_delivered(delivery, kind, reference)
                return "reconciled"
        elif last:
            _mark_failed(delivery, kind, exc)
            return "failed"
        _still_in_doubt(delivery, kind, exc)
        return "retry"
    if last:
        _mark_failed(delivery, kind, exc)
        return "failed"
    retry_at = timezone.now() + timedelta(seconds=kind.retry_delay(delivery.attempts))
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Status.PENDING, last_error=str(exc)[:2000], next_attempt_at=retry_at, updated_at=timezone.now()
        )
        delivery.refresh_from_db()
        kind.on_change(delivery, registry.RETRY, exc)
        enqueue(delivery, run_after=retry_at)
    log.warning("%s %s: %s (attempt %d; again at %s)", delivery.kind, delivery.key, exc, delivery.attempts, retry_at)
    return "retry"


def _still_in_doubt(delivery: Delivery, kind: Kind, exc: Exception) -> None:
    """The call may have taken effect and the provider cannot say yet: try again (reconciling) after the lease."""
    retry_at = timezone.now() + _lease(kind)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            last_error=str(exc)[:2000], next_attempt_at=retry_at, updated_at=timezone.now()
        )
        delivery.refresh_from_db()
        kind.on_change(delivery, registry.RETRY, exc)
        enqueue(delivery, run_after=retry_at)


# --- recovery ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryReport:
    checked: int
    requeued: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def recover(*, now: datetime | None = None) -> RecoveryReport:
    """Give every unfinished delivery of every kind a live task again.

    A delivery needs one when it is ``pending`` or in doubt (``sending`` past its kind's lease) and its task is
    gone, failed, finished, or RUNNING since before the lease (its worker died: kill -9 leaves the task RUNNING).
    First each kind's ``before_recover`` runs (messaging queues the sends that waited for a Twilio account).
    """
    from django_tasks_db.models import DBTaskResult

    for kind in registry.kinds():
        if kind.before_recover is not None:
            kind.before_recover()
    now = now or timezone.now()
    pending = list(Delivery.objects.filter(status__in=[Status.PENDING, Status.SENDING]))
    tasks = {
        str(row["id"]): row
        for row in DBTaskResult.objects.filter(id__in=[d.task_id for d in pending if d.task_id]).values(
            "id", "status", "started_at"
        )
    }
    requeued = 0
    for delivery in pending:
        try:
            lease_start = now - _lease(registry.get(delivery.kind))
        except UnknownKind:
            log.error("recovery: outbox kind %r is not registered (delivery %s)", delivery.kind, delivery.pk)
            continue
        if delivery.status == Status.SENDING and not in_doubt(delivery, now=now):
            continue
        row = tasks.get(delivery.task_id)
        if row is not None:
            if row["status"] == TaskResultStatus.READY:
                continue
            if row["status"] == TaskResultStatus.RUNNING and (row["started_at"] or now) > lease_start:
                continue
        enqueue(delivery)
        requeued += 1
    if requeued:
        log.warning("recovery: re-queued %d unfinished delivery(ies)", requeued)
    return RecoveryReport(checked=len(pending), requeued=requeued)


def unfinished(*kinds: str) -> int:
    """Deliveries not yet delivered or failed (of the given kinds; of every kind when none is given)."""
    rows = Delivery.objects.filter(status__in=[Status.PENDING, Status.SENDING])
    return rows.filter(kind__in=kinds).count() if kinds else rows.count()
