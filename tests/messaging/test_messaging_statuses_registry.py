"""messaging.statuses: a status callback for a SID that is none of messaging's own messages is recorded and told to
the registered listeners, in the callback's transaction (a listener that fails rolls it back: Twilio gets a 500 and
tries again); a status of messaging's own message is not told to them."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from fake_twilio import twilio_signature
from twilio_fixtures import configure, fake  # noqa: F401 - the shared fixtures

from smishguard.messaging import statuses
from smishguard.messaging.models import DeliveryStatus, OutboundMessage

STATUS_PATH = "/hooks/twilio/status"
URL = f"https://smishguard.example.com{STATUS_PATH}"


def _post(client, fake_server, data):
    return client.post(
        STATUS_PATH,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_signature(fake_server.auth_token, URL, data)},
    )


@pytest.fixture
def heard():
    seen: list[tuple[str, str, int | None]] = []
    statuses.register("test", lambda sid, status, code: seen.append((sid, status, code)))
    try:
        yield seen
    finally:
        statuses.unregister("test")


@pytest.mark.django_db
def test_listeners_hear_the_statuses_of_sids_that_are_not_messagings_own(client, configure, fake, heard) -> None:  # noqa: F811 - the shared fixtures
    own = OutboundMessage.objects.create(
        idempotency_key="x:1", to="+447700900001", sender="+15005550006", body="hi", purpose="warning",
        status=OutboundMessage.Status.SENT, provider_sid="SM" + "a" * 32,
    )  # fmt: skip
    assert _post(client, fake, {"MessageSid": own.provider_sid, "MessageStatus": "delivered"}).status_code == 204
    other = "SM" + "b" * 32
    assert _post(client, fake, {"MessageSid": other, "MessageStatus": "Delivered"}).status_code == 204
    assert _post(client, fake, {"MessageSid": other, "MessageStatus": "delivered"}).status_code == 204  # again
    failed = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "undelivered", "ErrorCode": "30006"}
    assert _post(client, fake, failed).status_code == 204
    assert heard == [(other, "delivered", None), ("SM" + "c" * 32, "undelivered", 30006)]
    assert DeliveryStatus.objects.filter(message__isnull=True).count() == 2


@pytest.mark.django_db
def test_a_listener_that_fails_rolls_the_record_back_so_twilio_tries_again(client, configure, fake) -> None:  # noqa: F811 - the shared fixtures
    def broken(sid, status, code):
        raise RuntimeError("the listener's database went away")

    statuses.register("broken", broken)
    client.raise_request_exception = False
    try:
        answer = _post(client, fake, {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered"})
    finally:
        statuses.unregister("broken")
    assert answer.status_code == 500
    assert not DeliveryStatus.objects.exists()
