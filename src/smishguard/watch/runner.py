"""The watcher: reads each source, matches every name, commits alerts with the checkpoint, reports figures.

One log runs in the calling thread; several run a thread each (SQLite sees one short write transaction per
batch from each). A stop event ends every loop between batches and during waits (SIGINT / SIGTERM set it).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from django.db import connection

from smishguard.engine.ct import (
    Batch,
    CertstreamItem,
    HttpClient,
    LogInfo,
    LogReader,
    LogRequestFailed,
    RetryPolicy,
    TreeHead,
    TreeHeadInvalid,
    source_for,
)
from smishguard.engine.domains import LookalikeMatcher
from smishguard.outbox.queue import recover
from smishguard.watch import store
from smishguard.watch.config import WatchOptions
from smishguard.watch.matching import find_lookalikes
from smishguard.watch.models import LogState, LookalikeAlert, SinkDelivery
from smishguard.watch.sinks import JsonlSink

log = logging.getLogger("smishguard.watch")

# Fault injection for the crash tests, off unless set: after matching this many entries (in all) and before
# committing the batch that holds them, the process exits at once with status 137, as under kill -9.
CRASH_AFTER_ENTRIES = "SMISHGUARD_TEST_CRASH_AFTER_ENTRIES"
MATCHER_RELOAD = 30.0  # seconds between checks that the database's brands have not changed
RECOVERY_INTERVAL = 300.0  # seconds between checks for webhook deliveries that lost their task


# --------------------------------------------------------------------------- figures


@dataclass
class SourceFigures:
    name: str
    api: str
    entries: int = 0
    names: int = 0
    alerts: int = 0
    bad: int = 0
    position: int | None = None
    tree_size: int | None = None
    state: str = "starting"

    @property
    def lag(self) -> int | None:
        if self.position is None or self.tree_size is None:
            return None
        return max(0, self.tree_size - self.position)


@dataclass
class Figures:
    """Counters of every source, read by the reporter thread."""

    sources: dict[str, SourceFigures] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def source(self, key: str, name: str, api: str) -> SourceFigures:
        with self.lock:
            return self.sources.setdefault(key, SourceFigures(name, api))

    def totals(self) -> tuple[int, int, int, int]:
        with self.lock:
            s = list(self.sources.values())
        return (sum(x.entries for x in s), sum(x.names for x in s), sum(x.alerts for x in s), sum(x.bad for x in s))


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


class Console:
    """stderr: one-line messages, the figures line every ``interval`` seconds, and on a terminal a status
    block redrawn in place."""

    def __init__(self, figures: Figures, stream: TextIO, *, interval: float, live: bool) -> None:
        self.figures = figures
        self.stream = stream
        self.interval = interval
        self.live = live
        self._lock = threading.Lock()
        self._drawn = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = (time.monotonic(), 0, 0)
        self._last_line = time.monotonic()
        self._rates: dict[str, tuple[float, int]] = {}
        self._pending: list[str] = []

    # messages
    def notice(self, message: str) -> None:
        """``say`` from a signal handler: never waits on the lock (the interrupted code may hold it)."""
        if self._lock.acquire(blocking=False):
            try:
                self._erase()
                self.stream.write(f"smishguard: {message}\n")
                self.stream.flush()
                self._draw()
            finally:
                self._lock.release()
        else:
            self._pending.append(message)

    def say(self, message: str) -> None:
        with self._lock:
            self._erase()
            self.stream.write(f"smishguard: {message}\n")
            self.stream.flush()
            self._draw()

    # the figures line
    def figures_line(self) -> str:
        now = time.monotonic()
        entries, names, alerts, bad = self.figures.totals()
        then, e0, n0 = self._last
        span = max(now - then, 1e-9)
        self._last = (now, entries, names)
        with self.figures.lock:
            lags = ", ".join(f"{s.name} {_n(s.lag)}" for s in self.figures.sources.values() if s.api != "replay")
        line = (
            f"ct: {(entries - e0) / span:,.0f} entries/s, {(names - n0) / span:,.0f} names/s, "
            f"{alerts:,} new alert(s), {entries:,} entries read"
        )
        if bad:
            line += f", {bad:,} bad"
        if lags:
            line += f" | lag: {lags}"
        return line

    def summary(self) -> str:
        entries, names, alerts, bad = self.figures.totals()
        took = time.monotonic() - self.figures.started
        text = (
            f"ct: done in {took:.1f} s: {entries:,} entries, {names:,} names, {alerts:,} new alert(s) "
            f"from {len(self.figures.sources)} source(s)"
        )
        return text + (f", {bad:,} skipped" if bad else "")

    def _block(self) -> list[str]:
        now = time.monotonic()
        rows = []
        with self.figures.lock:
            sources = list(self.figures.sources.items())
        for key, s in sources:
            t0, e0 = self._rates.get(key, (now, s.entries))
            rate = (s.entries - e0) / max(now - t0, 1e-9) if now > t0 else 0.0
            if now - t0 >= 2.0 or key not in self._rates:
                self._rates[key] = (now, s.entries)
            where = f"{_n(s.position)}/{_n(s.tree_size)}" if s.tree_size is not None else _n(s.position)
            rows.append(
                f"  {s.name[:38]:38} {where:>25} lag {_n(s.lag):>11} {rate:>9,.0f}/s alerts {s.alerts:>5,} {s.state}"
            )
        entries, names, alerts, _ = self.figures.totals()
        head = f"smishguard watch ct: {entries:,} entries, {names:,} names, {alerts:,} new alert(s)"
        return [head, *rows]

    def _erase(self) -> None:
        if self.live and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        if self.live and self._thread is not None:
            lines = self._block()
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
            self._drawn = len(lines)

    def _run(self) -> None:
        while not self._stop.wait(0.5 if self.live else min(self.interval, 1.0)):
            with self._lock:
                self._erase()
                while self._pending:
                    self.stream.write(f"smishguard: {self._pending.pop(0)}\n")
                if self.interval and time.monotonic() - self._last_line >= self.interval:
                    self._last_line = time.monotonic()
                    self.stream.write(self.figures_line() + "\n")
                self._draw()
                self.stream.flush()

    def start(self) -> None:
        if self.live or self.interval:
            self._thread = threading.Thread(target=self._run, name="ct-figures", daemon=True)
            self._thread.start()

    def close(self, *, summary: bool) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            self._erase()
            self._thread = None
            while self._pending:
                self.stream.write(f"smishguard: {self._pending.pop(0)}\n")
            if summary:
                self.stream.write(self.summary() + "\n")
            self.stream.flush()


# --------------------------------------------------------------------------- the watcher


class Watcher:
    def __init__(
        self,
        *,
        matcher: LookalikeMatcher,
        options: WatchOptions,
        console: Console,
        stop: threading.Event,
        json_out: TextIO | None = None,
        retry: RetryPolicy | None = None,
        reload_matcher: Callable[[], LookalikeMatcher] | None = None,
    ) -> None:
        self._matcher = matcher
        self._reload = reload_matcher
        self._reloaded_at = time.monotonic()
        self.options = options
        self.console = console
        self.figures = console.figures
        self.stop = stop
        self.json_out = json_out
        self.retry = retry or RetryPolicy()
        self.jsonl = JsonlSink(options.jsonl) if options.jsonl else None
        self.sinks: list[store.SinkTarget] = []
        if options.jsonl:
            self.sinks.append(store.SinkTarget(SinkDelivery.Sink.JSONL, str(self.jsonl.target)))  # type: ignore[union-attr]
        if options.webhook:
            self.sinks.append(store.SinkTarget(SinkDelivery.Sink.WEBHOOK, options.webhook, options.webhook_attempts))
        self._out_lock = threading.Lock()
        self._matched = 0
        self._matched_lock = threading.Lock()
        crash = os.environ.get(CRASH_AFTER_ENTRIES, "")
        self._crash_after = int(crash) if crash.isdigit() else None

    # ------------------------------------------------------------------ shared steps

    @property
    def matcher(self) -> LookalikeMatcher:
        """The matcher; with the database's brands, brought up to date every ``MATCHER_RELOAD`` seconds so
        that a brand added in the console is watched for without a restart."""
        if self._reload is not None and time.monotonic() - self._reloaded_at >= MATCHER_RELOAD:
            self._reloaded_at = time.monotonic()
            self._matcher = self._reload()
        return self._matcher

    def _crash_point(self, entries: int) -> None:
        if self._crash_after is None:
            return
        with self._matched_lock:
            self._matched += entries
            if self._matched >= self._crash_after:
                os._exit(137)

    def _after_commit(self, alerts: Sequence[LookalikeAlert]) -> None:
        if self.jsonl is not None:
            self.jsonl.flush()
        if self.json_out is not None and alerts:
            with self._out_lock:
                for alert in alerts:
                    self.json_out.write(json.dumps(alert.to_dict(), ensure_ascii=False) + "\n")
                self.json_out.flush()
        elif alerts:
            for alert in alerts:  # one line per new alert, with the lookalike names its certificate holds
                names = ", ".join(alert.lookalike_names or [alert.domain])
                self.console.say(f"new alert {alert.pk}: {alert.domain} looks like {alert.brand}: {names}")

    def deliver_pending(self) -> None:
        """Write what a previous run committed but did not get to write (after a crash), and give a live task
        back to any webhook delivery whose worker died; in follow mode the webhook check runs again every
        ``RECOVERY_INTERVAL`` seconds (on its own thread)."""
        if self.jsonl is not None:
            self.jsonl.flush()
        if self.options.webhook:
            recover()

    def start_recovery(self) -> None:
        if not self.options.webhook:
            return

        def loop() -> None:
            try:
                while not self.stop.wait(RECOVERY_INTERVAL):
                    try:
                        recover()
                    except Exception:
                        log.exception("webhook recovery")
            finally:
                connection.close()

        threading.Thread(target=loop, name="ct-webhook-recovery", daemon=True).start()

    # ------------------------------------------------------------------ CT logs

    def run_logs(self, logs: Sequence[LogInfo], *, once: bool) -> list[str]:
        """Read every log (a thread each when there are several); returns the descriptions of failed logs."""
        failed: list[str] = []
        if len(logs) == 1:
            if not self.run_log(logs[0], once=once):
                failed.append(logs[0].description)
            return failed

        def target(info: LogInfo) -> None:
            try:
                if not self.run_log(info, once=once):
                    failed.append(info.description)
            except Exception:
                log.exception("log %s", info.description)
                self.console.say(f"{info.description}: unexpected error, this log stopped (see the log)")
                failed.append(info.description)
            finally:
                connection.close()

        threads = [threading.Thread(target=target, args=(i,), name=f"ct {i.description}") for i in logs]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(timeout=0.2)
        return failed

    def run_log(self, info: LogInfo, *, once: bool) -> bool:
        """Read one log from its checkpoint.  With ``once``: ``False`` when a tree head was refused or the log
        failed.  Following, failures are recorded on the log's state and retried every poll until stopped."""
        key = store.state_key(info)
        figures = self.figures.source(key, info.description, info.api)
        state, _ = store.ensure_state(info)
        figures.position, figures.tree_size = state.next_index, state.tree_size
        client = HttpClient(retry=self.retry, sleep=self._wait)
        source = source_for(info, client)
        position = state.next_index
        unplaced = state.tree_size is None and state.next_index == 0
        batch_size = self.options.batch_size
        # The last verified tree head, from the database: a new head smaller than it is refused (the reader
        # compares each head with the one it holds), across restarts too.
        verified = _stored_head(state)
        while not self.stop.is_set():
            reader = LogReader(source, start=position, batch_size=batch_size)
            reader.tree_head = verified
            try:
                if unplaced and self.options.start == "head":
                    head = reader.refresh()
                    position = head.tree_size
                    store.set_position(key, position, head)
                    reader = LogReader(source, start=position, batch_size=batch_size)
                    reader.tree_head = verified = head
                    self.console.say(f"{info.description}: new log, starting at its tree head ({position:,})")
                unplaced = False
                figures.state = "reading"

                def idle(seconds: float, reader: LogReader = reader) -> None:
                    figures.state = "caught up"
                    if reader.tree_head is not None:
                        figures.tree_size = reader.tree_head.tree_size
                    store.note_tree_head(key, reader.tree_head)
                    self.stop.wait(seconds)

                def refused(exc: TreeHeadInvalid) -> None:
                    self._refused(info, key, exc)

                for batch in reader.batches(
                    follow=not once,
                    poll_interval=self.options.poll_interval,
                    stop=self.stop,
                    on_invalid_tree_head=refused,
                    sleep=idle,
                ):
                    figures.state = "reading"
                    self._log_batch(info, key, batch, reader)
                    position = batch.next_index
                    got = batch.next_index - batch.start
                    if info.api == "rfc6962" and batch.next_index < batch.tree_size and got < reader.batch_size:
                        # The log capped the batch: ask for what it gives (a static log's tiles need no help).
                        reader.batch_size = batch_size = got
                store.note_tree_head(key, reader.tree_head)
                figures.state = "done" if once else "stopped"
                return True
            except TreeHeadInvalid as exc:
                self._refused(info, key, exc)
            except LogRequestFailed as exc:
                figures.state = "error"
                store.record_error(key, str(exc))
                self.console.say(f"{info.description}: {exc}")
            except Exception as exc:  # one log's unforeseen failure is its error, never the watcher's end
                # Recorded on this log's state like any failure (`watch status` shows it); following, the log is
                # tried again every poll while the others go on.
                log.exception("log %s", info.description)
                figures.state = "error"
                problem = f"unexpected error: {type(exc).__name__}: {exc}"[:500]
                store.record_error(key, problem)
                self.console.say(f"{info.description}: {problem} (see the log)")
            finally:
                verified = reader.tree_head or verified
            if once:
                return False
            self.stop.wait(self.options.poll_interval)
        return True

    def _wait(self, seconds: float) -> None:
        self.stop.wait(seconds)

    def _refused(self, info: LogInfo, key: str, exc: TreeHeadInvalid) -> None:
        self.figures.source(key, info.description, info.api).state = "tree head refused"
        store.record_refusal(key, str(exc), url=info.url)
        self.console.say(f"{info.description}: tree head refused, staying at the last verified position: {exc}")

    def _log_batch(self, info: LogInfo, key: str, batch: Batch, reader: LogReader) -> None:
        matched = find_lookalikes(batch.entries, self.matcher)
        self._crash_point(matched.entries)
        alerts = store.commit(
            matched.hits,
            where=store.Where(key, info.description, info.url),
            sinks=self.sinks,
            state=key,
            next_index=batch.next_index,
            head=reader.tree_head,
            entries_read=batch.next_index - batch.start,
        )
        self._after_commit(alerts)
        for error in batch.errors:
            self.console.say(f"{info.description}: entry {error.index} skipped: {error.message}")
        figures = self.figures.source(key, info.description, info.api)
        with self.figures.lock:
            figures.entries += batch.next_index - batch.start
            figures.names += matched.names
            figures.alerts += len(alerts)
            figures.bad += len(batch.errors)
            figures.position = batch.next_index
            figures.tree_size = batch.tree_size

    # ------------------------------------------------------------------ certstream and replay

    def run_stream(
        self,
        items: Iterable[CertstreamItem],
        *,
        label: str,
        state_key: str | None = None,
        what: str = "message",
        kind: str = "certstream",
    ) -> int:
        """Match every certificate of a certstream feed or replay (``kind``); returns the number of bad
        lines/messages. With ``state_key``, what was read and raised is saved on that ``LogState`` row."""
        figures = self.figures.source(state_key or label, label, kind if state_key else "replay")
        figures.state = "reading"
        bad = 0
        unsaved = 0
        unsaved_alerts = 0
        last_save = time.monotonic()
        for item in items:
            if item.update is None:
                bad += 1
                with self.figures.lock:
                    figures.bad += 1
                self.console.say(f"{label}: {what} {item.number} skipped: {item.error}")
                continue
            update = item.update
            matched = find_lookalikes((update.entry,), self.matcher)
            alerts: list[LookalikeAlert] = []
            if matched.hits:
                self._crash_point(matched.entries)
                source = update.log_url or update.log_name or label
                alerts = store.commit(
                    matched.hits, where=store.Where(source, update.log_name or label, update.log_url), sinks=self.sinks
                )
                self._after_commit(alerts)
            unsaved += 1
            unsaved_alerts += len(alerts)
            with self.figures.lock:
                figures.entries += 1
                figures.names += matched.names
                figures.alerts += len(alerts)
                figures.position = item.number
            if state_key and (unsaved >= 1000 or time.monotonic() - last_save > 5):
                _save_stream(state_key, item.number, unsaved, unsaved_alerts)
                unsaved, unsaved_alerts, last_save = 0, 0, time.monotonic()
            if self.stop.is_set():
                break
        if state_key and unsaved:
            _save_stream(state_key, figures.position or 0, unsaved, unsaved_alerts)
        figures.state = "done"
        return bad


def _stored_head(state: LogState) -> TreeHead | None:
    if state.tree_size is None or state.tree_head_at is None:
        return None
    try:
        root = bytes.fromhex(state.root_hash)
    except ValueError:
        return None
    return TreeHead(state.tree_size, int(state.tree_head_at.timestamp() * 1000), root)


def _save_stream(key: str, number: int, count: int, alerts: int = 0) -> None:
    from django.db.models import F
    from django.utils import timezone

    LogState.objects.filter(key=key).update(
        next_index=number,
        entries_read=F("entries_read") + count,
        alerts_raised=F("alerts_raised") + alerts,
        updated_at=timezone.now(),
    )


def live_display_wanted(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"


def stderr() -> TextIO:
    return sys.stderr


__all__ = ["CRASH_AFTER_ENTRIES", "Console", "Figures", "Watcher", "live_display_wanted"]
