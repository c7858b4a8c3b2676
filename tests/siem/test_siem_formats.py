"""What a SIEM receives: RFC 5424 messages in RFC 6587 octet-counted frames, Splunk HEC events, JSON lines."""

from __future__ import annotations

import json

from siem_receivers import parse_rfc5424

from smishguard.config import SiemStream
from smishguard.siem import formats

EVENT = {
    "id": 4711,
    "at": "2026-12-06T23:50:01.123456+00:00",
    "action": "passkeys:signin:failed",
    "actor": 'anonymous "quoted" ]bracket\\slash',
    "subject": "ann@example.com",
    "ip": "203.0.113.9",
    "user_agent": "Mozilla/5.0",
    "detail": {"reason": "unknown key ü", "line": "two\nlines"},
}
SYSLOG = SiemStream(name="soc", kind="syslog", host="siem.example", hostname="web-1.example")
HEC = SiemStream(name="splunk", kind="http", url="https://x.example/", format="hec", token_env="T", hostname="web-1")


def test_a_syslog_message_is_valid_rfc5424_and_names_the_event():
    parsed = parse_rfc5424(formats.syslog_message(EVENT, SYSLOG).decode())
    assert int(parsed["pri"]) == 10 * 8 + 4  # authpriv, warning (a failed sign-in)
    assert parsed["version"] == "1"
    assert parsed["timestamp"] == "2026-12-06T23:50:01.123456Z"
    assert (parsed["hostname"], parsed["app"], parsed["procid"], parsed["msgid"]) == (
        "web-1.example",
        "smishguard",
        "-",
        "audit",
    )
    params = parsed["sd"]["smishguard@32473"]
    assert params["id"] == "4711"  # a receiver drops a repeat by it
    assert params["actor"] == EVENT["actor"]  # '"', ']' and '\' escaped, and read back whole
    assert (params["action"], params["subject"], params["ip"]) == (EVENT["action"], EVENT["subject"], EVENT["ip"])
    assert json.loads(parsed["msg"]) == EVENT  # the whole event, as JSON on one line
    assert "\n" not in parsed["msg"]


def test_severity_and_late_marking():
    notice = {**EVENT, "action": "passkeys:signin:succeeded"}
    assert int(parse_rfc5424(formats.syslog_message(notice, SYSLOG).decode())["pri"]) == 85
    late = parse_rfc5424(formats.syslog_message(EVENT, SYSLOG, late=True).decode())
    assert late["sd"]["smishguard@32473"]["late"] == "true"
    assert json.loads(late["msg"])["late"] is True


def test_frames_are_octet_counted():
    data = formats.syslog_frames([(EVENT, False), ({**EVENT, "id": 4712}, False)], SYSLOG)
    ids = []
    while data:
        length, _, rest = data.partition(b" ")
        message, data = rest[: int(length)], rest[int(length) :]
        ids.append(parse_rfc5424(message.decode())["sd"]["smishguard@32473"]["id"])
    assert ids == ["4711", "4712"]


def test_hec_body_is_splunk_event_json_one_per_line():
    body = formats.http_body([(EVENT, False), ({**EVENT, "id": 4712}, True)], HEC)
    first, second = (json.loads(line) for line in body.decode().splitlines())
    assert set(first) == {"time", "host", "source", "sourcetype", "event"}
    assert abs(first["time"] - 1796601001.123456) < 0.001  # epoch seconds, with the fraction
    assert (first["host"], first["source"], first["sourcetype"]) == ("web-1", "smishguard", "smishguard:audit")
    assert first["event"] == EVENT
    assert second["event"]["id"] == 4712
    assert second["event"]["late"] is True
    indexed = SiemStream(name="s", kind="http", url="https://x.example/", format="hec", token_env="T", index="sec")
    assert json.loads(formats.http_body([(EVENT, False)], indexed))["index"] == "sec"


def test_plain_json_lines_carry_the_event_with_its_id():
    plain = SiemStream(name="plain", kind="http", url="https://x.example/")
    lines = formats.http_body([(EVENT, False), ({**EVENT, "id": 4712}, False)], plain).decode().splitlines()
    assert [json.loads(line) for line in lines] == [EVENT, {**EVENT, "id": 4712}]
