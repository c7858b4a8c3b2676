"""certstream messages (full and lite fixtures), JSON-lines replay, and the websocket client."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from pathlib import Path

import ct_logs
import pytest

from smishguard.engine.ct import (
    CertstreamClient,
    CertstreamMessageInvalid,
    LogUnavailable,
    RetryPolicy,
    issuer_from_subject_fields,
    iter_replay,
    open_replay,
    parse_certstream_message,
)

UTC = dt.UTC


@pytest.fixture(scope="module")
def full_message(ct_data: Path) -> str:
    return (ct_data / "certstream_example_calidog.json").read_text()


@pytest.fixture(scope="module")
def lite_message(ct_data: Path) -> str:
    return (ct_data / "certstream_example_lite_certstream-server-go.json").read_text()


def test_full_message(full_message: str) -> None:
    update = parse_certstream_message(full_message)
    assert update is not None
    entry = update.entry
    assert entry.names == ("access.smm-cheap.com", "www.access.smm-cheap.com")
    assert entry.index == 343999487
    assert entry.kind == "x509"
    assert entry.issuer == "CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US"  # from chain[0].subject
    assert entry.not_before == dt.datetime.fromtimestamp(1581737741, tz=UTC)
    assert entry.timestamp == dt.datetime.fromtimestamp(1581741558.477939, tz=UTC)
    assert update.log_name == "Google 'Argon2020' log"
    assert update.log_url == "ct.googleapis.com/logs/argon2020/"


def test_lite_message(lite_message: str) -> None:
    update = parse_certstream_message(lite_message)
    assert update is not None
    assert update.entry.names == ("cmslieferhit.e06.k-k.de",)
    assert update.entry.index == 712420366
    assert update.entry.kind == "precert"
    assert update.entry.issuer == "CN=R3,O=Let's Encrypt,C=US"
    assert update.entry.not_before == dt.datetime(2022, 7, 31, 7, 26, 45, tzinfo=UTC)
    assert update.log_name == "DigiCert Yeti2022-2 Log"
    data = update.to_dict()
    assert data["names"] == ["cmslieferhit.e06.k-k.de"]
    assert data["log_url"] == "https://yeti2022-2.ct.digicert.com/log"


def test_names_from_all_domains_are_normalised() -> None:
    message = {
        "message_type": "certificate_update",
        "data": {
            "cert_index": 1,
            "leaf_cert": {"all_domains": ["*.Twilio-SSO.com", "twilio-sso.com", "xn--80ak6aa92e.com"]},
        },
    }
    update = parse_certstream_message(message)
    assert update is not None
    assert update.entry.names == ("twilio-sso.com", "\u0430\u0440\u0440\u04cf\u0435.com")
    assert update.entry.not_before is None
    assert update.entry.issuer == ""


def test_heartbeat_carries_nothing() -> None:
    assert parse_certstream_message('{"message_type": "heartbeat", "timestamp": 1.0}') is None


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ("{}", "message_type"),
        ('{"message_type": "certificate_update"}', "data object"),
        ('{"message_type": "certificate_update", "data": {}}', "leaf_cert"),
        ('{"message_type": "certificate_update", "data": {"leaf_cert": {}}}', "all_domains"),
        (
            '{"message_type": "certificate_update", "data": {"leaf_cert": {"all_domains": ["a.example"]}}}',
            "cert_index",
        ),
        (
            '{"message_type": "certificate_update", "data": {"cert_index": 1, "leaf_cert": {"all_domains": [3]}}}',
            "all_domains",
        ),
    ],
)
def test_bad_messages(message: str, error: str) -> None:
    with pytest.raises(CertstreamMessageInvalid, match=error):
        parse_certstream_message(message)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"C": "US", "CN": "R3", "O": "Let's Encrypt"}, "CN=R3,O=Let's Encrypt,C=US"),
        ({"CN": "Acme, Inc. CA", "O": None}, "CN=Acme\\, Inc. CA"),
        ({"CN": "#1 CA "}, "CN=\\#1 CA\\ "),
        ({"aggregated": "/CN=Only"}, "/CN=Only"),
        ({}, ""),
    ],
)
def test_issuer_from_subject_fields(fields: dict, expected: str) -> None:
    assert issuer_from_subject_fields(fields) == expected


def _lines(full_message: str, lite_message: str) -> list[str]:
    one_line = [json.dumps(json.loads(m)) for m in (full_message, lite_message)]
    return [one_line[0], "", '{"message_type": "heartbeat"}', "{broken json", one_line[1], '"just a string"']


def test_replay_keeps_going_past_a_bad_line(full_message: str, lite_message: str) -> None:
    items = list(iter_replay(_lines(full_message, lite_message)))
    assert [(i.number, i.update is not None, i.error is not None) for i in items] == [
        (1, True, False),
        (4, False, True),
        (5, True, False),
        (6, False, True),
    ]
    assert items[0].update.entry.names == ("access.smm-cheap.com", "www.access.smm-cheap.com")
    assert items[2].update.entry.names == ("cmslieferhit.e06.k-k.de",)
    assert "not JSON" in items[1].error
    assert items[1].to_dict() == {"number": 4, "error": items[1].error}


def test_open_replay_from_file_and_stdin(tmp_path: Path, full_message: str, lite_message: str) -> None:
    path = tmp_path / "updates.jsonl"
    path.write_text("\n".join(_lines(full_message, lite_message)) + "\n")
    with open_replay(path) as items:
        from_file = [(i.number, i.error is None) for i in items]
    stdin = io.StringIO(path.read_text())
    with open_replay("-", stdin=stdin) as items:
        from_stdin = [(i.number, i.error is None) for i in items]
    assert from_file == from_stdin == [(1, True), (4, False), (5, True), (6, False)]


def test_websocket_client_reads_updates_and_reconnects(full_message: str, lite_message: str) -> None:
    messages = [json.dumps(json.loads(full_message)), '{"message_type": "heartbeat"}', "oops", lite_message]
    with ct_logs.CertstreamServer(messages, close_after_first=True) as server:
        sleeps: list[float] = []
        client = CertstreamClient(
            server.url, retry=RetryPolicy(attempts=3, base_delay=0.01, jitter=0.0), sleep=sleeps.append
        )
        items = list(client.items(max_items=6))
    assert [i.update.entry.index if i.update else i.error for i in items][:3] == [
        343999487,
        "not JSON: Expecting value: line 1 column 1 (char 0)",
        712420366,
    ]
    assert [i.update.entry.index if i.update else "error" for i in items][3:] == [343999487, "error", 712420366]
    assert client.connections == 2
    assert sleeps == [0.01]  # one short pause before reconnecting after the server closed


def test_websocket_client_stop_event(full_message: str) -> None:
    stop = threading.Event()
    with ct_logs.CertstreamServer([full_message]) as server:
        client = CertstreamClient(server.url, stop=stop)
        items = client.items()
        first = next(items)
        stop.set()
        rest = list(items)
    assert first.update is not None
    assert rest == []


def test_websocket_client_gives_up_when_unreachable() -> None:
    server = ct_logs.CertstreamServer([]).start()
    url = server.url
    server.stop()
    sleeps: list[float] = []
    client = CertstreamClient(
        url, retry=RetryPolicy(attempts=3, base_delay=0.25, jitter=0.0, timeout=2), sleep=sleeps.append
    )
    with pytest.raises(LogUnavailable, match="unreachable after 3 attempts"):
        list(client.items())
    assert sleeps == [0.25, 0.5]


def test_websocket_client_refuses_non_ws_url() -> None:
    with pytest.raises(ValueError, match="ws://"):
        CertstreamClient("http://127.0.0.1:1/")
