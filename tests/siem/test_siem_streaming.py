"""The audit trail streamed to real receivers on 127.0.0.1, stopped and started again mid-stream: every event
arrives, in id order, once (HTTP: a 2xx moves the stream; syslog: a repeat only after a connection broke after the
send, and it carries the same id)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from siem_receivers import HttpReceiver, SyslogReceiver, make_ca, parse_rfc5424
from twilio_fixtures import keeping_the_test_connection

from smishguard.audit import Action, record
from smishguard.audit.models import Event
from smishguard.outbox import queue
from smishguard.outbox import worker as outbox_worker
from smishguard.outbox.models import Delivery
from smishguard.siem import streaming
from smishguard.siem.models import Stream

pytestmark = pytest.mark.django_db

TOKEN = "hec-token-0123456789abcdef"


def write(count: int, *, action: Action = Action.SIGNIN_FAILED) -> list[int]:
    """Record ``count`` audit events with awkward text in them; their ids."""
    return [
        record(action, actor_label=f'anonymous "{n}" ]', subject_label=f"e{n}@example.com", note=f"ü\n{n}").pk
        for n in range(count)
    ]


def every_id() -> list[int]:
    return list(Event.objects.order_by("id").values_list("id", flat=True))


def run_pass() -> list[str]:
    """What the worker does for the streams on one pass, without the queue's wait: record each stream's next
    batch, and attempt every unfinished one now (the back-off's wait skipped)."""
    for config in streaming.streams():
        streaming.pump(config)
    unfinished = Delivery.objects.filter(kind=streaming.KIND, status__in=streaming.UNFINISHED).order_by("id")
    return [queue.attempt(delivery.pk) for delivery in unfinished]


def drain() -> None:
    for _ in range(1000):
        results = run_pass()
        assert "retry" not in results, Delivery.objects.filter(kind="siem").last().last_error
        if not results and all(s.backlog == 0 for s in streaming.status()):
            return
    raise AssertionError("the streams did not drain")


def hec_ids(receiver: HttpReceiver) -> list[int]:
    return [json.loads(line)["event"]["id"] for body, _ in receiver.posts for line in body.splitlines()]


def syslog_ids(receiver: SyslogReceiver) -> list[int]:
    return [int(parse_rfc5424(m)["sd"]["smishguard@32473"]["id"]) for m in receiver.messages]


def test_hec_stream_survives_its_receiver_stopped_mid_stream(streams, monkeypatch):
    monkeypatch.setenv("SG_TEST_HEC_TOKEN", TOKEN)
    with HttpReceiver() as hec:
        streams(
            {"name": "splunk", "kind": "http", "url": hec.url, "format": "hec", "token_env": "SG_TEST_HEC_TOKEN",
             "batch_size": 7}
        )  # fmt: skip
        write(20)
        assert run_pass() == ["delivered"]
        assert run_pass() == ["delivered"]
        assert len(hec_ids(hec)) == 14
        hec.stop()
        write(15)
        assert run_pass() == ["retry"]  # refused: queued again with back-off
        assert run_pass() == ["retry"]
        row = Stream.objects.get(name="splunk")
        assert row.position == every_id()[13]  # moved only by what the receiver accepted
        [waiting] = Delivery.objects.filter(kind="siem", status="pending")
        assert waiting.attempts == 2
        assert f"POST to http://127.0.0.1:{hec.port}/… failed" in waiting.last_error
        assert waiting.next_attempt_at is not None
        hec.start()
        drain()
    assert hec_ids(hec) == every_id()  # every event, once, in order
    for body, headers in hec.posts:
        assert headers["Authorization"] == f"Splunk {TOKEN}"
        assert headers["Content-Type"] == "application/json"
        assert headers["Idempotency-Key"].startswith("smishguard-siem:splunk:")
        for line in body.splitlines():
            event = json.loads(line)
            assert set(event) == {"time", "host", "source", "sourcetype", "event"}
            assert isinstance(event["time"], float)
            assert event["sourcetype"] == "smishguard:audit"
    assert len({headers["Idempotency-Key"] for _, headers in hec.posts}) == len(hec.posts)
    row = Stream.objects.get(name="splunk")
    assert (row.position, row.delivered, row.late) == (every_id()[-1], len(every_id()), 0)


def test_a_refused_batch_is_retried_not_dropped(streams, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with HttpReceiver(statuses=(503, 401, 400)) as plain:
        streams({"name": "plain", "kind": "http", "url": plain.url, "format": "jsonl", "token_file": str(token_file)})
        write(5)
        assert run_pass() == ["retry"]
        assert run_pass() == ["retry"]  # a 4xx too: a stream never skips a batch (siem status shows why)
        assert run_pass() == ["retry"]
        assert "answered HTTP 400" in Delivery.objects.get(kind="siem").last_error
        drain()
    lines = [json.loads(line) for body, _ in plain.posts for line in body.splitlines()]
    assert [line["id"] for line in lines] == every_id()
    assert lines[-1]["action"] == "passkeys:signin:failed"
    assert plain.posts[0][1]["Authorization"] == f"Bearer {TOKEN}"
    assert plain.posts[0][1]["Content-Type"] == "application/x-ndjson"


def test_a_missing_token_holds_the_stream_and_says_where(streams, caplog, monkeypatch):
    monkeypatch.delenv("SG_TEST_HEC_TOKEN", raising=False)
    with HttpReceiver() as hec:
        streams({"name": "splunk", "kind": "http", "url": hec.url, "format": "hec", "token_env": "SG_TEST_HEC_TOKEN"})
        write(2)
        assert run_pass() == ["retry"]
        assert hec.posts == []
        error = Delivery.objects.get(kind="siem").last_error
        assert "SG_TEST_HEC_TOKEN (token_env) is not set" in error
        monkeypatch.setenv("SG_TEST_HEC_TOKEN", TOKEN)
        drain()
    assert hec_ids(hec) == every_id()
    assert TOKEN not in caplog.text


def test_syslog_stream_survives_its_receiver_stopped_mid_stream(streams):
    with SyslogReceiver() as syslog:
        streams({"name": "soc", "kind": "syslog", "host": "127.0.0.1", "port": syslog.port, "tls": False,
                 "batch_size": 6})  # fmt: skip
        write(10)
        assert run_pass() == ["delivered"]
        syslog.stop()
        write(10)
        assert run_pass() == ["retry"]
        error = Delivery.objects.get(kind="siem", status="pending").last_error
        assert f"cannot connect to 127.0.0.1:{syslog.port}" in error
        syslog.start()
        drain()
    received = syslog_ids(syslog)
    assert received == every_id()  # refused connections sent nothing: no repeat, in order
    for message in syslog.messages:
        parsed = parse_rfc5424(message)
        assert parsed["msgid"] == "audit"
        event = json.loads(parsed["msg"])
        assert str(event["id"]) == parsed["sd"]["smishguard@32473"]["id"]
        assert parsed["sd"]["smishguard@32473"]["actor"] == event["actor"]


def test_a_syslog_connection_broken_after_the_send_repeats_the_batch_with_the_same_ids(streams):
    with SyslogReceiver() as syslog:
        streams({"name": "soc", "kind": "syslog", "host": "127.0.0.1", "port": syslog.port, "tls": False})
        write(4)
        syslog.reset_next = 1  # reads the whole batch, then resets the connection
        assert run_pass() == ["retry"]
        assert Stream.objects.get(name="soc").position == 0
        drain()
    received = syslog_ids(syslog)
    assert received == every_id() + every_id()  # the whole batch again: a receiver drops the repeat by its id
    assert syslog.messages[: len(every_id())] == syslog.messages[len(every_id()) :]
    assert list(dict.fromkeys(received)) == every_id()


def test_syslog_over_tls_with_the_stream_s_own_ca(streams, tmp_path):
    ca, cert, key = make_ca(tmp_path)
    with SyslogReceiver(tls=(cert, key)) as syslog:
        streams({"name": "soc", "kind": "syslog", "host": "127.0.0.1", "port": syslog.port, "ca_file": str(ca),
                 "batch_size": 5})  # fmt: skip
        write(8)
        assert run_pass() == ["delivered"]
        syslog.stop()
        write(4)
        assert run_pass() == ["retry"]
        syslog.start()
        drain()
    assert syslog_ids(syslog) == every_id()
    assert all(parse_rfc5424(m)["app"] == "smishguard" for m in syslog.messages)


def test_syslog_over_tls_refuses_a_receiver_it_cannot_verify(streams, tmp_path):
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    our_ca, _, _ = make_ca(tmp_path / "ours")
    _, cert, key = make_ca(tmp_path / "theirs")
    with SyslogReceiver(tls=(cert, key)) as syslog:
        streams({"name": "soc", "kind": "syslog", "host": "127.0.0.1", "port": syslog.port, "ca_file": str(our_ca)})
        write(2)
        assert run_pass() == ["retry"]
        assert "TLS handshake with 127.0.0.1" in Delivery.objects.get(kind="siem").last_error
        assert syslog.messages == []
        assert Stream.objects.get(name="soc").position == 0


def test_two_streams_each_get_everything_in_order(streams):
    with SyslogReceiver() as syslog, HttpReceiver() as plain:
        streams(
            {"name": "soc", "kind": "syslog", "host": "127.0.0.1", "port": syslog.port, "tls": False,
             "batch_size": 3},
            {"name": "lake", "kind": "http", "url": plain.url, "batch_size": 4},
        )  # fmt: skip
        write(11)
        plain.stop()  # one stream's receiver down does not hold the other
        run_pass()
        run_pass()
        assert syslog_ids(syslog) == every_id()[:6]
        plain.start()
        drain()
    assert syslog_ids(syslog) == every_id()
    assert [json.loads(line)["id"] for body, _ in plain.posts for line in body.splitlines()] == every_id()


def test_events_younger_than_the_horizon_wait(streams):
    with HttpReceiver() as plain:
        [config] = streams({"name": "lake", "kind": "http", "url": plain.url}, horizon_seconds=60)
        write(2)
        assert streaming.pump(config) is None  # a lower id may still commit on PostgreSQL
        later = timezone.now() + timedelta(seconds=61)
        batch = streaming.pump(config, now=later)
        assert batch is not None
        assert batch.payload["ids"] == every_id()


def test_two_workers_looking_at_once_record_one_batch(streams):
    with HttpReceiver() as plain:
        [config] = streams({"name": "lake", "kind": "http", "url": plain.url})
        write(3)
        batch = streaming.pump(config)
        assert streaming.pump(config) is None  # one unfinished batch per stream
        # A worker that read the stream before this batch was recorded names the same key: nothing new.
        _, created = queue.record(streaming.KIND, "siem:lake:0", target_id=batch.target_id, payload={})
        assert not created
        assert Delivery.objects.filter(kind="siem").count() == 1


def test_an_event_that_commits_late_is_sent_late_not_lost(streams):
    with HttpReceiver() as plain:
        streams({"name": "lake", "kind": "http", "url": plain.url})
        write(3)
        newest = every_id()[-1]
        # A transaction that took id newest+1 is still open while newest+2 commits (PostgreSQL's sequences):
        at = timezone.now()
        Event.objects.bulk_create([Event(id=newest + 2, at=at, action=Action.SIGNIN_SUCCEEDED.value)])
        drain()
        row = Stream.objects.get(name="lake")
        assert row.position == newest + 2
        assert str(newest + 1) in row.skipped  # watched for a late commit (on PostgreSQL, so are earlier tests' ids)
        Event.objects.bulk_create([Event(id=newest + 1, at=at, action=Action.SIGNIN_SUCCEEDED.value)])
        drain()
    lines = [json.loads(line) for body, _ in plain.posts for line in body.splitlines()]
    assert [line["id"] for line in lines] == [*every_id()[:-2], newest + 2, newest + 1]
    assert lines[-1]["late"] is True
    assert "late" not in lines[-2]
    row = Stream.objects.get(name="lake")
    assert (row.late, row.delivered) == (1, len(every_id()))
    assert str(newest + 1) not in row.skipped


def test_start_now_skips_the_past(streams):
    with HttpReceiver() as plain:
        past = write(3)
        streams({"name": "lake", "kind": "http", "url": plain.url, "start": "now"})
        [started] = Event.objects.filter(action=Action.SIEM_STREAM_STARTED)
        assert started.subject_label == "lake"
        assert started.detail == {
            "kind": "http", "target": f"http://127.0.0.1:{plain.port}/…", "start": "now", "position": past[-1]
        }  # fmt: skip
        new = write(2)
        drain()
    lines = [json.loads(line) for body, _ in plain.posts for line in body.splitlines()]
    assert [line["id"] for line in lines] == [started.pk, *new]  # the stream's first message: where it began
    assert lines[0]["action"] == "siem:stream:started"


def test_the_worker_loop_streams_what_is_written(streams):
    with SyslogReceiver() as syslog:
        streams({"name": "soc", "kind": "syslog", "host": "127.0.0.1", "port": syslog.port, "tls": False,
                 "batch_size": 4})  # fmt: skip
        write(9)

        def waiting() -> int:
            return sum(s.backlog for s in streaming.status()) + queue.unfinished(streaming.KIND)

        with keeping_the_test_connection():
            outbox_worker.run(
                interval=0.02, until_idle=True, unfinished=waiting, timeout=60, handle_signals=False, recovery_every=1
            )
    assert syslog_ids(syslog) == every_id()
    assert Delivery.objects.filter(kind="siem", status="delivered").count() == 3


def test_siem_status_shows_each_stream_s_position_backlog_and_batch(streams, capsys, monkeypatch):
    import smishguard.clitools
    from smishguard.cli import main

    monkeypatch.setattr(smishguard.clitools, "_django_ready", True)
    with HttpReceiver() as plain:
        streams({"name": "lake", "kind": "http", "url": plain.url, "batch_size": 2})
        write(5)
        run_pass()
        plain.stop()
        run_pass()
        assert main(["siem", "status", "--json"]) == 0
        [line] = capsys.readouterr().out.splitlines()
        lake = json.loads(line)
        assert (lake["name"], lake["kind"], lake["configured"]) == ("lake", "http", True)
        assert (lake["position"], lake["backlog"], lake["delivered"]) == (every_id()[1], len(every_id()) - 2, 2)
        assert lake["newest"] == every_id()[-1]
        assert lake["batch"]["status"] == "pending"
        assert lake["batch"]["attempts"] == 1
        assert "failed" in lake["batch"]["last_error"]
        assert lake["behind"] is False
        assert main(["siem", "status"]) == 0
        text = capsys.readouterr().out
        assert f"lake (http to http://127.0.0.1:{plain.port}/…)" in text
        assert f"{len(every_id()) - 2} event(s) waiting" in text
        streams({"name": "lake", "kind": "http", "url": plain.url}, lag_warning_seconds=0)
        assert main(["siem", "status"]) == 1  # further behind than [siem] lag_warning_seconds
        assert "BEHIND" in capsys.readouterr().out


def test_siem_status_without_streams_says_how_to_add_one(capsys, monkeypatch):
    import smishguard.clitools
    from smishguard.cli import main

    monkeypatch.setattr(smishguard.clitools, "_django_ready", True)
    assert main(["siem", "status"]) == 0
    assert "add [[siem.streams]] to smishguard.toml" in capsys.readouterr().out


def test_doctor_names_a_stream_that_is_behind_and_its_receiver_down(streams):
    from smishguard.doctor import Report, siem_streams

    with HttpReceiver() as plain, SyslogReceiver() as syslog:
        streams(
            {"name": "lake", "kind": "http", "url": plain.url},
            {"name": "soc", "kind": "syslog", "host": "127.0.0.1", "port": syslog.port, "tls": False},
            lag_warning_seconds=0,
        )
        write(2)
        streaming.pump(streaming.streams()[1])
        assert queue.attempt(Delivery.objects.get(kind="siem").pk) == "delivered"
        plain.stop()
        run_pass()
        report = Report()
        siem_streams(report)
    assert report.reachable["siem soc"] == "ok"
    lake = report.reachable["siem lake"]
    assert f"http://127.0.0.1:{plain.port}/… does not answer" in lake
    assert f"{len(every_id())} event(s) waiting" in lake
    assert "last error: POST to" in lake
    assert not report.healthy


def test_a_batch_a_crashed_worker_left_in_flight_is_sent_after_its_lease(streams):
    with HttpReceiver() as plain:
        streams({"name": "lake", "kind": "http", "url": plain.url})
        write(3)
        batch = streaming.pump(streaming.streams()[0])
        # A worker claimed it and died (kill -9) before the mark: ``sending``, claimed longer ago than the lease.
        claimed = timezone.now() - timedelta(seconds=streaming.LEASE_SECONDS + 1)
        Delivery.objects.filter(pk=batch.pk).update(status="sending", attempts=1, attempted_at=claimed)
        assert streaming.pump(streaming.streams()[0]) is None  # still this stream's batch: nothing overtakes it
        queue.recover()  # (its task is still queued here; had it been lost, recovery would queue one)
        assert queue.attempt(batch.pk) == "delivered"  # in doubt, no reconciler: sent under the same key
        drain()
    assert [json.loads(line)["id"] for body, _ in plain.posts for line in body.splitlines()] == every_id()
    assert plain.posts[0][1]["Idempotency-Key"] == "smishguard-siem:lake:0"
