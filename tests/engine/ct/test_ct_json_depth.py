"""Untrusted JSON nested deeper than any CT document (from a log, a log list or certstream) gets the engine's
narrow error, never a RecursionError from the JSON decoder (issue 10, item 12)."""

from __future__ import annotations

import json
from pathlib import Path

import ct_logs
import pytest

from smishguard.engine.ct import (
    CertstreamClient,
    CertstreamMessageInvalid,
    HttpClient,
    LogListInvalid,
    LogReader,
    LogRequestFailed,
    RetryPolicy,
    iter_replay,
    parse_certstream_message,
    parse_log_list,
    source_for,
)

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000
DEEP = [DEEP_ARRAY, DEEP_OBJECT, DEEP_ARRAY.encode()]


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture(scope="module")
def full_message(ct_data: Path) -> str:
    return json.dumps(json.loads((ct_data / "certstream_example_calidog.json").read_text()))


@pytest.fixture(scope="module")
def lite_message(ct_data: Path) -> str:
    return json.dumps(json.loads((ct_data / "certstream_example_lite_certstream-server-go.json").read_text()))


@pytest.mark.parametrize("document", DEEP, ids=["array", "object", "bytes"])
def test_deep_certstream_message_is_refused_narrowly(document) -> None:
    with pytest.raises(CertstreamMessageInvalid, match="nested"):
        parse_certstream_message(document)


@pytest.mark.parametrize("document", DEEP, ids=["array", "object", "bytes"])
def test_deep_log_list_is_refused_narrowly(document) -> None:
    with pytest.raises(LogListInvalid, match="nested"):
        parse_log_list(document)


def test_a_message_as_deep_as_real_ones_still_parses(full_message: str) -> None:
    message = json.loads(full_message)
    message["data"]["extensions"] = nested(30)  # an unknown field, nested deeper than any real message
    update = parse_certstream_message(json.dumps(message))
    assert update is not None
    assert update.entry.names == ("access.smm-cheap.com", "www.access.smm-cheap.com")


def test_deep_answers_from_a_log_raise_log_request_failed(test_ca: ct_logs.TestCA) -> None:
    log = ct_logs.RFC6962Log(test_ca, description="Deep log")
    log.add(test_ca.issue(["twilio-sso.com"]))
    log.faults.nested_json = True
    with log:
        client = HttpClient(retry=RetryPolicy(attempts=1))
        with pytest.raises(LogRequestFailed, match="nested"):
            client.get_json(log.url + "ct/v1/get-sth")
        with pytest.raises(LogRequestFailed, match="nested"):
            client.get_json(log.url + "ct/v1/get-entries?start=0&end=0")
        reader = LogReader(source_for(log.log_info(), client))
        with pytest.raises(LogRequestFailed, match="nested"):
            reader.refresh()
        # The same log, answering well again, is read as before.
        log.faults.nested_json = False
        assert [e.names for e in next(iter(reader.batches())).entries] == [("twilio-sso.com",)]


def test_replay_keeps_going_past_a_deep_line(full_message: str, lite_message: str) -> None:
    items = list(iter_replay([full_message, DEEP_ARRAY, lite_message]))
    assert [i.update is not None for i in items] == [True, False, True]
    assert "nested" in items[1].error


def test_websocket_client_keeps_going_past_a_deep_message(full_message: str, lite_message: str) -> None:
    with ct_logs.CertstreamServer([full_message, DEEP_OBJECT, lite_message]) as server:
        client = CertstreamClient(server.url, retry=RetryPolicy(attempts=1))
        items = list(client.items(max_items=3))
    assert [i.update.entry.index if i.update else "error" for i in items] == [343999487, "error", 712420366]
    assert "nested" in items[1].error


def test_the_limit_is_64_levels_whether_the_decoder_gives_up_or_not() -> None:
    from smishguard.engine.ct.jsondoc import MAX_DEPTH, loads

    assert loads(json.dumps(nested(MAX_DEPTH - 1))) == nested(MAX_DEPTH - 1)  # 64 levels with the innermost list
    for depth in (MAX_DEPTH, 500, 100_000):  # 500 decodes, 100,000 makes the decoder recurse too deep
        with pytest.raises(ValueError, match="nested deeper than 64 levels"):
            loads("[" * (depth + 1) + "]" * (depth + 1))
