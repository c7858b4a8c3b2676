"""certstream: ``certificate_update`` messages (full and "lite"), JSON-lines replay, and a websocket client.

A certstream server (certstream-server-go, or CaliDog's original) already parsed the certificate: names are
``data.leaf_cert.all_domains``; issuer, not_before, the log and the entry index come along when present.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from . import jsondoc
from .entries import EntryKind, LogEntry
from .errors import CertstreamMessageInvalid, LogUnavailable
from .http import RetryPolicy
from .names import normalize_names

_KINDS: dict[str, EntryKind] = {"X509LogEntry": "x509", "PrecertLogEntry": "precert"}
_DN_ORDER = ("CN", "OU", "O", "L", "ST", "C")
_RFC4514_SPECIAL = frozenset(',+"\\<>;')


@dataclass(frozen=True, slots=True)
class CertstreamUpdate:
    """One certificate from a certstream message, as a ``LogEntry`` plus the log it was seen in."""

    entry: LogEntry
    log_name: str
    log_url: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.entry.to_dict(), "log_name": self.log_name, "log_url": self.log_url}


@dataclass(frozen=True, slots=True)
class CertstreamItem:
    """The outcome of one replay line or websocket message: an update, or an error, never both."""

    number: int
    update: CertstreamUpdate | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        if self.update is not None:
            return {"number": self.number, "update": self.update.to_dict()}
        return {"number": self.number, "error": self.error}


def _escape_rdn_value(value: str) -> str:
    out = "".join("\\" + ch if ch in _RFC4514_SPECIAL else ch for ch in value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def issuer_from_subject_fields(fields: Mapping[str, Any]) -> str:
    """An RFC 4514 string (as ``cryptography`` writes it) from certstream's ``{"C":..,"CN":..,"O":..}``."""
    parts = [
        f"{key}={_escape_rdn_value(value)}" for key in _DN_ORDER if isinstance(value := fields.get(key), str) and value
    ]
    if parts:
        return ",".join(parts)
    aggregated = fields.get("aggregated")
    return aggregated if isinstance(aggregated, str) else ""


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _seconds_to_datetime(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_certstream_message(message: str | bytes | Mapping[str, Any]) -> CertstreamUpdate | None:
    """Parse one certstream message; ``None`` for messages that carry no certificate (heartbeats).

    Raises ``CertstreamMessageInvalid`` when the message is not JSON or a ``certificate_update`` lacks
    ``data.leaf_cert.all_domains`` or ``data.cert_index``.
    """
    if isinstance(message, str | bytes):
        try:
            message = jsondoc.loads(message)
        except ValueError as exc:
            raise CertstreamMessageInvalid(f"not JSON: {exc}") from exc
    if not isinstance(message, Mapping):
        raise CertstreamMessageInvalid("message is not a JSON object")
    message_type = message.get("message_type")
    if message_type != "certificate_update":
        if isinstance(message_type, str):
            return None  # heartbeat, dns_entries, ...: nothing to match
        raise CertstreamMessageInvalid("message has no message_type")
    data = message.get("data")
    if not isinstance(data, Mapping):
        raise CertstreamMessageInvalid("certificate_update has no data object")
    leaf = data.get("leaf_cert")
    if not isinstance(leaf, Mapping):
        raise CertstreamMessageInvalid("certificate_update has no data.leaf_cert object")
    domains = leaf.get("all_domains")
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise CertstreamMessageInvalid("data.leaf_cert.all_domains is not a list of strings")
    index = data.get("cert_index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise CertstreamMessageInvalid("data.cert_index is missing or not a non-negative integer")

    issuer = ""
    if isinstance(leaf.get("issuer"), Mapping):
        issuer = issuer_from_subject_fields(leaf["issuer"])
    elif isinstance(data.get("chain"), list) and data["chain"] and isinstance(data["chain"][0], Mapping):
        subject = data["chain"][0].get("subject")
        if isinstance(subject, Mapping):
            issuer = issuer_from_subject_fields(subject)
    source = data.get("source") if isinstance(data.get("source"), Mapping) else {}
    update_type = data.get("update_type")
    kind = _KINDS.get(update_type if isinstance(update_type, str) else "", "x509")
    seen = _seconds_to_datetime(_number(data.get("seen"))) or datetime.fromtimestamp(0, tz=UTC)
    entry = LogEntry(
        index=index,
        timestamp=seen,
        kind=kind,
        names=normalize_names(domains),
        issuer=issuer,
        not_before=_seconds_to_datetime(_number(leaf.get("not_before"))),
    )
    return CertstreamUpdate(
        entry=entry,
        log_name=str(source.get("name") or ""),
        log_url=str(source.get("url") or ""),
    )


def iter_replay(lines: Iterable[str | bytes]) -> Iterator[CertstreamItem]:
    """One ``CertstreamItem`` per non-blank line carrying a certificate; a bad line yields an error item and
    the lines after it are still read. Heartbeats and other certificate-less messages yield nothing."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            update = parse_certstream_message(line)
        except CertstreamMessageInvalid as exc:
            yield CertstreamItem(number, None, str(exc))
            continue
        if update is not None:
            yield CertstreamItem(number, update, None)


@contextmanager
def open_replay(path: str | Path, *, stdin: IO[str] | None = None) -> Iterator[Iterator[CertstreamItem]]:
    """``with open_replay("updates.jsonl") as items:`` — ``"-"`` reads standard input."""
    if str(path) == "-":
        yield iter_replay(stdin if stdin is not None else sys.stdin)
        return
    with Path(path).open("r", encoding="utf-8", errors="replace") as handle:
        yield iter_replay(handle)


class CertstreamClient:
    """A client for a certstream-compatible websocket (e.g. a self-hosted certstream-server-go).

    ``items()`` yields a ``CertstreamItem`` per message carrying a certificate (errors included, so one bad
    message does not stop the stream) and reconnects with backoff when the connection drops; after
    ``retry.attempts`` failed connection attempts in a row it raises ``LogUnavailable``.
    """

    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_message_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"certstream URL must start with ws:// or wss://, not {url!r}")
        self.url = url
        self.retry = retry or RetryPolicy()
        self.stop = stop or threading.Event()
        self._sleep = sleep
        self._max = max_message_bytes
        self.messages = 0
        self.connections = 0

    def items(self, *, max_items: int | None = None) -> Iterator[CertstreamItem]:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
        from websockets.sync.client import connect

        failures = 0
        produced = 0
        while not self.stop.is_set():
            try:
                with connect(self.url, open_timeout=self.retry.timeout, max_size=self._max, proxy=None) as websocket:
                    self.connections += 1
                    failures = 0
                    while not self.stop.is_set():
                        try:
                            message = websocket.recv(timeout=1.0)
                        except TimeoutError:
                            continue
                        self.messages += 1
                        try:
                            update = parse_certstream_message(message)
                        except CertstreamMessageInvalid as exc:
                            item = CertstreamItem(self.messages, None, str(exc))
                        else:
                            if update is None:
                                continue
                            item = CertstreamItem(self.messages, update, None)
                        yield item
                        produced += 1
                        if max_items is not None and produced >= max_items:
                            return
            except InvalidURI as exc:
                raise ValueError(f"bad certstream URL {self.url!r}: {exc}") from exc
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError) as exc:
                failures += 1
                if failures >= self.retry.attempts:
                    raise LogUnavailable(
                        f"certstream {self.url} unreachable after {failures} attempts ({type(exc).__name__})",
                        url=self.url,
                    ) from exc
                self._sleep(self.retry.delay(failures - 1, None))
