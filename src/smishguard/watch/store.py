"""What the watcher writes: alerts with their batch's checkpoint in one transaction, refusals, errors.

Every function here is one short transaction (SQLite allows one writer at a time; with several logs read in
parallel each thread holds the write lock only for the length of its own commit).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.config import simulation_domain
from smishguard.engine.ct import LogInfo, TreeHead
from smishguard.watch.matching import Hit
from smishguard.watch.models import LogState, LookalikeAlert, Sighting, SinkDelivery
from smishguard.watch.sinks import record_webhook

log = logging.getLogger("smishguard.watch")

WATCHER = "ct-watcher"  # the audit actor of what the watcher records


@dataclass(frozen=True, slots=True)
class SinkTarget:
    sink: str  # SinkDelivery.Sink
    target: str
    max_attempts: int = 8


@dataclass(frozen=True, slots=True)
class Where:
    """The source of a batch of hits: for a sighting's key, and to describe the alert."""

    source: str  # LogState.key, or the certstream source's name
    log: str  # a description people read
    log_url: str = ""


def state_key(log_info: LogInfo) -> str:
    return log_info.log_id_b64


def ensure_state(log_info: LogInfo) -> tuple[LogState, bool]:
    """The checkpoint of ``log_info`` (created at 0 if new); the bool says whether it was created."""
    state, created = LogState.objects.get_or_create(
        key=state_key(log_info),
        defaults={
            "log_id": log_info.log_id_b64,
            "description": log_info.description,
            "url": log_info.url,
            "api": log_info.api,
        },
    )
    if not created and (state.description != log_info.description or state.url != log_info.url):
        LogState.objects.filter(pk=state.pk).update(description=log_info.description, url=log_info.url)
        state.description, state.url = log_info.description, log_info.url
    return state, created


def ensure_replay_state(path: str) -> LogState:
    """The row ``watch status`` shows for a replay of ``path`` ("-": standard input), its last error cleared:
    a replay has no checkpoint (it is read from its start each time), but what it read is kept."""
    shown = "standard input" if path == "-" else os.path.abspath(path)
    state, _ = LogState.objects.update_or_create(
        key=f"replay:{'-' if path == '-' else shown}",
        defaults={
            "description": f"replay {shown}",
            "url": shown,
            "api": LogState.Api.REPLAY,
            "next_index": 0,
            "last_error": "",
            "last_error_at": None,
            "updated_at": timezone.now(),
        },
    )
    return state


def ensure_stream_state(url: str) -> LogState:
    state, _ = LogState.objects.get_or_create(
        key=f"certstream:{url}", defaults={"description": f"certstream {url}", "url": url, "api": "certstream"}
    )
    return state


def _tree_fields(head: TreeHead | None) -> dict[str, object]:
    if head is None:
        return {}
    return {"tree_size": head.tree_size, "tree_head_at": head.timestamp, "root_hash": head.root_hash.hex()}


def set_position(key: str, next_index: int, head: TreeHead | None) -> None:
    """Place a new log's checkpoint (``--start head``) without reading anything."""
    LogState.objects.filter(key=key).update(next_index=next_index, updated_at=timezone.now(), **_tree_fields(head))


def note_tree_head(key: str, head: TreeHead | None) -> None:
    """Remember the last verified tree head while caught up (the lag shown in the console stays true)."""
    if head is not None:
        LogState.objects.filter(key=key).update(updated_at=timezone.now(), **_tree_fields(head))


def commit(
    hits: Sequence[Hit],
    *,
    where: Where,
    sinks: Iterable[SinkTarget] = (),
    state: str | None = None,
    next_index: int | None = None,
    head: TreeHead | None = None,
    entries_read: int = 0,
) -> list[LookalikeAlert]:
    """Store ``hits`` and (for a log) move its checkpoint to ``next_index``, all in one transaction.

    Returns the alerts this call created: one per certificate and registrable lookalike domain (a name
    already alerted on gets a sighting of that alert instead, once per certificate, and adds its new names).
    Each new alert is owed to every sink: its deliveries are created here, and a webhook's task is queued here
    too, so that the alert, its deliveries and the checkpoint commit together or not at all.
    """
    sinks = tuple(sinks)
    now = timezone.now()
    created: list[LookalikeAlert] = []
    simulation = simulation_domain(settings.SMISHGUARD)  # the drills' own host: never an alert
    with transaction.atomic():
        for hit in hits:
            entry, result = hit.entry, hit.result
            if simulation and result.registrable == simulation:
                continue
            names = list(hit.names or (result.domain,))
            alert = _alert_for(result.registrable, names)
            if alert is None:
                alert = LookalikeAlert.objects.create(
                    domain=result.domain,
                    registrable=result.registrable,
                    brand=result.brand or "",
                    techniques=list(result.techniques),
                    score=result.score,
                    reasons=list(result.reasons),
                    matcher=result.matcher,
                    first_seen=now,
                    last_seen=now,
                    times_seen=1,
                    log=where.log,
                    log_url=where.log_url,
                    entry_index=entry.index,
                    entry_kind=entry.kind,
                    logged_at=entry.timestamp,
                    issuer=entry.issuer,
                    not_before=entry.not_before,
                    names=list(entry.names),
                    lookalike_names=names,
                )
                _sighting(alert, hit, where, now)
                for target in sinks:
                    delivery = SinkDelivery.objects.create(alert=alert, sink=target.sink, target=target.target)
                    if target.sink == SinkDelivery.Sink.WEBHOOK:
                        record_webhook(delivery, target.max_attempts)
                created.append(alert)
            elif _sighting(alert, hit, where, now):
                known = list(alert.lookalike_names or [alert.domain])
                more = [n for n in names if n not in known]
                changes: dict[str, object] = {"times_seen": F("times_seen") + 1, "last_seen": now}
                if more or not alert.lookalike_names:
                    changes["lookalike_names"] = known + more
                LookalikeAlert.objects.filter(pk=alert.pk).update(**changes)
        if state is not None:
            fields: dict[str, object] = {
                "entries_read": F("entries_read") + entries_read,
                "alerts_raised": F("alerts_raised") + len(created),
                "updated_at": now,
                "last_error": "",
                **_tree_fields(head),
            }
            if next_index is not None:
                fields["next_index"] = next_index
            LogState.objects.filter(key=state).update(**fields)
    return created


def _alert_for(registrable: str, names: list[str]) -> LookalikeAlert | None:
    """The alert that already covers one of ``names``: by its domain, else by the names it lists (a later
    certificate for only the ``www.`` of an alerted domain joins that alert)."""
    alert = LookalikeAlert.objects.filter(domain__in=names).order_by("pk").first()
    if alert is not None:
        return alert
    wanted = set(names)
    for candidate in LookalikeAlert.objects.filter(registrable=registrable).order_by("pk"):
        if wanted & set(candidate.lookalike_names or ()):
            return candidate
    return None


def _sighting(alert: LookalikeAlert, hit: Hit, where: Where, now) -> bool:
    _, made = Sighting.objects.get_or_create(
        alert=alert,
        source=where.source,
        entry_index=hit.entry.index,
        defaults={"log": where.log, "issuer": hit.entry.issuer, "not_before": hit.entry.not_before, "seen_at": now},
    )
    return made


def set_status(alert: LookalikeAlert, new: str, *, actor: Any = None, request: Any = None, why: str = "") -> bool:
    """An analyst's status for ``alert`` (open, acknowledged, false positive), audited; False when unchanged.

    A false positive is left out of the blocklists (``reports.blocklists``): the console asks for a fresh key
    touch before it (as for any removal from the blocklists).
    """
    if new not in LookalikeAlert.Status.values:
        raise ValueError(new)
    if new == alert.status:
        return False
    with transaction.atomic():
        old = alert.status
        alert.status = new
        alert.status_changed_at = timezone.now()
        alert.status_changed_by = getattr(actor, "email", "") or "cli"
        alert.save(update_fields=["status", "status_changed_at", "status_changed_by"])
        detail: dict[str, Any] = {"alert_id": alert.pk, "old": old, "new": new}
        if why:
            detail["why"] = why
        record(Action.WATCH_ALERT_STATUS_CHANGED, request=request, actor=actor, subject_label=alert.domain, **detail)
    return True


def record_error(key: str, message: str) -> None:
    LogState.objects.filter(key=key).update(last_error=message[:2000], last_error_at=timezone.now())


def record_refusal(key: str, message: str, *, url: str = "") -> bool:
    """A tree head failed verification: note it on the log's state, and in the audit trail the first time
    in a row (a log that keeps failing is not re-audited every poll).  The checkpoint does not move."""
    text = f"tree head refused: {message}"[:2000]
    with transaction.atomic():
        state = LogState.objects.filter(key=key).first()
        if state is None:
            return False
        first = state.last_error != text
        LogState.objects.filter(pk=state.pk).update(last_error=text, last_error_at=timezone.now())
        if first:
            record(
                Action.WATCH_TREE_HEAD_REFUSED,
                actor_label=WATCHER,
                subject_label=state.description or key,
                log_id=state.log_id,
                url=url or state.url,
                position=state.next_index,
                verified_tree_size=state.tree_size,
                error=message,
            )
    return first
