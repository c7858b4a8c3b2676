"""Training reminders (training/reminders.py) before and after the due date, outside quiet hours in each
employee's time zone, by SMS (messaging's outbox) and e-mail (messaging's ``email`` kind, Django's locmem
backend); idempotent; and the ``email`` outbox kind itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from compliance_helpers import make_module, take_quiz, training_settings
from django.core import mail
from twilio_fixtures import keeping_the_test_connection

from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.audit.models import Event
from smishguard.messaging import email
from smishguard.messaging.models import OutboundMessage
from smishguard.outbox import queue, registry, worker
from smishguard.outbox.errors import SendFailed
from smishguard.outbox.models import Delivery
from smishguard.training import compliance, periodic, reminders
from smishguard.training.models import Assignment

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


@pytest.fixture
def ann(settings):
    training_settings(
        settings,
        remind_days_before=3,
        remind_every_days_after=7,
        quiet_hours="21:00-08:00",
        default_time_zone="Europe/London",
        email_from="training@example.com",
    )
    person = add_employee(email="ann@example.com", name="Ann", phone="+447700900123")
    compliance.assign(person, make_module(), due_at=DUE)
    return person


def reminded(stage: str | None = None) -> list[Event]:
    events = Event.objects.filter(action="training:assignment:reminded").order_by("id")
    return [e for e in events if stage is None or e.detail["stage"] == stage]


def test_one_reminder_before_the_due_date_then_every_week_after(ann):
    with time_machine.travel(DUE - timedelta(days=4), tick=False):
        assert reminders.run() == 0  # not yet within 3 days
    with time_machine.travel(DUE - timedelta(days=2), tick=False):
        assert reminders.run() == 1
        assert reminders.run() == 0  # idempotent: once before
    with time_machine.travel(DUE - timedelta(days=1), tick=False):
        assert reminders.run() == 0
    with time_machine.travel(DUE + timedelta(hours=1), tick=False):
        assert reminders.run() == 1  # overdue: at once
        assert reminders.run() == 0
    with time_machine.travel(DUE + timedelta(days=6), tick=False):
        assert reminders.run() == 0
    with time_machine.travel(DUE + timedelta(days=7, hours=1), tick=False):
        assert reminders.run() == 1
    assert [e.detail["stage"] for e in reminded()] == ["before", "after", "after"]
    assert {tuple(e.detail["channels"]) for e in reminded()} == {("sms", "email")}
    assert all(e.subject_id == ann.pk for e in reminded())
    texts = OutboundMessage.objects.filter(employee=ann).order_by("id")
    assert [m.to for m in texts] == ["+447700900123"] * 3
    assert "due on 10 Mar 2026" in texts[0].body
    assert "/learn/" in texts[0].body
    assert "overdue" in texts[1].body
    assert {m.purpose for m in texts} == {OutboundMessage.Purpose.NOTICE}
    assert Delivery.objects.filter(kind="email").count() == 3


def test_quiet_hours_in_the_employee_s_own_time_zone(ann):
    Employee.objects.filter(pk=ann.pk).update(time_zone="America/Los_Angeles")
    # 05:00 UTC is 21:00 in Los Angeles (PST, UTC-8): quiet there, though 05:00 in London would be too.
    night_there = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    with time_machine.travel(night_there, tick=False):
        assert reminders.run() == 0
    # 17:00 UTC is 10:00 in Los Angeles (PDT from 8 March, UTC-7): sent.
    with time_machine.travel(datetime(2026, 3, 8, 17, 0, tzinfo=UTC), tick=False):
        assert reminders.run() == 1
    # Without a zone of her own, London's: 22:00 UTC is 22:00 there, quiet.
    Employee.objects.filter(pk=ann.pk).update(time_zone="")
    with time_machine.travel(DUE + timedelta(hours=5), tick=False):
        assert reminders.run() == 0
    with time_machine.travel(DUE + timedelta(hours=16), tick=False):  # 09:00 London
        assert reminders.run() == 1
    assert [e.detail["stage"] for e in reminded()] == ["before", "after"]


def test_a_completed_assignment_or_a_suspended_employee_gets_none(ann, settings):
    module = Assignment.objects.get(employee=ann).module
    take_quiz(ann, module)
    with time_machine.travel(DUE - timedelta(days=1), tick=False):
        assert reminders.run() == 0
    bob = add_employee(email="bob@example.com", name="Bob", phone="+447700900124")
    compliance.assign(bob, module, due_at=DUE)
    Employee.objects.filter(pk=bob.pk).update(status=Employee.Status.SUSPENDED)
    with time_machine.travel(DUE + timedelta(days=1), tick=False):
        assert reminders.run() == 0
    assert reminded() == []


def test_without_email_from_or_phone_only_what_is_possible(ann, settings):
    training_settings(settings, email_from="")
    Employee.objects.filter(pk=ann.pk).update(phone="")
    with time_machine.travel(DUE - timedelta(days=1), tick=False):
        assert reminders.run() == 1
    assert reminded()[0].detail["channels"] == []
    assert not Delivery.objects.filter(kind="email").exists()


def test_zero_days_means_no_reminders(ann, settings):
    training_settings(settings, remind_days_before=0, remind_every_days_after=0)
    for moment in (DUE - timedelta(days=1), DUE + timedelta(days=1), DUE + timedelta(days=30)):
        with time_machine.travel(moment, tick=False):
            assert reminders.run() == 0


def test_the_worker_runs_the_pass_and_sends_the_e_mail(ann):
    assert any(kind.name == periodic.KIND and kind.poll is not None for kind in registry.kinds())
    for job in periodic.JOBS:
        job.last = None
    with time_machine.travel(DUE - timedelta(days=1), tick=True), keeping_the_test_connection():
        worker.run(
            interval=0.02,
            until_idle=True,
            unfinished=lambda: (0 if reminded() else 1) + queue.unfinished("email"),
            timeout=60,
            handle_signals=False,
            recovery_every=60,
        )
    assert len(reminded("before")) == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ann@example.com"]
    assert sent.from_email == "training@example.com"
    assert sent.subject.startswith("Security training due 10 Mar 2026")
    assert "/learn/" in sent.body
    event = Event.objects.get(action="messaging:email:sent")
    assert event.subject_label == "ann@example.com"
    assert "body" not in event.detail


def test_the_email_kind_is_once_per_key_and_a_refused_server_is_a_failure(settings):
    first = email.queue_email("a@example.com", "Hi\r\nBcc: x@example.com", "text", key="k1", from_email="f@example.com")
    again = email.queue_email("a@example.com", "Hi", "text", key="k1", from_email="f@example.com")
    assert first.pk == again.pk
    assert "\n" not in first.payload["subject"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    assert email.queue_email("a@example.com", "Hi", "text", key="k2", from_email="f@example.com") is None
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens there
    with pytest.raises(SendFailed) as failed:
        email._send(first)
    assert failed.value.retry
