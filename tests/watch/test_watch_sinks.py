"""Sinks: the JSON lines file (each alert once) and the webhook (through the task queue, retried)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from twilio_fixtures import keeping_the_test_connection
from watch_support import EXPECTED, write_log_list

from smishguard.audit.models import Event
from smishguard.outbox.models import Delivery
from smishguard.watch.models import LookalikeAlert, SinkDelivery

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver on 127.0.0.1 answering ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.calls: list[tuple[int, dict[str, str], dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                del args

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.calls.append((status, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_tasks() -> int:
    """One pass of django-tasks-db's worker over the tasks that are due (what `smishguard worker` runs)."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    with keeping_the_test_connection():
        worker.run()
    return worker._run_tasks


def make_due() -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def test_jsonl_sink_gets_each_new_alert_once(rfc_log, ca, tmp_path, brands_file, watch):
    out = tmp_path / "sink" / "alerts.jsonl"
    args = ("--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--jsonl", str(out))
    assert watch(*args, "--start", "beginning", "--config", str(brands_file)).code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(x["domain"] for x in lines) == sorted(EXPECTED)
    assert all(x["alert_id"] == LookalikeAlert.objects.get(domain=x["domain"]).pk for x in lines)
    assert set(SinkDelivery.objects.values_list("status", flat=True)) == {"delivered"}

    rfc_log.add(ca.issue(["twilio-sso.com"]))  # seen again: an update, not a new alert
    rfc_log.add(ca.issue(["twilio-portal.com"]))
    assert watch(*args, "--config", str(brands_file)).code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == len(EXPECTED) + 1
    assert lines[-1]["domain"] == "twilio-portal.com"


def test_jsonl_sink_from_the_watch_table_of_the_config_file(rfc_log, tmp_path, watch):
    log_list = write_log_list(tmp_path / "l.json", rfc_log)
    config = tmp_path / "smishguard.toml"
    config.write_text(
        f'[watch]\nlog_list = "{log_list.name}"\njsonl = "out/alerts.jsonl"\nstart = "beginning"\nbatch_size = 2\n\n'
        '[[brands]]\nname = "Twilio"\ndomains = ["twilio.com"]\n',
        encoding="utf-8",
    )
    run = watch("--once", "--config", str(config))
    assert run.code == 0, run.err
    written = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
    twilio = sorted(d for d, (brand, _) in EXPECTED.items() if brand == "Twilio")
    assert sorted(json.loads(x)["domain"] for x in written) == twilio
    assert sum(1 for p in rfc_log.requests if "get-entries" in p) == 4  # batch_size 2 over 8 entries


def test_webhook_is_queued_with_the_alert_and_retried_with_backoff(rfc_log, tmp_path, brands_file, watch):
    receiver = Receiver([500, 503])
    try:
        run = watch(
            "--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--start", "beginning",
            "--webhook", receiver.url, "--config", str(brands_file),
        )  # fmt: skip
        assert run.code == 0
        assert receiver.calls == []  # the reader never waited on the webhook: delivery is the worker's
        deliveries = SinkDelivery.objects.filter(sink="webhook")
        assert deliveries.count() == len(EXPECTED)

        assert run_tasks() == len(EXPECTED)  # the first two POSTs fail, the rest succeed
        failed = list(deliveries.filter(status="pending"))
        assert len(failed) == 2
        assert {d.last_error for d in failed} == {"HTTP 500", "HTTP 503"}
        assert run_tasks() == 0  # their retries wait for the backoff
        make_due()
        assert run_tasks() == 2
    finally:
        receiver.close()
    assert set(deliveries.values_list("status", flat=True)) == {"delivered"}
    ok = [(h, b) for status, h, b in receiver.calls if status == 200]
    assert sorted(b["alert"]["domain"] for _, b in ok) == sorted(EXPECTED)  # each alert delivered once
    keys = [h["Idempotency-Key"] for _, h, _ in receiver.calls]
    assert len(keys) == len(EXPECTED) + 2
    assert len(set(keys)) == len(EXPECTED)
    assert all(b["event"] == "lookalike_alert" for _, b in ok)


def test_webhook_gives_up_after_its_attempts_and_audits_it(rfc_log, tmp_path, brands_file, watch):
    receiver = Receiver([500] * 100)
    try:
        assert (
            watch(
                "--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--start", "beginning",
                "--webhook", receiver.url, "--config", str(brands_file), "--log", "RFC",
            ).code
            == 0
        )  # fmt: skip
        SinkDelivery.objects.exclude(alert__domain="twilio-sso.com").delete()
        # webhook_attempts defaults to 8: seven retries after the first try
        for _ in range(8):
            make_due()
            run_tasks()
    finally:
        receiver.close()
    delivery = SinkDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 8, "HTTP 500")
    assert len(receiver.calls) == 8
    event = Event.objects.get(action="watch:webhook:failed")
    assert event.subject_label == "twilio-sso.com"


def test_webhook_4xx_is_not_retried(rfc_log, tmp_path, brands_file, watch):
    receiver = Receiver([404] * 100)
    try:
        watch(
            "--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--start", "beginning",
            "--webhook", receiver.url, "--config", str(brands_file),
        )  # fmt: skip
        run_tasks()
        make_due()
        assert run_tasks() == 0
    finally:
        receiver.close()
    assert set(SinkDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert len(receiver.calls) == len(EXPECTED)


def test_a_delivery_whose_worker_died_is_requeued_at_the_next_start(rfc_log, ca, tmp_path, brands_file, watch):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    receiver = Receiver([])
    try:
        args = ("--log-list", str(write_log_list(tmp_path / "l.json", rfc_log)), "--once", "--webhook", receiver.url)
        assert watch(*args, "--start", "beginning", "--config", str(brands_file)).code == 0
        # A worker took every task and was killed -9 ten minutes ago: the rows stay RUNNING.
        DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now() - timedelta(minutes=10))
        assert run_tasks() == 0
        # A fresh running task (another worker, alive) is left alone.
        fresh = SinkDelivery.objects.get(alert__domain="twilio-sso.com")
        outgoing = Delivery.objects.get(kind="ct-webhook", target_id=fresh.pk)  # the task lives with the outbox row
        DBTaskResult.objects.filter(id=outgoing.task_id).update(started_at=timezone.now())

        assert watch(*args, "--config", str(brands_file)).code == 0  # the next run recovers the others
        assert run_tasks() == len(EXPECTED) - 1
    finally:
        receiver.close()
    assert sorted(b["alert"]["domain"] for _, _, b in receiver.calls) == sorted(set(EXPECTED) - {"twilio-sso.com"})
    assert SinkDelivery.objects.get(pk=fresh.pk).status == "pending"
