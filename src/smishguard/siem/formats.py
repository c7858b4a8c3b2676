"""How an audit event is written for a SIEM: an RFC 5424 syslog message framed by octet counting (RFC 6587), a
Splunk HEC event, or a plain JSON line.  Every form carries the event's id, so that a receiver can drop a repeat.

Pure functions of the event's ``to_dict()`` (``id``, ``at``, ``action``, ``actor``, ``subject``, ``ip``,
``user_agent``, ``detail``): the stream's settings decide the rest.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

from smishguard.config import SiemStream

NILVALUE = "-"
# The syslog severity of an event: a failure or refusal is a warning (4), anything else a notice (5).
WARNING, NOTICE = 4, 5
_WARNING_WORDS = ("fail", "refus", "flag", "revok", "clone", "denied", "locked")
# Structured-data parameters taken from the event, beside its id; the whole event is the MSG, as JSON.
_SD_FIELDS = ("action", "actor", "subject", "ip")


def severity(action: str) -> int:
    return WARNING if any(word in action for word in _WARNING_WORDS) else NOTICE


def hostname(stream: SiemStream) -> str:
    """The stream's ``hostname``, else this machine's name (printable ASCII, at most 255: RFC 5424 HOSTNAME)."""
    name = stream.hostname or socket.gethostname() or NILVALUE
    name = "".join(ch for ch in name if 33 <= ord(ch) <= 126)[:255]
    return name or NILVALUE


def event_json(event: dict[str, Any], *, late: bool = False) -> dict[str, Any]:
    """The event as sent in JSON: its ``to_dict()``, with ``"late": true`` when it comes after a higher id."""
    return {**event, "late": True} if late else dict(event)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)


def _sd_escape(value: object) -> str:
    """An RFC 5424 PARAM-VALUE: '"', '\\' and ']' escaped with a backslash."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_message(event: dict[str, Any], stream: SiemStream, *, late: bool = False, host: str | None = None) -> bytes:
    """One RFC 5424 message: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME - audit [SD-ID id="…" action="…" …] JSON``.

    PRI is the stream's facility (10, authpriv, by default) with the event's severity; TIMESTAMP the event's time
    (UTC, microseconds); MSGID ``audit``; the structured data names the event's id (a receiver drops a repeat by
    it), action, actor, subject and address; the MSG is the whole event as JSON (UTF-8, no BOM: RFC 5424 MSG-ANY).
    """
    timestamp = datetime.fromisoformat(event["at"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    pri = stream.facility * 8 + severity(event["action"])
    params = [f'id="{event["id"]}"'] + [f'{name}="{_sd_escape(event.get(name))}"' for name in _SD_FIELDS]
    if late:
        params.append('late="true"')
    header = f"<{pri}>1 {timestamp} {host or hostname(stream)} {stream.app_name} {NILVALUE} audit"
    data = f"[{stream.sd_id} {' '.join(params)}]"
    return f"{header} {data} {_dumps(event_json(event, late=late))}".encode()


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 3.4.1 octet-counting framing: ``MSG-LEN SP SYSLOG-MSG``."""
    return f"{len(message)} ".encode("ascii") + message


def hec_event(event: dict[str, Any], stream: SiemStream, *, late: bool = False, host: str | None = None) -> dict:
    """A Splunk HTTP Event Collector event (``/services/collector/event``): time in epoch seconds, host, source,
    sourcetype, index when set, and the event itself."""
    body: dict[str, Any] = {
        "time": round(datetime.fromisoformat(event["at"]).timestamp(), 3),  # <sec>.<ms>, as HEC documents it
        "host": host or hostname(stream),
        "source": stream.source,
        "sourcetype": stream.sourcetype,
        "event": event_json(event, late=late),
    }
    if stream.index:
        body["index"] = stream.index
    return body


def http_body(events: list[tuple[dict[str, Any], bool]], stream: SiemStream) -> bytes:
    """One POST's body: one JSON object a line (HEC takes several events in one request the same way)."""
    host = hostname(stream)
    if stream.format == "hec":
        lines = [_dumps(hec_event(event, stream, late=late, host=host)) for event, late in events]
    else:
        lines = [_dumps(event_json(event, late=late)) for event, late in events]
    return ("\n".join(lines) + "\n").encode()


def syslog_frames(events: list[tuple[dict[str, Any], bool]], stream: SiemStream) -> bytes:
    host = hostname(stream)
    return b"".join(octet_counted(syslog_message(event, stream, late=late, host=host)) for event, late in events)
