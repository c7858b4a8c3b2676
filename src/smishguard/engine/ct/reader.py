"""Reading a log: verify the tree head first, then fetch entries in batches up to the verified size.

Two sources speak to real logs — ``RFC6962Source`` (get-sth, get-entries) and ``StaticCTSource``
(checkpoint, data tiles) — and ``LogReader`` drives either one. The reader keeps no state a crash could lose:
the caller stores ``Batch.next_index`` together with what it did with the batch, and hands that index back
on restart (``LogReader(source, start=stored)``), so nothing is skipped and nothing is read twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .entries import EntryError, LogEntry, ParsedEntries, parse_data_tile, parse_get_entries
from .errors import LogRequestFailed, MalformedEntry, TreeHeadInvalid
from .http import HttpClient
from .loglist import LogInfo
from .tiles import TILE_WIDTH, data_tile_path
from .treehead import TreeHead, verify_checkpoint, verify_sth


@dataclass(frozen=True, slots=True)
class Batch:
    """Entries ``[start, next_index)`` of one log, read under a verified tree of ``tree_size`` leaves."""

    log: LogInfo
    start: int
    next_index: int
    tree_size: int
    entries: tuple[LogEntry, ...]
    errors: tuple[EntryError, ...]

    @property
    def lag(self) -> int:
        """Entries still to read behind the verified tree head."""
        return self.tree_size - self.next_index

    def to_dict(self) -> dict[str, Any]:
        return {
            "log": self.log.description,
            "start": self.start,
            "next_index": self.next_index,
            "tree_size": self.tree_size,
            "entries": [e.to_dict() for e in self.entries],
            "errors": [e.to_dict() for e in self.errors],
        }


class LogSource(Protocol):
    """What ``LogReader`` needs from a log API."""

    log: LogInfo

    def fetch_tree_head(self) -> TreeHead:
        """The log's current tree head, verified with its key (``TreeHeadInvalid`` otherwise)."""
        ...

    def fetch_entries(self, start: int, end: int, tree_size: int) -> ParsedEntries:
        """At least one and at most ``end - start`` entries from ``start`` (``start < end <= tree_size``)."""
        ...


class RFC6962Source:
    """An RFC 6962 log: ``ct/v1/get-sth`` and ``ct/v1/get-entries``; the log may cap a batch below the ask."""

    def __init__(self, log: LogInfo, client: HttpClient | None = None) -> None:
        self.log = log
        self.client = client or HttpClient()

    def fetch_tree_head(self) -> TreeHead:
        return verify_sth(self.client.get_json(f"{self.log.url}ct/v1/get-sth"), self.log)

    def fetch_entries(self, start: int, end: int, tree_size: int) -> ParsedEntries:
        del tree_size  # get-entries addresses entries directly
        url = f"{self.log.url}ct/v1/get-entries?start={start}&end={end - 1}"
        payload = self.client.get_json(url)
        if isinstance(payload, dict) and isinstance(payload.get("entries"), list):
            payload = {"entries": payload["entries"][: end - start]}  # a log may not send more than asked
        try:
            parsed = parse_get_entries(payload, start=start)
        except MalformedEntry as exc:
            raise LogRequestFailed(f"bad get-entries response from {url}: {exc}", url=url) from exc
        if parsed.count == 0:
            raise LogRequestFailed(f"get-entries returned no entries for {start}..{end - 1}", url=url)
        return parsed


class StaticCTSource:
    """A static-CT-API log: ``checkpoint`` and ``tile/data/<N>[.p/<W>]`` (256 entries a full tile)."""

    def __init__(self, log: LogInfo, client: HttpClient | None = None) -> None:
        self.log = log
        self.client = client or HttpClient()
        self._tile_cache: tuple[int, int, bytes] | None = None  # (tile index, width, body): batches share tiles

    def fetch_tree_head(self) -> TreeHead:
        return verify_checkpoint(self.client.get(f"{self.log.url}checkpoint").body, self.log)

    def _tile(self, n: int, width: int) -> bytes:
        if self._tile_cache and self._tile_cache[0] == n and self._tile_cache[1] >= width:
            return self._tile_cache[2]
        try:
            body = self.client.get(f"{self.log.url}{data_tile_path(n, width)}").body
            got = width
        except LogRequestFailed as exc:
            if width == TILE_WIDTH or exc.status != 404:
                raise
            # The partial tile may be gone because the full tile now exists (static-ct-api, "Partial Tiles").
            body = self.client.get(f"{self.log.url}{data_tile_path(n)}").body
            got = TILE_WIDTH
        self._tile_cache = (n, got, body)
        return body

    def fetch_entries(self, start: int, end: int, tree_size: int) -> ParsedEntries:
        n = start // TILE_WIDTH
        tile_start = n * TILE_WIDTH
        width = min(TILE_WIDTH, tree_size - tile_start)
        end = min(end, tile_start + width)
        body = self._tile(n, width)
        try:
            parsed = parse_data_tile(body, first_index=tile_start, skip=start - tile_start, limit=end - start)
        except MalformedEntry as exc:
            self._tile_cache = None
            raise LogRequestFailed(f"bad data tile {n} from {self.log.url}: {exc}") from exc
        if parsed.count < end - start:
            self._tile_cache = None
            raise LogRequestFailed(f"data tile {n} holds fewer entries than the checkpoint promises")
        return parsed


def source_for(log: LogInfo, client: HttpClient | None = None) -> RFC6962Source | StaticCTSource:
    """The source that speaks ``log``'s API."""
    return StaticCTSource(log, client) if log.api == "static" else RFC6962Source(log, client)


class LogReader:
    """Reads one log from ``start``: verifies the tree head first, then batches up to the verified size.

    ``position`` is the next index to read; it moves only when a batch is returned. A tree head that fails
    verification (or shows the log shrinking) raises ``TreeHeadInvalid`` and leaves both ``tree_head`` and
    ``position`` where they were.
    """

    def __init__(self, source: LogSource, *, start: int = 0, batch_size: int = 256) -> None:
        if start < 0:
            raise ValueError("start must be >= 0")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.source = source
        self.position = start
        self.batch_size = batch_size
        self.tree_head: TreeHead | None = None

    @property
    def log(self) -> LogInfo:
        return self.source.log

    def refresh(self) -> TreeHead:
        """Fetch and verify the current tree head; adopt it only if it verifies and has not shrunk."""
        head = self.source.fetch_tree_head()
        if self.tree_head is not None and head.tree_size < self.tree_head.tree_size:
            raise TreeHeadInvalid(
                f"tree head of {head.tree_size} entries is smaller than the verified {self.tree_head.tree_size}"
            )
        self.tree_head = head
        return head

    def read(self, from_index: int | None = None) -> Batch:
        """The next batch from ``from_index`` (default: ``position``); empty when the log has nothing new."""
        start = self.position if from_index is None else from_index
        if self.tree_head is None or start >= self.tree_head.tree_size:
            self.refresh()
        assert self.tree_head is not None  # noqa: S101 - refresh() set it or raised
        tree_size = self.tree_head.tree_size
        if start > tree_size:
            raise LogRequestFailed(f"position {start} is beyond the log's verified tree size {tree_size}")
        if start == tree_size:
            self.position = start
            return Batch(self.log, start, start, tree_size, (), ())
        end = min(start + self.batch_size, tree_size)
        parsed = self.source.fetch_entries(start, end, tree_size)
        next_index = start + parsed.count
        self.position = next_index
        return Batch(self.log, start, next_index, tree_size, parsed.entries, parsed.errors)

    def batches(
        self,
        *,
        follow: bool = False,
        poll_interval: float = 10.0,
        stop: threading.Event | None = None,
        on_invalid_tree_head: Callable[[TreeHeadInvalid], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Iterator[Batch]:
        """Yield non-empty batches from ``position``.

        Without ``follow``: verify the tree head once and stop at its size (``--once``); a bad tree head
        raises ``TreeHeadInvalid``. With ``follow``: when caught up, wait ``poll_interval`` (with ``sleep``,
        else on ``stop``, else ``time.sleep``) and verify a new tree head; a bad one is reported to
        ``on_invalid_tree_head`` (or raised if none is given) and the reader keeps its place and tries again
        later. Setting ``stop`` ends the loop between batches and during a wait.
        """
        if sleep is None:
            sleep = stop.wait if stop is not None else time.sleep
        head = self.refresh()
        target = head.tree_size
        while not (stop is not None and stop.is_set()):
            if self.position < target:
                batch = self.read()
                if batch.next_index > batch.start:
                    yield batch
                continue
            if not follow:
                return
            sleep(poll_interval)
            if stop is not None and stop.is_set():
                return
            try:
                target = self.refresh().tree_size
            except TreeHeadInvalid as exc:
                if on_invalid_tree_head is None:
                    raise
                on_invalid_tree_head(exc)
