"""A key flagged as possibly cloned sends the security team a campaign-free ``security-alert`` through the outbox
(passkeys.alerts): no campaign, no reports row, delivered by the worker and audited."""

from __future__ import annotations

import dataclasses

from twilio_fixtures import work  # noqa: F401 - the shared pytest fixture: the real worker, in this process
from webhook_receiver import WebhookReceiver

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.outbox.models import Delivery
from smishguard.passkeys import keys
from smishguard.passkeys.models import Credential
from smishguard.reports.models import AlertDelivery, Campaign


def test_a_flagged_key_sends_a_security_alert_without_a_campaign(settings, employee, enrolled, work):  # noqa: F811
    with WebhookReceiver() as hook:
        rules = dataclasses.replace(settings.SMISHGUARD.response, alert_webhook=hook.url)
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, response=rules)
        credential = Credential.objects.get()
        keys.flag_key(credential, reason="its signature counter went back", stored=5, seen=2)
        delivery = Delivery.objects.get()
        assert (delivery.kind, delivery.key, delivery.status) == (
            "security-alert",
            f"key-{credential.pk}-flagged",
            "pending",
        )
        assert not Campaign.objects.exists()
        assert not AlertDelivery.objects.exists()
        work()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    [(body, headers)] = hook.received
    assert body["event"] == "key_flagged"
    assert "(stored 5, presented 2)" in body["text"]
    assert headers["Idempotency-Key"] == f"smishguard-key-{credential.pk}-flagged"
    sent = Event.objects.get(action=Action.SECURITY_ALERT_SENT)
    assert (sent.subject_label, sent.detail["event"], sent.detail["attempts"]) == (employee.email, "key_flagged", 1)
