"""Delivery status callbacks on POST /hooks/twilio/status (end to end through gunicorn: test_messaging_worker.py)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from fake_twilio import twilio_signature

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.messaging.models import DeliveryStatus, OutboundMessage

STATUS_PATH = "/hooks/twilio/status"


def _sent_message() -> OutboundMessage:
    return OutboundMessage.objects.create(
        idempotency_key="x:1", to="+447700900001", sender="+15005550006", body="hi", purpose="warning",
        status=OutboundMessage.Status.SENT, provider_sid="SM" + "a" * 32,
    )  # fmt: skip


def _post(client, message, data, signature):
    return client.post(
        f"{STATUS_PATH}?m={message.pk}",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature} if signature is not None else {},
    )


@pytest.mark.django_db
def test_forged_status_callbacks_are_refused(client, configure, fake) -> None:
    message = _sent_message()
    url = f"https://smishguard.example.com{STATUS_PATH}?m={message.pk}"
    forged = {"MessageSid": message.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30006"}
    assert _post(client, message, forged, twilio_signature("not-the-token", url, forged)).status_code == 403
    assert _post(client, message, forged, None).status_code == 403
    other_message = {**forged, "MessageSid": "SM" + "b" * 32}
    assert _post(client, message, other_message, twilio_signature(fake.auth_token, url, forged)).status_code == 403
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert DeliveryStatus.objects.count() == 0
    reasons = sorted(e.detail["reason"] for e in Event.objects.filter(action=Action.MESSAGING_WEBHOOK_REFUSED))
    # one event per source, reason and window (issue 10: anonymous refusals do not fill the audit trail)
    assert reasons == ["bad_signature", "missing_signature"]
    assert {e.detail["hook"] for e in Event.objects.all()} == {"status"}


@pytest.mark.django_db
def test_failure_callback_moves_a_sent_message_to_undelivered(client, configure, fake) -> None:
    message = _sent_message()
    data = {"MessageSid": message.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30006"}
    url = f"https://smishguard.example.com{STATUS_PATH}?m={message.pk}"
    headers = {"X-Twilio-Signature": twilio_signature(fake.auth_token, url, data)}
    response = client.post(
        f"{STATUS_PATH}?m={message.pk}",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    assert response.status_code == 204
    message.refresh_from_db()
    assert (message.status, message.error_code) == (OutboundMessage.Status.UNDELIVERED, 30006)
    # A late "delivered" never moves it back, nor does a late "sent".
    for status in ("sent", "delivered"):
        data = {"MessageSid": message.provider_sid, "MessageStatus": status}
        headers = {"X-Twilio-Signature": twilio_signature(fake.auth_token, url, data)}
        client.post(
            f"{STATUS_PATH}?m={message.pk}",
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.UNDELIVERED
    assert DeliveryStatus.objects.filter(message=message).count() == 3
