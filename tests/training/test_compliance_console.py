"""The console's Compliance pages (/console/training/compliance/): the table with its filters and counts, the
assign form, the menu entry; admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from compliance_helpers import make_module, take_quiz
from page_fixtures import signed_in_client

from smishguard.accounts.services import add_employee
from smishguard.audit.models import Event
from smishguard.training import compliance
from smishguard.training.models import Assignment

pytestmark = pytest.mark.django_db

TABLE = "/console/training/compliance/"
ASSIGN = "/console/training/compliance/assign/"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(db):
    return add_employee(email="ada@example.com", name="Ada Admin", department="Security", is_admin=True)


@pytest.fixture
def staff(db):
    ann = add_employee(email="ann@example.com", name="Ann", department="Support", groups=["support"])
    bob = add_employee(email="bob@example.com", name="Bob", department="Support", groups=["support"])
    module = make_module()
    return ann, bob, module


def test_only_admins_see_the_pages(staff):
    ann, _, _ = staff
    for url in (TABLE, ASSIGN):
        assert signed_in_client(ann).get(url).status_code == 403
        from django.test import Client

        assert Client().get(url).status_code == 302


@time_machine.travel(NOW, tick=False)
def test_the_table_counts_and_filters_by_state(admin, staff):
    ann, bob, module = staff
    compliance.assign(ann, module, due_at=NOW - timedelta(days=1))
    compliance.assign(bob, module, due_at=NOW + timedelta(days=2))
    client = signed_in_client(admin)
    page = client.get(TABLE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-state="overdue"' in html
    assert page.context["stats"][3][:3] == ("overdue", "Overdue", 1)
    states = {row.email: row.state for row, _badge, _label in page.context["rows"]}
    assert states == {"ada@example.com": "not_assigned", "ann@example.com": "overdue", "bob@example.com": "due_soon"}
    overdue = client.get(TABLE, {"state": "overdue"})
    assert [row.email for row, *_ in overdue.context["rows"]] == ["ann@example.com"]
    assert [row.email for row, *_ in client.get(TABLE, {"overdue": "1"}).context["rows"]] == ["ann@example.com"]
    assert [row.email for row, *_ in client.get(TABLE, {"q": "bob"}).context["rows"]] == ["bob@example.com"]
    assert client.get(TABLE, {"state": "nonsense"}).context["flt"]["state"] == ""
    take_quiz(ann, module, score=88, seconds=90)
    row = next(r for r, *_ in client.get(TABLE).context["rows"] if r.email == "ann@example.com")
    assert (row.state, row.score, row.attempts) == ("current", 88, 1)
    assert "88%" in client.get(TABLE).content.decode()


def test_the_menu_has_compliance_with_the_overdue_count(admin, staff):
    ann, _, module = staff
    compliance.assign(ann, module, due_at=datetime(2000, 1, 1, tzinfo=UTC))
    html = signed_in_client(admin).get(TABLE).content.decode()
    assert f'href="{TABLE}"' in html
    assert "Compliance" in html


@time_machine.travel(NOW, tick=False)
def test_assign_to_a_group_and_refusals(admin, staff):
    client = signed_in_client(admin)
    form = client.get(ASSIGN)
    assert form.status_code == 200
    assert "support" in list(form.context["groups"])
    answer = client.post(ASSIGN, {"module": "smishing", "target": "group", "group": "support", "due": "2026-03-20"})
    assert answer.status_code == 302
    assert answer["Location"] == TABLE
    assert sorted(Assignment.objects.values_list("employee__email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert set(Event.objects.filter(action="training:assignment:created").values_list("actor_label", flat=True)) == {
        "ada@example.com"
    }
    page = client.get(TABLE)
    assert "Assigned “Smishing and your security key” to 2 of 2 employee(s)" in page.content.decode()
    for data, message in (
        ({"module": "nope", "target": "all", "due": "2026-03-20"}, "no training module"),
        ({"module": "smishing", "target": "group", "group": "", "due": "2026-03-20"}, "no group named"),
        ({"module": "smishing", "target": "department", "department": "Legal", "due": "2026-03-20"}, "department"),
        ({"module": "smishing", "target": "all", "due": "2026-02-01"}, "in the past"),
        ({"module": "smishing", "target": "all", "due": "soon"}, "YYYY-MM-DD"),
        ({"module": "smishing", "target": "nobody", "due": "2026-03-20"}, "exactly one target"),
    ):
        refused = client.post(ASSIGN, data)
        assert refused.status_code == 400, data
        assert message in refused.context["error"]
    answer = client.post(ASSIGN, {"module": "smishing", "target": "all", "due": "2026-03-10"})
    assert answer.status_code == 302
    assert Assignment.objects.count() == 3
