"""Sending a simulation through the outbox with the official twilio SDK against the Twilio-compatible server on
127.0.0.1: from the simulation sender, one text per recipient (idempotent), only inside the window; Twilio's status
callbacks (signed, replayed to the app) mark each recipient delivered; a send Twilio refuses is recorded."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from simulation_fixtures import (  # noqa: F401 - the shared fixtures
    SIMULATION_SENDER,
    configure,
    drills,
    fake,
    people,
    replay_callbacks,
    run_sends,
)
from waiting import wait_until

from smishguard.accounts.models import Employee
from smishguard.messaging.models import DeliveryStatus, OutboundMessage
from smishguard.outbox import registry
from smishguard.outbox.models import Delivery
from smishguard.training import simulation_sending, simulations
from smishguard.training.links import tracked_link
from smishguard.training.models import Recipient, Simulation, SimulationEvent

TEXT = "Hi {first_name}, {company} payroll: confirm your details today {link}"


@pytest.mark.django_db
def test_each_recipient_gets_one_text_from_the_simulation_sender_and_delivery_is_marked(drills, fake, people, client):  # noqa: F811 - the shared fixtures
    staff = people(3)
    simulation = simulations.create(name="Payroll", group="sales", template=TEXT)
    simulations.launch(simulation.pk)

    run_sends()

    for person in staff:
        recipient = Recipient.objects.get(employee=person)
        sent = fake.sent_to(person.phone)
        assert len(sent) == 1
        assert sent[0]["from"] == SIMULATION_SENDER
        assert sent[0]["body"] == f"Hi Pat{person.email[1]}, Acme payroll: confirm your details today " + tracked_link(
            recipient.rid
        )
        assert recipient.sent_at is not None
        assert Delivery.objects.get(key=f"simulation-{recipient.pk}").provider_ref == sent[0]["sid"]
    assert not OutboundMessage.objects.exists()  # not messaging's warnings: an outbox kind of its own
    simulation.refresh_from_db()
    assert simulation.status == Simulation.Status.FINISHED

    # Twilio posted "sent" then "delivered" to the status callback (unreachable from its thread): replayed, signed.
    wait_until(lambda: len(fake.callbacks) == 6, timeout=20, what="Twilio's six status callbacks")
    assert set(replay_callbacks(client, fake)) == {204}
    assert Recipient.objects.filter(delivered_at__isnull=False).count() == 3
    kinds = sorted(SimulationEvent.objects.values_list("kind", "via"))
    assert kinds == [("delivered", "twilio-status")] * 3 + [("sent", "twilio")] * 3
    assert set(replay_callbacks(client, fake)) == {204}  # again: nothing changes
    assert SimulationEvent.objects.count() == 6

    # Sending again sends nothing twice.
    assert simulation_sending.poll() == 0
    assert sum(len(fake.sent_to(p.phone)) for p in staff) == 3


@pytest.mark.django_db
def test_a_delivered_status_that_comes_before_the_mark_is_applied_by_it(drills, fake, people):  # noqa: F811 - the shared fixtures
    person = people(1)[0]
    simulation = simulations.create(name="Early", group="sales", template=TEXT)
    simulations.launch(simulation.pk)
    original = registry.get(simulation_sending.KIND)

    def send_then_status(claimed):
        """Twilio's "delivered" arrives (messaging records it, no message of its own has the SID) between the
        call's answer and the outbox's mark."""
        sid = original.send(claimed)
        DeliveryStatus.objects.create(message=None, message_sid=sid, status="delivered")
        return sid

    registry.register(dataclasses.replace(original, send=send_then_status))
    try:
        run_sends()
    finally:
        registry.register(original)
    recipient = Recipient.objects.get(employee=person)
    assert recipient.sent_at is not None
    assert recipient.delivered_at is not None
    assert Delivery.objects.get(key=f"simulation-{recipient.pk}").status == Delivery.Status.DELIVERED


@pytest.mark.django_db
def test_texts_go_out_only_inside_the_window_in_each_recipients_time_zone(drills, fake, people):  # noqa: F811 - the shared fixtures
    london, tokyo = people(2)
    Employee.objects.filter(pk=london.pk).update(time_zone="Europe/London")
    Employee.objects.filter(pk=tokyo.pk).update(time_zone="Asia/Tokyo")
    simulation = simulations.create(name="Windowed", group="sales", template=TEXT, window="09:00-17:00")
    noon_utc = timezone.now().replace(month=6, day=1, hour=12, minute=0, second=0, microsecond=0)
    if noon_utc < timezone.now():
        noon_utc = noon_utc.replace(year=noon_utc.year + 1)
    with time_machine.travel(noon_utc, tick=False):  # 13:00 in London (BST), 21:00 in Tokyo
        simulations.launch(simulation.pk)
        assert simulation_sending.poll() == 1
    assert list(Recipient.objects.filter(queued_at__isnull=False).values_list("employee", flat=True)) == [london.pk]
    waiting = Recipient.objects.get(employee=tokyo)
    assert waiting.send_after == noon_utc + timedelta(hours=12)  # 09:00 the next morning in Tokyo
    with time_machine.travel(noon_utc + timedelta(hours=11, minutes=59), tick=False):
        assert simulation_sending.poll() == 0
    with time_machine.travel(noon_utc + timedelta(hours=12, minutes=1), tick=False):
        assert simulation_sending.poll() == 1
    # A text due whose window closed before it was recorded (the worker was down) waits for the next opening.
    late = simulations.create(name="Late", group="sales", template=TEXT, window="09:00-17:00")
    with time_machine.travel(noon_utc, tick=False):
        simulations.launch(late.pk)
    with time_machine.travel(noon_utc + timedelta(hours=9), tick=False):  # 22:00 in London
        simulation_sending.poll()
    moved = Recipient.objects.get(simulation=late, employee=london)
    assert moved.queued_at is None
    assert moved.send_after == noon_utc + timedelta(hours=20)  # 08:00 UTC = 09:00 BST the next day


@pytest.mark.django_db
def test_a_text_twilio_refuses_is_recorded_and_the_rest_go_out(drills, fake, people):  # noqa: F811 - the shared fixtures
    good, bad = people(2)
    Employee.objects.filter(pk=bad.pk).update(phone="+15005550001")  # Twilio's magic invalid number
    simulation = simulations.create(name="Mixed", group="sales", template=TEXT)
    simulations.launch(simulation.pk)
    run_sends()
    assert Recipient.objects.get(employee=bad).skipped == Recipient.Skipped.SEND_FAILED
    assert Recipient.objects.get(employee=good).sent_at is not None
    simulation.refresh_from_db()
    assert simulation.status == Simulation.Status.FINISHED
    assert simulations.funnel(simulation)["sent"] == 1
