"""Each stream's next batch: chosen in audit id order, recorded in the outbox, and the position moved on delivery.

**Order, and PostgreSQL's late commits.**  Audit ids come from a sequence: on PostgreSQL a transaction that took id
10 may commit after one that took id 11, so for a moment 11 is visible and 10 is not.  A stream therefore only
takes events at least ``[siem] horizon_seconds`` old (5 s; an event's ``at`` is when it was recorded, inside its
transaction), in id order; an id that is absent when the stream moves past it is *skipped* and watched for
``[siem] late_window_seconds`` (an hour).  A rolled-back transaction's id never comes; a transaction that committed
later than the horizon after recording does, and its event is then sent with the next batch, marked ``late``
(``"late": true`` in JSON, ``late="true"`` in syslog), so it is not lost, but out of order; ``smishguard siem status``
counts them.  On SQLite one writer at a time commits ids in order: nothing is ever late there.  (Rejected: an
outbox row written with every audit row, which would cost the sign-in path a write per stream, and whose own ids
commit out of order just the same.)

**One batch at a time.**  A stream has at most one unfinished delivery; its outbox key is ``siem:<name>:<n>`` after
``n`` delivered batches, so two workers that look at once record the same batch once.  The delivery is retried
with the outbox's back-off (5 s doubling to 10 minutes) for as long as it takes: it never fails for good, so
nothing after it is sent before it.  Its ``on_change`` moves the stream in the transaction that marks it delivered.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Max
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.audit.models import Event
from smishguard.config import SiemStream
from smishguard.outbox import queue, registry
from smishguard.outbox.errors import SendFailed
from smishguard.outbox.models import Delivery
from smishguard.siem import formats, transports
from smishguard.siem.errors import StreamFailed
from smishguard.siem.models import Stream

log = logging.getLogger("smishguard.siem")

KIND = "siem"
# Never given up: a batch that failed for good would let the next one overtake it.  (Back-off caps at 10 min.)
MAX_ATTEMPTS = 10**6
LEASE_SECONDS = 4 * transports.TIMEOUT  # connect, send, and the wait for the receiver to close, with room
SKIPPED_KEPT = 10_000  # at most this many skipped ids are watched per stream (the highest)

UNFINISHED = (Delivery.Status.PENDING, Delivery.Status.SENDING)


def streams() -> tuple[SiemStream, ...]:
    return settings.SMISHGUARD.siem.streams


def stream_row(config: SiemStream) -> Stream:
    """The stream's position, made at its first use: at 0 (``start = "beginning"``) or the newest event (``now``)."""
    row = Stream.objects.filter(name=config.name).first()
    if row is None:
        position = 0
        if config.start == "now":
            position = Event.objects.aggregate(newest=Max("id"))["newest"] or 0
        with transaction.atomic():
            row, created = Stream.objects.get_or_create(name=config.name, defaults={"position": position})
            if created:  # the SOC sees where each stream began (and that "now" left the past out)
                record(
                    Action.SIEM_STREAM_STARTED,
                    actor_label="siem",
                    subject_label=config.name,
                    kind=config.kind,
                    target=config.target,
                    start=config.start,
                    position=position,
                )
    return row


def unfinished(row: Stream) -> Delivery | None:
    return Delivery.objects.filter(kind=KIND, target_id=row.pk, status__in=UNFINISHED).order_by("id").first()


def pump(config: SiemStream, *, now: datetime | None = None) -> Delivery | None:
    """Record the stream's next batch in the outbox (and queue its delivery); None when one is still unfinished
    or there is nothing to send yet."""
    now = now or timezone.now()
    rules = settings.SMISHGUARD.siem
    row = stream_row(config)
    if unfinished(row) is not None:
        return None
    late = []
    if row.skipped:
        watched = [int(key) for key in row.skipped]
        found = Event.objects.filter(id__in=watched).order_by("id").values_list("id", flat=True)
        late = list(found[: config.batch_size])  # any more go with the next batch (still watched till then)
    horizon = now - timedelta(seconds=rules.horizon_seconds)
    watch_since = now - timedelta(seconds=rules.late_window_seconds)
    fresh: list[int] = []
    skipped: list[int] = []
    previous = row.position
    room = max(0, config.batch_size - len(late))
    for event_id, at in Event.objects.filter(id__gt=row.position).order_by("id").values_list("id", "at")[:room]:
        if at > horizon:
            break  # younger than the horizon: a lower id may still commit
        if at >= watch_since:  # an absent id below an old event is not watched: its transaction would be older
            skipped.extend(range(max(previous + 1, event_id - SKIPPED_KEPT), event_id))
        fresh.append(event_id)
        previous = event_id
    if not late and not fresh:
        return None
    last = fresh[-1] if fresh else row.position
    skipped = skipped[-SKIPPED_KEPT:]
    payload = {"stream": config.name, "ids": fresh, "late": late, "skipped": skipped, "last": last}
    delivery, created = queue.record(
        KIND, f"siem:{config.name}:{row.batches}", target_id=row.pk, payload=payload, max_attempts=MAX_ATTEMPTS
    )
    return delivery if created else None


def pump_all() -> int:
    """The worker's pass: record the next batch of every configured stream; returns how many were recorded."""
    recorded = 0
    for config in streams():
        try:
            recorded += pump(config) is not None
        except DatabaseError as exc:  # the database is away: the worker's next pass tries again
            log.warning("siem: stream %s: cannot read the audit trail: %s", config.name, exc)
    return recorded


def _send(delivery: Delivery) -> str:
    payload = delivery.payload
    config = settings.SMISHGUARD.siem.stream(payload["stream"])
    if config is None:
        raise SendFailed(f"stream {payload['stream']!r} is no longer in smishguard.toml", retry=True)
    wanted = [*payload["late"], *payload["ids"]]
    events = {event.pk: event.to_dict() for event in Event.objects.filter(id__in=wanted)}
    items = [(events[i], True) for i in payload["late"] if i in events]
    items += [(events[i], False) for i in payload["ids"] if i in events]
    try:
        if config.kind == "syslog":
            transports.send_syslog(config, formats.syslog_frames(items, config))
            return f"{len(items)} event(s)"
        status = transports.post(config, formats.http_body(items, config), key=f"smishguard-{delivery.key}")
    except StreamFailed as exc:
        raise SendFailed(str(exc), retry=True) from None
    return f"HTTP {status}, {len(items)} event(s)"


def _on_change(delivery: Delivery, change: str, error: Exception | None) -> None:  # noqa: ARG001 - the hook's shape
    """Delivered: move the stream past the batch (in the transaction that marks it), and watch what it skipped."""
    if change != registry.DELIVERED:
        return
    payload = delivery.payload
    now = timezone.now()
    row = Stream.objects.select_for_update().get(pk=delivery.target_id)
    skipped = {key: seen for key, seen in row.skipped.items() if int(key) not in set(payload["late"])}
    for event_id in payload["skipped"]:
        skipped.setdefault(str(event_id), now.timestamp())
    oldest = now.timestamp() - settings.SMISHGUARD.siem.late_window_seconds
    kept = sorted((int(key) for key, seen in skipped.items() if seen >= oldest), reverse=True)[:SKIPPED_KEPT]
    Stream.objects.filter(pk=row.pk).update(
        position=max(row.position, payload["last"]),
        skipped={str(key): skipped[str(key)] for key in kept},
        batches=F("batches") + 1,
        delivered=F("delivered") + len(payload["ids"]) + len(payload["late"]),
        late=F("late") + len(payload["late"]),
        delivered_at=now,
    )


def register() -> None:
    registry.register(
        registry.Kind(
            name=KIND,
            send=_send,
            max_attempts=lambda: MAX_ATTEMPTS,
            lease_seconds=lambda: LEASE_SECONDS,
            on_change=_on_change,
            poll=pump_all,
        )
    )


# --- status ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamStatus:
    name: str
    kind: str
    target: str
    configured: bool
    position: int
    newest: int
    backlog: int  # events after the position
    lag_seconds: float | None  # age of the oldest event after the position (None: no backlog)
    delivered: int
    late: int
    watching: int  # skipped ids still watched for a late commit
    batch: dict[str, Any] | None  # the unfinished batch: its status, attempts, last error, next attempt
    delivered_at: str | None
    behind: bool  # lag over [siem] lag_warning_seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(*, now: datetime | None = None) -> list[StreamStatus]:
    """Every configured stream (and any the database remembers that smishguard.toml no longer names)."""
    now = now or timezone.now()
    rules = settings.SMISHGUARD.siem
    newest = Event.objects.aggregate(newest=Max("id"))["newest"] or 0
    rows = {row.name: row for row in Stream.objects.all()}
    out = []
    names = [c.name for c in rules.streams] + sorted(set(rows) - {c.name for c in rules.streams})
    for name in names:
        config = rules.stream(name)
        row = rows.get(name)
        position = row.position if row is not None else 0
        if row is None and config is not None and config.start == "now":
            position = newest
        after = Event.objects.filter(id__gt=position)
        oldest = after.order_by("id").values_list("at", flat=True).first()  # the next to go (by the id index)
        lag = (now - oldest).total_seconds() if oldest is not None else None
        batch = None
        pending = unfinished(row) if row is not None else None
        if pending is not None:
            batch = {
                "status": pending.status,
                "events": len(pending.payload.get("ids", [])) + len(pending.payload.get("late", [])),
                "attempts": pending.attempts,
                "last_error": pending.last_error,
                "next_attempt_at": pending.next_attempt_at.isoformat() if pending.next_attempt_at else None,
            }
        out.append(
            StreamStatus(
                name=name,
                kind=config.kind if config else "?",
                target=config.target if config else "(no longer in smishguard.toml)",
                configured=config is not None,
                position=position,
                newest=newest,
                backlog=after.count(),
                lag_seconds=round(lag, 1) if lag is not None else None,
                delivered=row.delivered if row else 0,
                late=row.late if row else 0,
                watching=len(row.skipped) if row else 0,
                batch=batch,
                delivered_at=row.delivered_at.isoformat() if row and row.delivered_at else None,
                behind=lag is not None and lag > rules.lag_warning_seconds,
            )
        )
    return out
