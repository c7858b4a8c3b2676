"""Assignments and compliance (training/compliance.py): targets, states, completion records, new employees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from compliance_helpers import make_module, take_quiz, training_settings
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.audit.models import Event
from smishguard.training import compliance
from smishguard.training.compliance import State
from smishguard.training.errors import AssignmentTargetNotFound, InvalidDueDate, ModuleNotFound
from smishguard.training.models import Assignment

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(db):
    ann = add_employee(email="ann@example.com", name="Ann", department="Support", groups=["support"])
    bob = add_employee(email="bob@example.com", name="Bob", department="support", groups=["support", "sales"])
    cy = add_employee(email="cy@example.com", name="Cy", department="Sales", groups=["sales"])
    gone = add_employee(email="gone@example.com", name="Gone", department="Support", groups=["support"])
    Employee.objects.filter(pk=gone.pk).update(status=Employee.Status.OFFBOARDED)
    return ann, bob, cy


def emails(people_list) -> list[str]:
    return [p.email for p in people_list]


def test_targets_are_the_active_employees_of_exactly_one(people):
    assert emails(compliance.target_employees(group="support")) == ["ann@example.com", "bob@example.com"]
    assert emails(compliance.target_employees(department="SUPPORT")) == ["ann@example.com", "bob@example.com"]
    assert emails(compliance.target_employees(everyone=True)) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
    ]
    assert emails(compliance.target_employees(emails=["CY@example.com"])) == ["cy@example.com"]
    for bad in ({"group": "nobody"}, {"department": "Legal"}, {"emails": ["gone@example.com"]}, {}):
        with pytest.raises(AssignmentTargetNotFound):
            compliance.target_employees(**bad)
    with pytest.raises(AssignmentTargetNotFound, match="exactly one"):
        compliance.target_employees(group="support", everyone=True)


def test_due_dates_are_the_end_of_the_day_in_the_company_zone_and_never_past(settings):
    training_settings(settings, default_time_zone="America/New_York")
    due = compliance.parse_due("2026-03-10", now=NOW)
    assert due == datetime(2026, 3, 11, 3, 59, 59, tzinfo=UTC)  # 23:59:59 EDT (summer time from March 8)
    assert compliance.parse_due("2026-03-02", now=NOW).date() == datetime(2026, 3, 3, tzinfo=UTC).date()
    for bad in ("2026-03-01", "10/03/2026", "2026-3-1", "tomorrow", ""):
        with pytest.raises(InvalidDueDate):
            compliance.parse_due(bad, now=NOW)


def test_assign_to_a_group_records_each_and_counts_only_changes(people):
    ann, bob, _cy = people
    module = make_module()
    due = timezone.now() + timedelta(days=20)
    result = compliance.assign_to(module, [ann, bob], due_at=due, assigned_by="cli:tester")
    assert (result.targeted, result.assigned) == (2, 2)
    events = Event.objects.filter(action="training:assignment:created")
    assert sorted(e.subject_id for e in events) == sorted([ann.pk, bob.pk])
    assert {e.actor_label for e in events} == {"cli:tester"}
    assert {e.detail["module"] for e in events} == {"smishing"}
    # Again with a later date: nothing changes; with an earlier one, both are brought forward.
    assert compliance.assign_to(module, [ann, bob], due_at=due + timedelta(days=5), assigned_by="x").assigned == 0
    earlier = due - timedelta(days=5)
    assert compliance.assign_to(module, [ann, bob], due_at=earlier, assigned_by="x").assigned == 2
    assert set(Assignment.objects.values_list("due_at", flat=True)) == {earlier}
    assert Event.objects.filter(action="training:assignment:created").count() == 4


def test_states_current_assigned_due_soon_overdue_not_assigned(people, settings):
    training_settings(settings, due_soon_days=7)
    ann, bob, cy = people
    module = make_module()
    with time_machine.travel(NOW, tick=False):
        compliance.assign(ann, module, due_at=NOW + timedelta(days=30))
        compliance.assign(bob, module, due_at=NOW + timedelta(days=3))
        rows = {r.email: r for r in compliance.status()}
        assert rows["ann@example.com"].state == State.ASSIGNED
        assert rows["bob@example.com"].state == State.DUE_SOON
        assert rows["cy@example.com"].state == State.NOT_ASSIGNED
        assert "gone@example.com" not in rows
    with time_machine.travel(NOW + timedelta(days=4), tick=False):
        rows = {r.email: r for r in compliance.status()}
        assert rows["bob@example.com"].state == State.OVERDUE
        assert compliance.is_overdue(bob.pk)
        assert not compliance.is_overdue(ann.pk)
        assert [r.email for r in compliance.status(states=[State.OVERDUE])] == ["bob@example.com"]
        # A failed try changes nothing; a pass makes Bob current at once.
        take_quiz(bob, module, score=40, passed=False, seconds=200)
        assert compliance.is_overdue(bob.pk)
        take_quiz(bob, module, score=90, seconds=245)
        assert not compliance.is_overdue(bob.pk)
        row = {r.email: r for r in compliance.status()}["bob@example.com"]
        assert row.state == State.CURRENT
        assert (row.score, row.attempts, row.seconds) == (90, 2, 245)
        assert row.completed == timezone.now()
        assert row.as_dict()["state"] == "current"
    # Cy passed without being assigned: current, with his record.
    take_quiz(cy, module, score=100, seconds=60)
    row = {r.email: r for r in compliance.status()}["cy@example.com"]
    assert (row.state, row.attempts, row.due) == (State.CURRENT, 1, None)


def test_completion_is_recorded_with_score_attempts_and_time(people):
    ann, *_ = people
    module = make_module()
    compliance.assign(ann, module, due_at=timezone.now() + timedelta(days=3))
    take_quiz(ann, module, score=50, passed=False)
    take_quiz(ann, module, score=60, passed=False)
    attempt = take_quiz(ann, module, score=85, seconds=400)
    assignment = Assignment.objects.get(employee=ann, module=module)
    assert assignment.completed_attempt == attempt
    event = Event.objects.get(action="training:assignment:completed")
    assert event.subject_id == ann.pk
    assert {k: event.detail[k] for k in ("module", "score", "attempts", "seconds")} == {
        "module": "smishing",
        "score": 85,
        "attempts": 3,
        "seconds": 400,
    }


def test_a_new_required_version_reopens_and_an_old_pass_no_longer_counts(people):
    ann, *_ = people
    module = make_module(versions=2)
    compliance.assign(ann, module, due_at=timezone.now() + timedelta(days=3))
    take_quiz(ann, module, version=1)
    assert {r.email: r.state for r in compliance.status()}["ann@example.com"] == State.CURRENT
    module.required_version = 2
    module.save()
    assert {r.email: r.state for r in compliance.status()}["ann@example.com"] == State.NOT_ASSIGNED
    _, changed = compliance._assign(
        ann, module, due_at=timezone.now() + timedelta(days=9), source="new_version", assigned_by="system"
    )
    assert changed
    assert {r.email: r.state for r in compliance.status()}["ann@example.com"] == State.ASSIGNED
    take_quiz(ann, module, version=1)  # the old version does not close it
    assert {r.email: r.state for r in compliance.status()}["ann@example.com"] == State.ASSIGNED
    take_quiz(ann, module, version=2, score=95)
    row = {r.email: r for r in compliance.status()}["ann@example.com"]
    assert (row.state, row.score, row.attempts) == (State.CURRENT, 95, 1)  # since the pass before it


def test_an_archived_module_is_neither_listed_nor_overdue(people):
    ann, *_ = people
    module = make_module()
    compliance.assign(ann, module, due_at=timezone.now() + timedelta(days=1))
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert compliance.is_overdue(ann.pk)
        module.archived_at = timezone.now()
        module.save()
        assert not compliance.is_overdue(ann.pk)
        assert compliance.status() == [] or all(r.module != "smishing" for r in compliance.status())
    with pytest.raises(ModuleNotFound):
        compliance.module_by_slug("smishing")


def test_every_new_employee_is_assigned_the_configured_modules(settings):
    training_settings(settings, new_employee_modules=("smishing", "not-yet-written"), new_employee_due_days=30)
    module = make_module()
    with time_machine.travel(NOW, tick=False):
        dee = add_employee(email="dee@example.com", name="Dee", department="Ops")
    assignment = Assignment.objects.get(employee=dee)
    assert assignment.module == module
    assert assignment.due_at == NOW + timedelta(days=30)
    assert assignment.source == Assignment.Source.NEW_EMPLOYEE
    event = Event.objects.get(action="training:assignment:created", subject=dee)
    assert event.detail["source"] == "new_employee"


def test_without_new_employee_modules_nobody_is_assigned(settings):
    training_settings(settings, new_employee_modules=())
    make_module()
    add_employee(email="eve@example.com", name="Eve")
    assert not Assignment.objects.exists()
