"""xAPI statements for a learning record store (training.xapi)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from results_fixtures import T0, person, recipient, simulation

from smishguard.training import xapi
from smishguard.training.models import Attempt, Module, ModuleVersion, Recipient


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(seconds=42), "PT42S"),
        (timedelta(minutes=2, seconds=3.5), "PT2M3.5S"),
        (timedelta(hours=1, minutes=0, seconds=0), "PT1H"),
        (timedelta(hours=26, minutes=1, seconds=1), "PT26H1M1S"),
        (timedelta(seconds=-5), "PT0S"),
    ],
)
def test_duration_is_iso_8601(delta, expected):
    assert xapi.duration(delta) == expected


def _attempt(employee, *, score: int, passed: bool, minutes: int = 4) -> Attempt:
    module, _ = Module.objects.get_or_create(slug="smishing-basics", defaults={"title": "Smishing"})
    version, _ = ModuleVersion.objects.get_or_create(
        module=module, number=2, defaults={"title": "Smishing, and why a key cannot be phished", "content": "x"}
    )
    return Attempt.objects.create(
        employee=employee,
        version=version,
        started_at=T0,
        submitted_at=T0 + timedelta(minutes=minutes),
        score=score,
        passed=passed,
    )


@pytest.mark.django_db
def test_a_quiz_attempt_is_an_adl_passed_or_failed_statement_with_its_score():
    ada = person(1)
    passed = xapi.attempt_statement(_attempt(ada, score=83, passed=True))
    failed = xapi.attempt_statement(_attempt(ada, score=40, passed=False, minutes=1))

    assert passed["actor"] == {"objectType": "Agent", "name": "Person 1", "mbox": "mailto:p1@example.com"}
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert passed["object"]["id"] == f"{settings.SMISHGUARD.origin}/learn/smishing-basics/"
    assert passed["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/assessment"
    assert passed["object"]["definition"]["extensions"][f"{settings.SMISHGUARD.origin}/xapi/extensions/version"] == 2
    assert passed["result"]["score"]["scaled"] == pytest.approx(0.83)
    assert (passed["result"]["success"], failed["result"]["success"]) == (True, False)
    assert passed["result"]["duration"] == "PT4M"
    assert passed["timestamp"] == "2026-03-02T09:04:00Z"
    assert uuid.UUID(passed["id"]) != uuid.UUID(failed["id"])


@pytest.mark.django_db
def test_a_drill_gives_a_statement_per_step_the_employee_took():
    sim = simulation("Password expiry")
    row = recipient(sim, person(1), sent=0, delivered=1, clicked=3, reported=12)

    statements = xapi.recipient_statements(row)

    assert [s["verb"]["display"]["en-US"] for s in statements] == ["clicked", "reported"]
    assert statements[0]["verb"]["id"] == f"{settings.SMISHGUARD.origin}/xapi/verbs/clicked"
    assert statements[0]["result"] == {"success": False}
    assert statements[1]["result"] == {"success": True, "duration": "PT12M"}
    assert statements[1]["object"]["definition"]["name"] == {"en-US": "Password expiry"}
    assert statements[1]["object"]["id"] == f"{settings.SMISHGUARD.origin}/console/simulations/{sim.pk}/"


@pytest.mark.django_db
def test_statement_ids_are_stable_so_a_second_export_is_not_counted_twice():
    sim = simulation("Drill")
    ada = person(1)
    recipient(sim, ada, sent=0, clicked=1, submitted=2)
    _attempt(ada, score=100, passed=True)

    first = [s["id"] for s in xapi.statements()]
    second = [s["id"] for s in xapi.statements()]

    assert first == second
    assert len(first) == len(set(first)) == 3


@pytest.mark.django_db
def test_statements_filter_by_simulation_and_time_and_serialise_as_json_lines():
    one, two = simulation("One"), simulation("Two")
    ada, bob = person(1), person(2)
    recipient(one, ada, sent=0, clicked=1, submitted=30)
    recipient(two, bob, sent=0, clicked=2)
    recipient(two, person(3), skipped=Recipient.Skipped.OPTED_OUT)
    _attempt(ada, score=90, passed=True, minutes=20)

    assert [s["actor"]["mbox"] for s in xapi.statements(simulation=two)] == ["mailto:p2@example.com"]
    later = list(xapi.statements(since=T0 + timedelta(minutes=10)))
    assert [s["verb"]["display"]["en-US"] for s in later] == ["passed", "submitted"]
    lines = "\n".join(json.dumps(s) for s in xapi.statements())
    assert all(json.loads(line)["version"] == "1.0.3" for line in lines.splitlines())
