"""The outbox's data migrations carry what was owed before it: a database made at the migrations before the outbox
(messaging 0002, watch 0004, reports 0004), with unfinished sends, pending webhook deliveries and pending alerts,
is migrated forward; each unfinished one has its outbox delivery (same key), the finished ones none, every row
stays, and the worker's recovery pass gives each pending one a task."""

from __future__ import annotations

import json

import pytest
from servers import as_owner, clean_env, django_eval

pytestmark = pytest.mark.integration

BEFORE = """
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

TARGETS = [("messaging", "0002_waiting_for_account"), ("watch", "0004_one_alert_per_certificate"),
           ("reports", "0004_benign_review")]
for app, name in TARGETS:
    call_command("migrate", app, name, verbosity=0)
apps = MigrationExecutor(connection).loader.project_state(TARGETS).apps
Message = apps.get_model("messaging", "OutboundMessage")
now = timezone.now()
for n, status in enumerate(["queued", "sending", "sent", "waiting", "failed"]):
    Message.objects.create(idempotency_key=f"m{n}", to=f"+4477009000{n}", sender="+15005550006", body="hi",
                           purpose="notice", status=status, attempts=1 if status == "sending" else 0,
                           attempted_at=now if status == "sending" else None, task_id="old-task")
Alert = apps.get_model("watch", "LookalikeAlert")
alert = Alert.objects.create(domain="acme-login.example", registrable="acme-login.example", first_seen=now,
                             last_seen=now)
Sink = apps.get_model("watch", "SinkDelivery")
Sink.objects.create(alert=alert, sink="webhook", target="http://127.0.0.1:9/hook", status="pending", attempts=2,
                    last_error="HTTP 503", task_id="old-task")
Sink.objects.create(alert=alert, sink="jsonl", target="/tmp/alerts.jsonl", status="pending")
Sink.objects.create(alert=alert, sink="webhook", target="http://127.0.0.1:9/other", status="delivered")
Campaign = apps.get_model("reports", "Campaign")
campaign = Campaign.objects.create(verdict="smishing")
AlertDelivery = apps.get_model("reports", "AlertDelivery")
AlertDelivery.objects.create(key=f"campaign-{campaign.pk}-campaign", campaign=campaign, url="http://127.0.0.1:9/a",
                             payload={"text": "x", "event": "campaign"})
AlertDelivery.objects.create(key="key-7-flagged", campaign=None, url="http://127.0.0.1:9/a",
                             payload={"text": "y", "event": "key_flagged", "employee": {"email": "ann@example.com"}})
AlertDelivery.objects.create(key=f"campaign-{campaign.pk}-blocklisted", campaign=campaign, url="http://127.0.0.1:9/a",
                             payload={"text": "z"}, status="delivered")
"""

AFTER = """
import json
from django.core.management import call_command
call_command("migrate", verbosity=0)
from smishguard.messaging.models import OutboundMessage
from smishguard.outbox.models import Delivery
from smishguard.outbox.queue import recover
from smishguard.reports.models import AlertDelivery
from smishguard.watch.models import SinkDelivery
print(json.dumps({
    "deliveries": sorted(Delivery.objects.values_list("kind", "key", "status", "attempts", "task_id")),
    "payloads": {d.key: d.payload for d in Delivery.objects.filter(kind="security-alert")},
    "requeued": recover().requeued,
    "rows": [OutboundMessage.objects.count(), SinkDelivery.objects.count(), AlertDelivery.objects.count()],
}))
"""


def test_what_was_owed_before_the_outbox_is_carried_into_it(tmp_path):
    env = as_owner(clean_env(tmp_path / "var"))  # it migrates in-process: as the database's owner
    django_eval(env, BEFORE)
    after = json.loads(django_eval(env, AFTER))
    assert after["rows"] == [5, 3, 3]  # every row stays
    assert after["requeued"] == 4  # every pending one; the send claimed just now waits for its lease
    kinds = [(kind, status, attempts, task) for kind, _, status, attempts, task in after["deliveries"]]
    keys = [key for _, key, *_ in after["deliveries"]]
    assert kinds == [
        ("campaign-alert", "pending", 0, ""),
        ("ct-webhook", "pending", 2, ""),  # its old task function is gone: recovery gives it a new task
        ("security-alert", "pending", 0, ""),
        ("sms", "pending", 0, ""),
        ("sms", "sending", 1, ""),  # claimed before the upgrade: in doubt, reconciled with Twilio first
    ]
    assert keys[0].startswith("campaign-")
    assert keys[0].endswith("-campaign")
    assert keys[1] == "ct-alert-1"
    assert keys[2] == "key-7-flagged"  # Idempotency-Key smishguard-key-7-flagged, as before
    assert after["payloads"]["key-7-flagged"]["subject_label"] == "ann@example.com"
    assert after["payloads"]["key-7-flagged"]["body"]["event"] == "key_flagged"
