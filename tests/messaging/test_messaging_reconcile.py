"""The ``sms`` outbox kind against the Twilio-compatible test server: a send whose outcome was lost (Twilio made
the message, its answer never came back: a crash or a timeout between the call and the mark) is reconciled with
Twilio before any retry, so it is neither lost nor sent twice."""

from __future__ import annotations

from smishguard.messaging.broadcast import queue_message
from smishguard.outbox import queue
from smishguard.outbox.models import Delivery


def test_a_send_whose_answer_was_lost_is_found_at_twilio_and_not_sent_again(configure, fake, make_employees, work):
    [ann] = make_employees(1)
    fake.delay_next(1, 3.0)  # Twilio makes the message, and answers after the client's 2 s timeout
    message = queue_message(ann.phone, "Your account", purpose="notice", idempotency_key="lost-1", employee=ann)
    delivery = Delivery.objects.get(kind="sms", target_id=message.pk)
    assert delivery.key == f"sms-{message.pk}"
    assert queue.attempt(delivery.pk) == "retry"
    delivery.refresh_from_db()
    message.refresh_from_db()
    assert (delivery.status, message.status) == ("sending", "sending")  # in doubt: it may have been sent
    assert len(fake.sent_to(ann.phone)) == 1
    work()  # once the lease is over, the retry asks Twilio first
    delivery.refresh_from_db()
    message.refresh_from_db()
    [sent] = fake.sent_to(ann.phone)  # still one message at Twilio
    assert message.provider_sid == sent["sid"]
    assert message.status in ("sent", "delivered")
    assert (delivery.status, delivery.provider_ref, delivery.attempts) == ("delivered", sent["sid"], 1)


def test_a_send_twilio_never_made_is_sent_once_after_the_reconcile(configure, fake, make_employees, work):
    [ann] = make_employees(1)
    fake.fail_next(1, 500)  # a 5xx: the send may or may not have taken effect (here it did not)
    message = queue_message(ann.phone, "Your account", purpose="notice", idempotency_key="lost-2", employee=ann)
    delivery = Delivery.objects.get(kind="sms", target_id=message.pk)
    assert queue.attempt(delivery.pk) == "retry"
    assert fake.sent_to(ann.phone) == []
    work()
    delivery.refresh_from_db()
    message.refresh_from_db()
    [sent] = fake.sent_to(ann.phone)
    assert message.provider_sid == sent["sid"]
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
