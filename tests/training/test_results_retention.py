"""Per-person simulation results kept for [training] results_retention_days, then reduced to counts per
department (training.retention)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from results_fixtures import T0, person, recipient, simulation

from smishguard.audit.models import Event
from smishguard.training import results, retention
from smishguard.training.models import Recipient, Simulation, SimulationEvent, SimulationTally


@pytest.fixture
def retention_days():
    def set_days(days: int) -> None:
        training = dataclasses.replace(settings.SMISHGUARD.training, results_retention_days=days)
        settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, training=training)

    original = settings.SMISHGUARD
    yield set_days
    settings.SMISHGUARD = original


@pytest.mark.django_db
def test_reduction_keeps_the_funnel_per_department_and_forgets_the_people(retention_days):
    retention_days(30)
    sim = simulation("Old drill")
    sales = [person(n, "Sales") for n in range(3)]
    rows = [
        recipient(sim, sales[0], sent=0, delivered=1, clicked=2, submitted=3),
        recipient(sim, sales[1], sent=0, reported=5),
        recipient(sim, sales[2], sent=0),
        recipient(sim, person(7, "IT"), sent=0, clicked=9),
    ]
    SimulationEvent.objects.create(recipient=rows[0], kind=SimulationEvent.Kind.CLICKED, at=T0, via="browser")
    before = results.funnel(sim)
    departments_before = [(p.department, p.funnel.clicked) for p in results.by_department(sim)]

    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        assert [s.pk for s in retention.due()] == [sim.pk]
        reduced = retention.reduce_due()

    assert reduced == [sim.pk]
    sim.refresh_from_db()
    assert sim.reduced_at is not None
    assert sim.status == Simulation.Status.FINISHED  # nobody is left to send to
    assert not Recipient.objects.filter(simulation=sim).exists()
    assert not SimulationEvent.objects.exists()
    assert SimulationTally.objects.filter(simulation=sim).count() == 2
    after = results.funnel(sim)
    assert (after.recipients, after.sent, after.delivered, after.clicked, after.submitted, after.reported) == (
        before.recipients,
        before.sent,
        before.delivered,
        before.clicked,
        before.submitted,
        before.reported,
    )
    assert after.time_to_first_report_seconds is None  # a time per person is per-person data: gone
    assert [(p.department, p.funnel.clicked) for p in results.by_department(sim)] == departments_before
    event = Event.objects.get(action="training:simulation:results_reduced")
    assert event.detail["recipients"] == 4
    assert event.detail["departments"] == 2


@pytest.mark.django_db
def test_nothing_is_due_inside_the_period_or_with_retention_off(retention_days):
    retention_days(30)
    recent = simulation("Recent", launched=T0 + timedelta(days=10))
    never = simulation("Never launched", launched=None)
    Simulation.objects.filter(pk=never.pk).update(created_at=T0)
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        assert [s.pk for s in retention.due()] == [never.pk]  # a draft's clock starts at its creation
        retention_days(0)
        assert retention.due() == []
        assert retention.cutoff() is None
    assert recent.reduced_at is None


@pytest.mark.django_db
def test_reducing_twice_changes_nothing_and_records_once(retention_days):
    retention_days(1)
    sim = simulation("Drill")
    recipient(sim, person(1, "IT"), sent=0, clicked=1)
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        first = retention.reduce(sim)
        second = retention.reduce(sim)
        assert retention.reduce_due() == []
    assert [(t.department, t.clicked) for t in first] == [("IT", 1)]
    assert [(t.department, t.clicked) for t in second] == [("IT", 1)]
    assert SimulationTally.objects.count() == 1
    assert Event.objects.filter(action="training:simulation:results_reduced").count() == 1


@pytest.mark.django_db
def test_reduced_simulations_drop_out_of_the_repeat_clickers(retention_days):
    retention_days(30)
    old, new = simulation("Old"), simulation("New", launched=datetime(2026, 5, 1, tzinfo=UTC))
    ada = person(1)
    recipient(old, ada, sent=0, clicked=1)
    recipient(new, ada, sent=0, clicked=1)
    assert [c.email for c in results.repeat_clickers()] == ["p1@example.com"]
    with time_machine.travel(datetime(2026, 5, 2, tzinfo=UTC), tick=False):
        assert retention.reduce_due() == [old.pk]
    assert results.repeat_clickers() == []
    assert [p.funnel.clicked for p in results.trend()] == [1, 1]


@pytest.mark.django_db
def test_the_worker_s_periodic_pass_reduces_what_is_due_once_an_hour_at_most(retention_days):
    from smishguard.outbox import registry
    from smishguard.training import periodic

    retention_days(30)
    assert registry.get(periodic.KIND).poll is periodic.poll
    hourly = periodic.Every(3600.0, retention.reduce_due)
    old = simulation("Old")
    recipient(old, person(1, "IT"), sent=0, clicked=1)
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        assert hourly() == 1  # one simulation reduced
        newer = simulation("Launched later", launched=T0)
        recipient(newer, person(2), sent=0)
        assert hourly() == 0  # within the hour: not run again
        hourly.last = None
        assert hourly() == 1
    assert Simulation.objects.filter(reduced_at__isnull=False).count() == 2
