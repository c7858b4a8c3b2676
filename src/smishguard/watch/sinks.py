"""Where new alerts go besides the database: a JSON lines file and a webhook.

Each new alert has a ``SinkDelivery`` row per sink, created in the same transaction as the alert.

JSON lines file (written by the watcher, after the commit): pending rows are appended in id order, the file
is flushed and fsync'd, and only then are the rows marked delivered. A crash between the write and the mark
leaves rows pending whose lines are already in the file, so before writing after a start (or after a failed
write) the file is read back and every pending alert whose ``alert_id`` is already there is marked delivered
instead of written again: each alert is in the file exactly once.

Webhook (an outbox kind, ``ct-webhook``, run by the task worker, never by the reader): one POST per attempt, with
an ``Idempotency-Key`` header naming the delivery; a 429, 5xx, timeout or refused connection is retried with
back-off (5 s, 10 s, ... up to 10 min) until ``max_attempts`` (:mod:`smishguard.outbox.queue`); each change is
mirrored onto the ``SinkDelivery`` row.  A crash after the receiver answered but before the mark can repeat a
POST: receivers dedupe on ``Idempotency-Key``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.outbox import queue, registry
from smishguard.outbox.models import Delivery
from smishguard.outbox.webhook import post_webhook
from smishguard.redaction import redact_url
from smishguard.watch.models import SinkDelivery

log = logging.getLogger("smishguard.watch")

_CRASH_AFTER_SINK_LINES = "SMISHGUARD_TEST_CRASH_AFTER_SINK_LINES"

Status = SinkDelivery.Status


def alert_line(delivery: SinkDelivery) -> dict[str, object]:
    return {"alert_id": delivery.alert_id, **delivery.alert.to_dict()}


class JsonlSink:
    """Appends each new alert to ``path`` once (see the module's docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._reconciled = False
        self.written = 0
        crash = os.environ.get(_CRASH_AFTER_SINK_LINES)
        # Fault injection for the crash tests (off unless the variable is set): exit like kill -9 after
        # writing this many lines and before marking them delivered.
        self._crash_after = int(crash) if crash and crash.isdigit() else None

    @property
    def target(self) -> str:
        return str(self.path)

    def _pending(self):
        return SinkDelivery.objects.filter(
            sink=SinkDelivery.Sink.JSONL, target=self.target, status=Status.PENDING
        ).select_related("alert")

    def _alert_ids_in_file(self) -> set[int]:
        ids: set[int] = set()
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return ids
        with handle:
            for raw in handle:
                try:
                    obj = json.loads(raw)
                except ValueError:
                    continue  # a line cut short by a crash: it is not counted as delivered
                if isinstance(obj, dict) and isinstance(obj.get("alert_id"), int):
                    ids.add(obj["alert_id"])
        return ids

    def _reconcile(self) -> None:
        pending = list(self._pending().values_list("pk", "alert_id"))
        if pending:
            present = self._alert_ids_in_file()
            done = [pk for pk, alert_id in pending if alert_id in present]
            if done:
                SinkDelivery.objects.filter(pk__in=done).update(status=Status.DELIVERED, delivered_at=timezone.now())
                log.info("jsonl %s: %d alert(s) already written before a restart", self.path, len(done))
        # A crash mid-write can leave a last line without its newline: end it, so the next line is whole.
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell():
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        with self.path.open("ab") as out:
                            out.write(b"\n")
        except FileNotFoundError:
            pass
        self._reconciled = True

    def flush(self) -> int:
        """Write every pending alert; returns how many lines were written.  An I/O error is logged and the
        rows stay pending for the next call."""
        with self._lock:
            try:
                if not self._reconciled:
                    self._reconcile()
                pending = list(self._pending())
                if not pending:
                    return 0
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as out:
                    for delivery in pending:
                        out.write(json.dumps(alert_line(delivery), ensure_ascii=False) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                self._reconciled = False
                log.error("jsonl sink %s: %s", self.path, exc.strerror or exc)
                return 0
            self.written += len(pending)
            if self._crash_after is not None and self.written >= self._crash_after:
                os._exit(137)
            SinkDelivery.objects.filter(pk__in=[d.pk for d in pending]).update(
                status=Status.DELIVERED, delivered_at=timezone.now(), attempts=1
            )
            return len(pending)


WEBHOOK_KIND = "ct-webhook"
USER_AGENT = "smishguard-ct-watcher"
DEFAULT_ATTEMPTS = 8


def record_webhook(delivery: SinkDelivery, max_attempts: int = DEFAULT_ATTEMPTS) -> None:
    """Queue a webhook delivery through the outbox (in the caller's transaction, the alert's)."""
    queue.record(WEBHOOK_KIND, f"ct-alert-{delivery.pk}", target_id=delivery.pk, max_attempts=max_attempts)


def _send(outgoing: Delivery) -> str:
    delivery = SinkDelivery.objects.select_related("alert").get(pk=outgoing.target_id)
    payload = {"event": "lookalike_alert", "delivery_id": delivery.pk, "alert": delivery.alert.to_dict()}
    return post_webhook(outgoing, delivery.target, payload, user_agent=USER_AGENT)


def _on_change(outgoing: Delivery, change: str, error: Exception | None) -> None:
    """Mirror the outbox's state onto the ``SinkDelivery`` row; a webhook given up is audited."""
    rows = SinkDelivery.objects.filter(pk=outgoing.target_id)
    attempts = outgoing.attempts
    if change == registry.RETRY:
        rows.update(attempts=attempts, last_error=str(error), status=Status.PENDING)
    elif change == registry.DELIVERED:
        rows.update(status=Status.DELIVERED, attempts=attempts, delivered_at=timezone.now(), last_error="")
    elif change == registry.FAILED:
        rows.update(attempts=attempts, last_error=str(error), status=Status.FAILED)
        delivery = rows.select_related("alert").first()
        if delivery is None:
            return
        record(
            Action.WATCH_WEBHOOK_FAILED,
            actor_label="ct-watcher",
            subject_label=delivery.alert.domain,
            delivery_id=delivery.pk,
            url=redact_url(delivery.target),
            attempts=attempts,
            error=str(error),
        )
        log.warning("webhook %s for %s failed: %s", redact_url(delivery.target), delivery.alert.domain, error)


def register() -> None:
    registry.register(
        registry.Kind(name=WEBHOOK_KIND, send=_send, max_attempts=lambda: DEFAULT_ATTEMPTS, on_change=_on_change)
    )
