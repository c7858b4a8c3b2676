"""``smishguard training assign`` and ``smishguard training status`` through smishguard.cli.main."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from compliance_helpers import make_module, take_quiz

from smishguard.accounts.models import Employee
from smishguard.accounts.services import add_employee
from smishguard.audit.models import Event
from smishguard.cli import main
from smishguard.training.models import Assignment

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def staff(db):
    people = [
        add_employee(email="ann@example.com", name="Ann", department="Support", groups=["support"]),
        add_employee(email="bob@example.com", name="Bob", department="Support", groups=["support"]),
        add_employee(email="cy@example.com", name="Cy", department="Sales", groups=["sales"]),
    ]
    gone = add_employee(email="gone@example.com", name="Gone", department="Sales", groups=["support"])
    Employee.objects.filter(pk=gone.pk).update(status=Employee.Status.SUSPENDED)
    make_module()
    return people


@time_machine.travel(NOW, tick=False)
def test_assign_to_a_group_a_department_and_everyone(staff, capsys):
    code, out, err = run(capsys, "training", "assign", "smishing", "--group", "support", "--due", "2026-03-20")
    assert (code, err) == (0, "")
    assert out.startswith("assigned smishing to 2 employee(s) of 2 (group support), due 2026-03-20")
    assert sorted(Assignment.objects.values_list("employee__email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert {a.due_at for a in Assignment.objects.all()} == {datetime(2026, 3, 20, 23, 59, 59, tzinfo=UTC)}
    event = Event.objects.filter(action="training:assignment:created").first()
    assert event.actor_label.startswith("cli")
    code, out, _ = run(capsys, "training", "assign", "smishing", "--department", "sales", "--due", "2026-03-20")
    assert (code, out.split(" (")[0]) == (0, "assigned smishing to 1 employee(s) of 1")
    code, out, _ = run(capsys, "training", "assign", "smishing", "--all", "--due", "2026-03-25", "--json")
    assert code == 0
    assert json.loads(out) == {
        "module": "smishing",
        "targeted": 3,
        "assigned": 0,  # each keeps the earlier date
        "due": "2026-03-25T23:59:59+00:00",
    }
    assert Assignment.objects.count() == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope", "--all", "--due", "2026-03-20"], "no training module 'nope'"),
        (["smishing", "--group", "nobody", "--due", "2026-03-20"], "no group named 'nobody'"),
        (["smishing", "--department", "Legal", "--due", "2026-03-20"], "no employee is in a department named"),
        (["smishing", "--all", "--due", "20/03/2026"], "the due date must be YYYY-MM-DD"),
        (["smishing", "--all", "--due", "2026-02-30"], "the due date must be YYYY-MM-DD"),
        (["smishing", "--all", "--due", "2026-03-01"], "the due date 2026-03-01 is in the past"),
    ],
    ids=["unknown-module", "unknown-group", "unknown-department", "bad-date", "no-such-day", "past-date"],
)
@time_machine.travel(NOW, tick=False)
def test_assign_refuses_with_one_line(staff, capsys, argv, message):
    code, out, err = run(capsys, "training", "assign", *argv)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("smishguard: error: ")
    assert message in err
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    "targets",
    [["--group", "support", "--all"], ["--department", "Sales", "--group", "support"], []],
    ids=["group-and-all", "department-and-group", "none"],
)
def test_assign_takes_exactly_one_target(staff, capsys, targets):
    with pytest.raises(SystemExit) as exited:
        main(["training", "assign", "smishing", *targets, "--due", "2099-01-01"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--group" in err
    assert not Assignment.objects.exists()


def test_status_table_and_json(staff, capsys):
    ann, bob, _cy = staff
    with time_machine.travel(NOW, tick=False):
        assert run(capsys, "training", "assign", "smishing", "--group", "support", "--due", "2026-03-04")[0] == 0
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        from smishguard.training.models import Module

        take_quiz(ann, Module.objects.get(slug="smishing"), score=90, passed=False, seconds=100)
        take_quiz(ann, Module.objects.get(slug="smishing"), score=100, seconds=125)
    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        code, out, err = run(capsys, "training", "status")
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[0].split() == ["EMAIL", "MODULE", "STATE", "DUE", "COMPLETED", "SCORE", "ATTEMPTS", "TIME"]
        assert lines[1].split() == [
            "ann@example.com",
            "smishing",
            "current",
            "2026-03-04",
            "2026-03-03",
            "100%",
            "2",
            "2m05s",
        ]
        assert lines[2].split() == ["bob@example.com", "smishing", "overdue", "2026-03-04", "-", "-", "-", "-"]
        assert lines[3].split() == ["cy@example.com", "smishing", "not_assigned", "-", "-", "-", "-", "-"]
        assert len(lines) == 4

        code, out, _ = run(capsys, "training", "status", "--json")
        document = json.loads(out)
        assert code == 0
        assert document["counts"] == {
            "current": 1,
            "assigned": 0,
            "due_soon": 0,
            "overdue": 1,
            "not_assigned": 1,
        }
        entries = {e["email"]: e for e in document["assignments"]}
        assert entries["ann@example.com"] == {
            "email": "ann@example.com",
            "name": "Ann",
            "department": "Support",
            "module": "smishing",
            "state": "current",
            "due": "2026-03-04T23:59:59+00:00",
            "completed": "2026-03-03T09:00:00+00:00",
            "score": 100,
            "attempts": 2,
            "seconds": 125,
            "source": "manual",
        }
        assert entries["bob@example.com"]["state"] == "overdue"
        assert entries["cy@example.com"]["due"] is None

        code, out, _ = run(capsys, "training", "status", "--overdue", "--json")
        assert [e["email"] for e in json.loads(out)["assignments"]] == ["bob@example.com"]
        code, out, _ = run(capsys, "training", "status", "--overdue")
        assert [line.split()[0] for line in out.splitlines()] == ["EMAIL", "bob@example.com"]
    take_quiz(bob, Module.objects.get(slug="smishing"))
    code, out, _ = run(capsys, "training", "status", "--overdue")
    assert (code, out) == (0, "nobody is overdue\n")
