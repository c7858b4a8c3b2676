"""broadcast() and the send protocol, run by django-tasks-db's worker against the Twilio-compatible server."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.messaging.broadcast import broadcast, queue_message
from smishguard.messaging.errors import BroadcastConflict, InvalidMessage
from smishguard.messaging.models import Broadcast, OutboundMessage, SenderSlot

pytestmark = pytest.mark.django_db

WARNING = "Warning: texts claiming to be from IT link to twilio-okta.com. It is a phishing site; do not open it."
Status = OutboundMessage.Status


@pytest.fixture(autouse=True)
def _no_callbacks(configure):
    configure(public_url=None)  # no StatusCallback here (see test_messaging_status.py)


def test_broadcast_sends_one_warning_to_each_active_employee_with_a_phone(make_employees, fake, work) -> None:
    from smishguard.accounts import services

    people = make_employees(4)
    services.suspend(people[3])  # inactive: skipped
    [no_phone] = make_employees(1, start=10)
    no_phone.phone = ""
    no_phone.save()
    from smishguard.accounts.models import Employee

    batch = broadcast(Employee.objects.all(), WARNING, purpose="warning", batch_key="campaign-1")
    assert batch.progress().queued == 3
    assert sorted(OutboundMessage.objects.values_list("idempotency_key", flat=True)) == sorted(
        f"campaign-1:{p.pk}" for p in people[:3]
    )
    assert Event.objects.filter(action=Action.MESSAGING_BROADCAST_QUEUED).count() == 1
    work()
    for person in people[:3]:
        [message] = fake.sent_to(person.phone)
        assert message["body"] == WARNING
    assert fake.sent_to(people[3].phone) == []
    assert len(fake.messages) == 3
    progress = batch.progress()
    assert (progress.total, progress.sent) == (3, 3)
    for row in OutboundMessage.objects.all():
        assert row.provider_sid in {m["sid"] for m in fake.messages}
        assert row.attempts == 1
        assert row.attempted_at <= row.sent_at


def test_broadcast_twice_sends_nothing_twice(make_employees, fake, work) -> None:
    people = make_employees(3)
    first = broadcast(people, WARNING, purpose="warning", batch_key="campaign-2")
    again = broadcast(people, WARNING, purpose="warning", batch_key="campaign-2")
    assert first.pk == again.pk
    assert OutboundMessage.objects.count() == 3
    work()
    broadcast(people, WARNING, purpose="warning", batch_key="campaign-2")  # after the sends too
    work()
    assert sorted(m["to"] for m in fake.messages) == sorted(p.phone for p in people)
    # A newcomer added to the batch later gets the warning; the others do not get it again.
    [newcomer] = make_employees(1, start=50)
    broadcast([*people, newcomer], WARNING, purpose="warning", batch_key="campaign-2")
    work()
    assert len(fake.messages) == 4
    assert len(fake.sent_to(newcomer.phone)) == 1


def test_a_used_batch_key_with_another_text_is_a_conflict(make_employees) -> None:
    people = make_employees(1)
    broadcast(people, WARNING, purpose="warning", batch_key="k")
    with pytest.raises(BroadcastConflict):
        broadcast(people, WARNING + "!", purpose="warning", batch_key="k")
    assert Broadcast.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "purpose", "key", "message"),
    [
        ("", "warning", "k", "empty"),
        ("x" * 1601, "warning", "k", "longer than 1600"),
        ("a\x00b", "warning", "k", "NUL"),
        ("hi", "spam", "k", "unknown purpose"),
        ("hi", "warning", "", "key"),
    ],
)
def test_bad_broadcasts_are_refused(make_employees, body: str, purpose: str, key: str, message: str) -> None:
    people = make_employees(1)
    with pytest.raises(InvalidMessage, match=message):
        broadcast(people, body, purpose=purpose, batch_key=key)
    assert OutboundMessage.objects.count() == 0


def test_an_invalid_number_fails_for_that_employee_while_the_rest_go_on(make_employees, fake, work) -> None:
    people = make_employees(4)
    bad = people[1]
    bad.phone = "+15005550001"  # E.164, but Twilio refuses it as invalid (21211)
    bad.save()
    batch = broadcast(people, WARNING, purpose="warning", batch_key="campaign-3")
    work()
    failed = OutboundMessage.objects.get(employee=bad)
    assert failed.status == Status.FAILED
    assert failed.error_code == 21211
    assert "not a valid phone number" in failed.error_message
    event = Event.objects.get(action=Action.MESSAGING_SMS_FAILED)
    assert event.subject == bad
    assert event.detail["error_code"] == 21211
    others = [p for p in people if p != bad]
    assert sorted(m["to"] for m in fake.messages) == sorted(p.phone for p in others)
    assert batch.progress().sent == 3
    assert batch.progress().failed == 1


def assert_sent_in_their_slots(fake) -> None:
    """Every message reached Twilio from the number it was queued on, no earlier than its reserved slot."""
    sent = {m["to"]: m for m in fake.messages}
    rows = list(OutboundMessage.objects.all())
    assert sorted(sent) == sorted(m.to for m in rows)
    for message in rows:
        assert sent[message.to]["from"] == message.sender
        assert sent[message.to]["date_created"] >= message.attempted_at


def test_rate_limit_per_sending_number(configure, make_employees, fake, work) -> None:
    configure(public_url=None, rate_per_second=10.0)
    people = make_employees(5)
    broadcast(people, WARNING, purpose="warning", batch_key="rate-1")
    work()
    # Checked on what was recorded, not on a clock of ours: each send's slot (attempted_at) is 1 / rate or more
    # after the one before, and each send reached Twilio no earlier than its slot.
    slots = [m.attempted_at for m in OutboundMessage.objects.order_by("attempted_at")]
    assert len(slots) == 5
    assert min(b - a for a, b in itertools.pairwise(slots)) >= timedelta(seconds=0.1)
    assert_sent_in_their_slots(fake)


def test_rate_limit_is_per_number_so_two_numbers_send_twice_as_fast(configure, make_employees, fake, work) -> None:
    configure(public_url=None, rate_per_second=10.0, from_numbers=("+15005550006", "+15005550007"))
    people = make_employees(6)
    broadcast(people, WARNING, purpose="warning", batch_key="rate-2")
    work()
    by_sender: dict[str, list[datetime]] = {}
    for message in OutboundMessage.objects.order_by("attempted_at"):
        by_sender.setdefault(message.sender, []).append(message.attempted_at)
    assert sorted(by_sender) == ["+15005550006", "+15005550007"]
    for slots in by_sender.values():
        assert len(slots) == 3
        assert min(b - a for a, b in itertools.pairwise(slots)) >= timedelta(seconds=0.1)
    # Each number keeps a slot of its own (its next free moment 0.1 s after its own last send), so one number's
    # sends never wait for the other's: six messages over two numbers take ~0.25 s, not the ~0.5 s of one number.
    assert {s.sender: s.next_at for s in SenderSlot.objects.all()} == {
        sender: slots[-1] + timedelta(seconds=0.1) for sender, slots in by_sender.items()
    }
    assert_sent_in_their_slots(fake)


def test_a_timed_out_send_that_twilio_made_is_reconciled_not_repeated(configure, make_employees, fake, work) -> None:
    configure(public_url=None, timeout_seconds=0.3, send_lease_seconds=0.5)
    [person] = make_employees(1)
    fake.delay_next(1, 0.8)  # Twilio creates the message but answers after our timeout
    message = queue_message(person.phone, WARNING, purpose="warning", idempotency_key="single-1", employee=person)
    work()
    message.refresh_from_db()
    [at_twilio] = fake.messages
    assert message.status == Status.SENT
    assert message.provider_sid == at_twilio["sid"]
    assert message.attempts == 1


def test_reconcile_finds_a_message_twilio_has_not_sent_yet(configure, make_employees, fake, work) -> None:
    configure(public_url=None, timeout_seconds=0.3, send_lease_seconds=0.5)
    [person] = make_employees(1)
    fake.hold = True  # no date_sent: invisible to the DateSent filter
    fake.delay_next(1, 0.8)
    message = queue_message(person.phone, WARNING, purpose="warning", idempotency_key="single-2", employee=person)
    work()
    message.refresh_from_db()
    assert len(fake.messages) == 1
    assert message.status == Status.SENT
    assert message.provider_sid == fake.messages[0]["sid"]


def test_a_server_error_is_retried_after_reconciling(configure, make_employees, fake, work) -> None:
    configure(public_url=None, timeout_seconds=0.3, send_lease_seconds=0.4)
    [person] = make_employees(1)
    fake.fail_next(3)  # the send, then the first reconcile's list, then another: an outage, then recovery
    message = queue_message(person.phone, WARNING, purpose="warning", idempotency_key="single-3", employee=person)
    work()
    message.refresh_from_db()
    assert len(fake.messages) == 1
    assert message.status == Status.SENT
    assert message.attempts == 2
    assert message.provider_sid == fake.messages[0]["sid"]


def test_give_up_after_max_attempts_when_twilio_has_no_such_message(configure, make_employees, fake, work) -> None:
    configure(public_url=None, timeout_seconds=0.3, send_lease_seconds=0.4, max_attempts=1)
    [person] = make_employees(1)
    fake.fail_next(1)  # the only attempt answers 500; the list then shows Twilio never made it
    message = queue_message(person.phone, WARNING, purpose="warning", idempotency_key="single-4", employee=person)
    work()
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts == 1
    assert fake.messages == []
    assert Event.objects.filter(action=Action.MESSAGING_SMS_FAILED, subject=person).count() == 1


def test_queue_message_is_idempotent(make_employees, fake, work) -> None:
    [person] = make_employees(1)
    first = queue_message(person.phone, "hello", purpose="reply", idempotency_key="reply-1")
    second = queue_message(person.phone, "hello", purpose="reply", idempotency_key="reply-1")
    assert first.pk == second.pk
    work()
    assert len(fake.messages) == 1
