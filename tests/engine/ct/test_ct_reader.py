"""LogReader against real logs served on 127.0.0.1: RFC 6962 and static-CT API, faults injected."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import ct_logs
import pytest

from smishguard.engine.ct import (
    HttpClient,
    LogInfo,
    LogReader,
    LogRequestFailed,
    LogUnavailable,
    RetryPolicy,
    TreeHeadInvalid,
    parse_log_list,
    source_for,
)

LOOKALIKES = ["twilio-sso.com", "twilio-okta.com", "cloudflare-okta.com", "okta-twilio.com"]
OFFICIAL = ["twilio.com", "www.twilio.com", "okta.com", "login.okta.com"]


class Sleeps(list):
    """Records the waits the client asks for instead of waiting (a clock, not a mock of our code)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(sleeps: Sleeps | None = None, attempts: int = 4) -> HttpClient:
    policy = RetryPolicy(attempts=attempts, base_delay=0.5, max_delay=4.0, timeout=5.0, jitter=0.0)
    return HttpClient(retry=policy, sleep=sleeps if sleeps is not None else Sleeps())


def _populate(log: ct_logs._BaseLog, ca: ct_logs.TestCA, count: int) -> list[tuple[str, ...]]:
    """Add ``count`` entries (alternating certs and precerts over lookalike and official names)."""
    names = []
    pool = LOOKALIKES + OFFICIAL
    for i in range(count):
        host = pool[i % len(pool)]
        san = [host, f"www{i}.{host}"]
        log.add(ca.issue(san, precert=i % 2 == 1))
        names.append((host, f"www{i}.{host}"))
    return names


def _read_all(reader: LogReader) -> Iterator:
    return list(reader.batches())


@pytest.fixture
def rfc_log(test_ca: ct_logs.TestCA) -> Iterator[ct_logs.RFC6962Log]:
    log = ct_logs.RFC6962Log(test_ca, description="test rfc6962 log")
    with log:
        yield log


@pytest.fixture
def static_log(test_ca: ct_logs.TestCA) -> Iterator[ct_logs.StaticCTLog]:
    log = ct_logs.StaticCTLog(test_ca, description="test static log")
    with log:
        yield log


def test_rfc6962_reads_every_entry_once_with_names(rfc_log: ct_logs.RFC6962Log, test_ca) -> None:
    expected = _populate(rfc_log, test_ca, 25)
    reader = LogReader(source_for(rfc_log.log_info(), _client()), batch_size=10)
    batches = _read_all(reader)
    assert [(b.start, b.next_index, b.tree_size) for b in batches] == [(0, 10, 25), (10, 20, 25), (20, 25, 25)]
    entries = [e for b in batches for e in b.entries]
    assert [e.index for e in entries] == list(range(25))
    assert [e.names for e in entries] == expected
    assert [e.kind for e in entries[:4]] == ["x509", "precert", "x509", "precert"]
    assert all(e.issuer == "CN=smishguard Test CA,O=smishguard tests,C=US" for e in entries)
    assert batches[-1].lag == 0
    assert reader.position == 25


def test_rfc6962_short_batches_follow_the_log(rfc_log: ct_logs.RFC6962Log, test_ca) -> None:
    _populate(rfc_log, test_ca, 10)
    rfc_log.faults.max_batch = 3
    reader = LogReader(source_for(rfc_log.log_info(), _client()), batch_size=8)
    batches = _read_all(reader)
    assert [(b.start, b.next_index) for b in batches] == [(0, 3), (3, 6), (6, 9), (9, 10)]
    asked = [p for p in rfc_log.requests if "get-entries" in p]
    assert asked[0].endswith("start=0&end=7")
    assert asked[1].endswith("start=3&end=9")  # asks from where the log actually stopped


def test_rfc6962_retries_429_honouring_retry_after_and_500_with_backoff(rfc_log, test_ca) -> None:
    _populate(rfc_log, test_ca, 4)
    rfc_log.faults.queue = [(429, "3"), (500, None), (503, None)]
    sleeps = Sleeps()
    reader = LogReader(source_for(rfc_log.log_info(), _client(sleeps, attempts=5)))
    batches = _read_all(reader)
    assert [e.index for b in batches for e in b.entries] == [0, 1, 2, 3]
    assert sleeps == [3.0, 1.0, 2.0]  # Retry-After, then 0.5 * 2**1, 0.5 * 2**2


def test_rfc6962_gives_up_after_the_retry_budget(rfc_log, test_ca) -> None:
    _populate(rfc_log, test_ca, 2)
    rfc_log.faults.queue = [(500, None)] * 3
    sleeps = Sleeps()
    reader = LogReader(source_for(rfc_log.log_info(), _client(sleeps, attempts=3)))
    with pytest.raises(LogUnavailable, match="HTTP 500") as info:
        reader.refresh()
    assert info.value.status == 500
    assert sleeps == [0.5, 1.0]
    assert reader.tree_head is None


def test_client_errors_are_not_retried(rfc_log: ct_logs.RFC6962Log) -> None:
    sleeps = Sleeps()
    client = _client(sleeps)
    with pytest.raises(LogRequestFailed, match="HTTP 404") as info:
        client.get(rfc_log.url + "ct/v1/nope")
    assert info.value.status == 404
    assert not isinstance(info.value, LogUnavailable)
    assert sleeps == []


def test_unreachable_log_is_unavailable() -> None:
    log = ct_logs.RFC6962Log()
    log.start()
    url = log.url
    log.stop()  # nothing listens there any more
    sleeps = Sleeps()
    with pytest.raises(LogUnavailable, match="attempts"):
        _client(sleeps, attempts=2).get(url + "ct/v1/get-sth")
    assert sleeps == [0.5]


def test_bad_signature_is_refused_and_reader_stays_put(rfc_log: ct_logs.RFC6962Log, test_ca) -> None:
    _populate(rfc_log, test_ca, 6)
    reader = LogReader(source_for(rfc_log.log_info(), _client()), batch_size=6)
    first = reader.read()
    assert (first.next_index, first.tree_size) == (6, 6)
    _populate(rfc_log, test_ca, 4)
    rfc_log.faults.bad_signature = True
    with pytest.raises(TreeHeadInvalid):
        reader.read()  # caught up: needs a new head, which is forged
    assert reader.position == 6
    assert reader.tree_head is not None
    assert reader.tree_head.tree_size == 6
    assert not any("start=6" in p for p in rfc_log.requests)  # nothing read past the verified head
    rfc_log.faults.bad_signature = False
    batch = reader.read()
    assert (batch.start, batch.next_index, batch.tree_size) == (6, 10, 10)


def test_bad_signature_on_first_head_reads_nothing(rfc_log: ct_logs.RFC6962Log, test_ca) -> None:
    _populate(rfc_log, test_ca, 3)
    rfc_log.faults.bad_signature = True
    reader = LogReader(source_for(rfc_log.log_info(), _client()))
    with pytest.raises(TreeHeadInvalid):
        list(reader.batches())
    assert not any("get-entries" in p for p in rfc_log.requests)


def test_log_that_shrinks_is_refused(rfc_log: ct_logs.RFC6962Log, test_ca) -> None:
    _populate(rfc_log, test_ca, 5)
    reader = LogReader(source_for(rfc_log.log_info(), _client()))
    reader.refresh()
    rfc_log.published_size = 3
    with pytest.raises(TreeHeadInvalid, match="smaller"):
        reader.refresh()
    assert reader.tree_head.tree_size == 5


def test_resume_from_stored_position_has_no_gap_and_no_repeat(rfc_log: ct_logs.RFC6962Log, test_ca) -> None:
    _populate(rfc_log, test_ca, 12)
    info = rfc_log.log_info()
    first = LogReader(source_for(info, _client()), batch_size=5)
    stored = first.read().next_index  # the caller commits this with the batch's alerts, then "crashes"
    second = LogReader(source_for(info, _client()), start=stored, batch_size=5)
    rest = [e.index for b in second.batches() for e in b.entries]
    assert stored == 5
    assert rest == list(range(5, 12))


def test_follow_mode_picks_up_new_entries_and_survives_a_forged_head(rfc_log, test_ca) -> None:
    _populate(rfc_log, test_ca, 2)
    reader = LogReader(source_for(rfc_log.log_info(), _client()))
    stop = threading.Event()
    refused: list[TreeHeadInvalid] = []
    polls = iter(range(100))

    def on_invalid(exc: TreeHeadInvalid) -> None:
        refused.append(exc)
        rfc_log.faults.bad_signature = False  # the next poll gets an honest head

    def fake_wait(_: float) -> None:
        n = next(polls)
        if n == 0:
            _populate(rfc_log, test_ca, 3)
            rfc_log.faults.bad_signature = True
        if n == 3:
            stop.set()

    batches = reader.batches(
        follow=True, poll_interval=0.0, sleep=fake_wait, stop=stop, on_invalid_tree_head=on_invalid
    )
    seen = [e.index for batch in batches for e in batch.entries]
    assert seen == [0, 1, 2, 3, 4]
    assert len(refused) == 1
    assert reader.position == 5


def test_stop_event_ends_follow_mode(rfc_log, test_ca) -> None:
    _populate(rfc_log, test_ca, 1)
    stop = threading.Event()
    reader = LogReader(source_for(rfc_log.log_info(), _client()))
    batches = reader.batches(follow=True, poll_interval=30.0, stop=stop)
    assert [e.index for e in next(batches).entries] == [0]
    stop.set()
    assert list(batches) == []


def test_position_beyond_tree_head_is_an_error(rfc_log, test_ca) -> None:
    _populate(rfc_log, test_ca, 2)
    reader = LogReader(source_for(rfc_log.log_info(), _client()), start=5)
    with pytest.raises(LogRequestFailed, match="beyond"):
        reader.read()


def test_empty_get_entries_answer_is_an_error(rfc_log: ct_logs.RFC6962Log, test_ca) -> None:
    _populate(rfc_log, test_ca, 2)
    source = source_for(rfc_log.log_info(), _client())
    rfc_log.published_size = 2
    rfc_log.entries.clear()  # the head says 2 but the log serves nothing
    with pytest.raises(LogRequestFailed):
        source.fetch_entries(0, 2, 2)


def test_log_list_drives_both_log_kinds(rfc_log, static_log, test_ca) -> None:
    _populate(rfc_log, test_ca, 3)
    _populate(static_log, test_ca, 3)
    logs = parse_log_list(ct_logs.log_list(rfc_log, static_log))
    assert [log.api for log in logs] == ["rfc6962", "static"]
    for log in logs:
        entries = [e for b in LogReader(source_for(log, _client())).batches() for e in b.entries]
        assert [e.names[0] for e in entries] == LOOKALIKES[:3]


# ---------------------------------------------------------------- static CT


def test_static_reads_full_and_partial_tiles(static_log: ct_logs.StaticCTLog, test_ca) -> None:
    expected = _populate(static_log, test_ca, 300)
    reader = LogReader(source_for(static_log.log_info(), _client()), batch_size=256)
    batches = _read_all(reader)
    assert [(b.start, b.next_index, b.tree_size) for b in batches] == [(0, 256, 300), (256, 300, 300)]
    entries = [e for b in batches for e in b.entries]
    assert [e.index for e in entries] == list(range(300))
    assert [e.names for e in entries] == expected
    tiles = [p for p in static_log.requests if "/tile/" in p]
    assert tiles == ["/mon/tile/data/000", "/mon/tile/data/001.p/44"]


def test_static_small_batches_share_one_tile_fetch(static_log: ct_logs.StaticCTLog, test_ca) -> None:
    _populate(static_log, test_ca, 20)
    reader = LogReader(source_for(static_log.log_info(), _client()), batch_size=7)
    batches = _read_all(reader)
    assert [(b.start, b.next_index) for b in batches] == [(0, 7), (7, 14), (14, 20)]
    assert [p for p in static_log.requests if "/tile/" in p] == ["/mon/tile/data/000.p/20"]


def test_static_gzip_tiles_and_partial_fallback(static_log: ct_logs.StaticCTLog, test_ca) -> None:
    _populate(static_log, test_ca, 256)
    static_log.published_size = 200  # the checkpoint says 200: a partial tile of 200 is asked for
    static_log.faults.gzip_tiles = True
    static_log.faults.serve_partial_tiles = False  # ... but it is gone, the full tile exists
    reader = LogReader(source_for(static_log.log_info(), _client()), batch_size=256)
    batches = _read_all(reader)
    assert [(b.start, b.next_index, b.tree_size) for b in batches] == [(0, 200, 200)]
    assert [p for p in static_log.requests if "/tile/" in p] == ["/mon/tile/data/000.p/200", "/mon/tile/data/000"]


def test_static_bad_checkpoint_signature_refused(static_log: ct_logs.StaticCTLog, test_ca) -> None:
    _populate(static_log, test_ca, 3)
    static_log.faults.bad_signature = True
    reader = LogReader(source_for(static_log.log_info(), _client()))
    with pytest.raises(TreeHeadInvalid, match="does not verify"):
        reader.read()
    assert reader.tree_head is None
    assert reader.position == 0
    assert not any("/tile/" in p for p in static_log.requests)


def test_static_checkpoint_from_wrong_log_key_refused(static_log: ct_logs.StaticCTLog, test_ca) -> None:
    _populate(static_log, test_ca, 3)
    other = ct_logs.LogKey()
    info = LogInfo.from_key(other.spki, url=static_log.url, submission_url=static_log.submission_url, api="static")
    with pytest.raises(TreeHeadInvalid, match="no signature from the log's key"):
        LogReader(source_for(info, _client())).refresh()


def test_static_retries_429_and_500(static_log: ct_logs.StaticCTLog, test_ca) -> None:
    _populate(static_log, test_ca, 5)
    static_log.faults.queue = [(500, None), (429, "0")]
    sleeps = Sleeps()
    reader = LogReader(source_for(static_log.log_info(), _client(sleeps)))
    assert [e.index for b in reader.batches() for e in b.entries] == [0, 1, 2, 3, 4]
    assert sleeps == [0.5, 0.0]


def test_static_truncated_tile_is_refused(static_log: ct_logs.StaticCTLog, test_ca) -> None:
    _populate(static_log, test_ca, 5)
    static_log.published_size = 5
    reader = LogReader(source_for(static_log.log_info(), _client()))
    reader.refresh()
    del static_log.entries[3:]  # the tile now holds 3 leaves, the checkpoint promised 5
    static_log.faults.serve_partial_tiles = True
    with pytest.raises(LogRequestFailed):
        reader.read()
    assert reader.position == 0
