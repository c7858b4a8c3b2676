"""One task serves every kind (SMS, campaign alerts, CT webhooks, security alerts): the apps register their kinds
in their ready(), the outbox imports none of them (the import-linter contract in pyproject.toml)."""

# ruff: noqa: F811 - the fixtures imported from tests/support are requested by name as arguments

from __future__ import annotations

import dataclasses

from django_tasks_db.models import DBTaskResult
from twilio_fixtures import configure, fake, make_employees, work  # noqa: F401 - the shared pytest fixtures
from webhook_receiver import WebhookReceiver

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.messaging.broadcast import queue_message
from smishguard.outbox import registry
from smishguard.outbox.alerts import security_alert
from smishguard.outbox.models import Delivery
from smishguard.watch.models import LookalikeAlert, SinkDelivery
from smishguard.watch.sinks import record_webhook


def test_the_apps_register_their_kinds():
    assert {kind.name for kind in registry.kinds()} >= {"security-alert", "sms", "campaign-alert", "ct-webhook"}
    assert registry.get("sms").reconcile is not None  # an SMS asks Twilio what a crash left in doubt
    assert registry.get("ct-webhook").reconcile is None  # a webhook is sent again; the receiver dedupes


def test_one_task_delivers_every_kind(settings, configure, make_employees, work, probe):
    probe(send=lambda _delivery: "probe-ref")
    with WebhookReceiver() as hook:
        rules = dataclasses.replace(settings.SMISHGUARD.response, alert_webhook=hook.url)
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, response=rules)
        [ann] = make_employees(1)
        message = queue_message(ann.phone, "Test text", purpose="notice", idempotency_key="one-task", employee=ann)
        alert = LookalikeAlert.objects.create(domain="acme-login.example", registrable="acme-login.example")
        sink = SinkDelivery.objects.create(alert=alert, sink="webhook", target=hook.url)
        record_webhook(sink)
        security_alert("test", "one-task-alert", "A test", "a test alert", subject_label="ann")
        from smishguard.outbox.queue import record

        record("probe", "one-task-probe")
        assert {d.kind for d in Delivery.objects.all()} == {"sms", "ct-webhook", "security-alert", "probe"}
        paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
        assert paths == {"smishguard.outbox.queue.deliver"}  # ONE task, whatever the kind
        work()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    message.refresh_from_db()
    sink.refresh_from_db()
    assert message.status in ("sent", "delivered")
    assert (sink.status, sink.attempts) == ("delivered", 1)
    assert sorted(body["event"] for body, _ in hook.received) == ["lookalike_alert", "test"]
    assert Event.objects.filter(action=Action.SECURITY_ALERT_SENT, subject_label="ann").count() == 1
