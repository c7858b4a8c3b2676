"""A simulation's funnel, by department, the trend over simulations and the repeat clickers (training.results)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from results_fixtures import T0, person, recipient, simulation

from smishguard.training import results
from smishguard.training.models import Recipient


@pytest.mark.django_db
def test_funnel_counts_each_step_and_report_times_from_each_send():
    sim = simulation("Password expiry")
    people = [person(n, "Sales" if n < 3 else "IT") for n in range(5)]
    recipient(sim, people[0], sent=0, delivered=1, clicked=5, submitted=6)
    recipient(sim, people[1], sent=0, delivered=1, reported=10)  # 10 minutes after its send
    recipient(sim, people[2], sent=30, clicked=31, reported=34)  # no receipt, still clicked; 4 minutes
    recipient(sim, people[3], sent=0)
    recipient(sim, people[4], skipped=Recipient.Skipped.NO_PHONE)  # never asked: not in the funnel

    funnel = results.funnel(sim)

    assert (funnel.recipients, funnel.sent, funnel.delivered) == (4, 4, 2)
    assert (funnel.clicked, funnel.submitted, funnel.reported) == (2, 1, 2)
    assert funnel.time_to_first_report_seconds == 600  # the first report to arrive: 10 minutes after its send
    assert funnel.median_report_seconds == 420  # of 600 and 240
    assert funnel.rate("clicked") == pytest.approx(0.5)
    assert funnel.as_dict()["reported"] == 2


@pytest.mark.django_db
def test_a_funnel_with_nothing_sent_has_no_rates_and_no_report_time():
    sim = simulation("Draft", launched=None)
    recipient(sim, person(1))
    funnel = results.funnel(sim)
    assert (funnel.recipients, funnel.sent, funnel.reported) == (1, 0, 0)
    assert funnel.rate("clicked") is None
    assert funnel.time_to_first_report_seconds is None


@pytest.mark.django_db
def test_by_department_splits_the_funnel_by_the_department_at_launch():
    sim = simulation("Schedule change")
    sales = [person(n, "Sales") for n in range(3)]
    nobody = person(9)
    recipient(sim, sales[0], sent=0, clicked=2)
    recipient(sim, sales[1], sent=0, clicked=3, submitted=4)
    recipient(sim, sales[2], sent=0, reported=1)
    recipient(sim, nobody, sent=0)

    parts = {part.department: part.funnel for part in results.by_department(sim)}

    assert list(parts) == ["", "Sales"]
    assert (parts["Sales"].sent, parts["Sales"].clicked, parts["Sales"].submitted) == (3, 2, 1)
    assert (parts[""].sent, parts[""].clicked) == (1, 0)


@pytest.mark.django_db
def test_trend_is_in_launch_order_with_rates_and_leaves_out_drafts():
    later = simulation("Second", launched=T0 + timedelta(days=30))
    earlier = simulation("First", launched=T0)
    simulation("Never launched", launched=None)
    people = [person(n) for n in range(4)]
    for p in people:
        recipient(earlier, p, sent=0, clicked=1)
    recipient(later, people[0], sent=0, clicked=1)
    for p in people[1:]:
        recipient(later, p, sent=0, reported=2)

    points = results.trend()

    assert [point.name for point in points] == ["First", "Second"]
    assert points[0].funnel.rate("clicked") == pytest.approx(1.0)
    assert points[1].funnel.rate("clicked") == pytest.approx(0.25)
    assert points[1].as_dict()["report_rate"] == pytest.approx(0.75)
    assert [point.name for point in results.trend(limit=1)] == ["Second"]


@pytest.mark.django_db
def test_repeat_clickers_are_those_who_clicked_in_two_simulations_most_clicks_first():
    sims = [simulation(f"Drill {n}", launched=T0 + timedelta(days=n)) for n in range(3)]
    ada, bob, cy = person(1, "IT"), person(2, "Sales"), person(3)
    for sim in sims:
        recipient(sim, ada, sent=0, clicked=1, submitted=2)
    recipient(sims[0], bob, sent=0, clicked=1)
    recipient(sims[1], bob, sent=0, clicked=1, reported=3)
    recipient(sims[2], bob, sent=0, reported=1)
    recipient(sims[0], cy, sent=0, clicked=1)  # once: not a repeat

    clickers = results.repeat_clickers()

    assert [c.email for c in clickers] == ["p1@example.com", "p2@example.com"]
    assert (clickers[0].clicks, clickers[0].submits, clickers[0].simulations) == (3, 3, 3)
    assert (clickers[1].clicks, clickers[1].reports, clickers[1].simulations) == (2, 2, 3)
    assert clickers[1].as_dict()["department"] == "Sales"
    assert [c.email for c in results.repeat_clickers(at_least=3)] == ["p1@example.com"]
