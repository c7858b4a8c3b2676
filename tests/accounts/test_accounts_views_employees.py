"""Console employee pages: directory filters, add/edit, import, suspend, reactivate, offboard, invite."""

from __future__ import annotations

import re

import pytest

from smishguard.accounts import services, sessions
from smishguard.accounts.models import Employee, EnrolmentLink, RecoveryRequest
from smishguard.audit import Action
from smishguard.audit.models import Event


@pytest.fixture
def directory(admin, employee, add_key):
    add_key(employee)
    add_key(employee, revoked=True)  # not usable: Carl has one key
    add_key(employee, flagged=True)  # not usable either
    services.add_employee(email="fay@example.com", name="Fay Finance", department="Finance")
    suspended = services.add_employee(email="sue@example.com", name="Sue Spended", department="Finance")
    services.suspend(suspended)
    return Employee.objects.all()


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("", ["Ada Admin", "Carl Support", "Fay Finance", "Sue Spended"], []),
        ("q=carl", ["Carl Support"], ["Fay Finance", "Ada Admin"]),
        ("q=FINANCE%40", [], []),
        ("q=fay%40example", ["Fay Finance"], ["Carl Support"]),
        ("status=suspended", ["Sue Spended"], ["Fay Finance", "Carl Support"]),
        ("department=Finance", ["Fay Finance", "Sue Spended"], ["Carl Support"]),
        ("department=Finance&status=active", ["Fay Finance"], ["Sue Spended"]),
        ("status=bogus", ["Carl Support", "Sue Spended"], []),
        ("keys=none", ["Fay Finance", "Ada Admin"], ["Carl Support"]),
        ("keys=one", ["Carl Support"], ["Fay Finance"]),
        ("keys=two", [], []),
    ],
)
def test_directory_search_and_filters(directory, admin, login, query, shown, hidden):  # noqa: PLR0917 - pytest passes these
    response = login(admin).get(f"/console/employees?{query}")
    assert response.status_code == 200
    body = response.content.decode()
    table = body.split("<tbody>", 1)[1] if "<tbody>" in body else ""
    for name in shown:
        assert name in table
    for name in hidden:
        assert name not in table
    if not shown:
        assert "No employee matches these filters." in body


def test_add_employee_then_their_page(admin, login):
    client = login(admin)
    response = client.post(
        "/console/employees/new",
        {
            "email": "Jo.Lee@Example.com",
            "name": "Jo Lee",
            "phone": "+14155550123",
            "department": "Sales",
            "groups": "sales, emea",
        },
        follow=True,
    )
    assert response.status_code == 200
    jo = Employee.objects.get(email="jo.lee@example.com")
    assert response.redirect_chain[-1][0] == f"/console/employees/{jo.pk}"
    assert sorted(jo.groups.values_list("name", flat=True)) == ["emea", "sales"]
    assert b"Added Jo Lee" in response.content
    assert b"Issue enrolment link" in response.content
    assert Event.objects.filter(action=Action.EMPLOYEE_CREATED, subject=jo, actor=admin).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email", "name": "X"}, "not a valid email address"),
        ({"email": "x@example.com", "name": ""}, "a name is required"),
        ({"email": "x@example.com", "name": "X", "phone": "0123"}, "E.164"),
        ({"email": "carl@example.com", "name": "Carl Again"}, "already exists"),
    ],
)
def test_add_employee_refuses_bad_details_and_keeps_the_form(admin, employee, login, fields, message):
    response = login(admin).post("/console/employees/new", fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'value="{fields["name"]}"' in response.content.decode()


def test_edit_employee(admin, employee, login):
    client = login(admin)
    assert b"Carl Support" in client.get(f"/console/employees/{employee.pk}/edit").content
    response = client.post(
        f"/console/employees/{employee.pk}/edit",
        {"name": "Carl Supporter", "department": "Support", "groups": "support", "phone": ""},
        follow=True,
    )
    assert b"Saved Carl Supporter" in response.content
    employee.refresh_from_db()
    assert employee.name == "Carl Supporter"
    assert employee.phone == ""


def test_admin_cannot_drop_their_own_admin_rights(admin, login):
    response = login(admin).post(f"/console/employees/{admin.pk}/edit", {"name": "Ada Admin"})
    assert response.status_code == 400
    admin.refresh_from_db()
    assert admin.is_admin


def test_suspend_revokes_sessions_and_reactivate_restores(admin, employee, login):
    client = login(admin)
    victim = login(employee)
    assert victim.get("/").status_code == 200
    response = client.post(f"/console/employees/{employee.pk}/suspend", follow=True)
    assert "Suspended Carl Support; 1 session revoked" in response.content.decode()
    employee.refresh_from_db()
    assert employee.status == "suspended"
    assert victim.get("/").status_code == 302
    assert Event.objects.filter(action=Action.EMPLOYEE_SUSPENDED, subject=employee, actor=admin).exists()

    response = client.post(f"/console/employees/{employee.pk}/reactivate", {"from": "list"}, follow=True)
    assert response.redirect_chain[-1][0] == "/console/employees"
    assert b"Reactivated Carl Support" in response.content
    employee.refresh_from_db()
    assert employee.status == "active"


@pytest.mark.parametrize("action", ["suspend", "offboard"])
def test_admin_cannot_suspend_or_offboard_themselves(admin, login, action):
    response = login(admin).post(f"/console/employees/{admin.pk}/{action}", {"confirm": admin.email}, follow=True)
    assert f"You cannot {action} yourself" in response.content.decode()
    admin.refresh_from_db()
    assert admin.status == "active"


def test_offboard_needs_confirmation_then_revokes_everything(admin, employee, login, add_key):
    add_key(employee)
    add_key(employee)
    victim = login(employee)
    client = login(admin)

    confirm = client.get(f"/console/employees/{employee.pk}/offboard")
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "1 live session" in text
    assert "2 security keys" in text

    refused = client.post(f"/console/employees/{employee.pk}/offboard", {"confirm": "yes"}, follow=True)
    assert b"Type the employee" in refused.content
    employee.refresh_from_db()
    assert employee.status == "active"

    done = client.post(f"/console/employees/{employee.pk}/offboard", {"confirm": employee.email}, follow=True)
    assert "1 session and 2 keys revoked" in done.content.decode()
    employee.refresh_from_db()
    assert employee.status == "offboarded"
    assert not employee.credentials.filter(revoked_at__isnull=True).exists()
    assert victim.get("/").status_code == 302


def test_invite_shows_the_link_once(admin, employee, login):
    client = login(admin)
    response = client.post(f"/console/employees/{employee.pk}/invite", follow=True)
    text = response.content.decode()
    assert "shown only this once" in text
    url = re.search(r'value="(http[^"]+/enrol/[^"]+)"', text).group(1)
    token = url.rsplit("/", 1)[1]
    assert services.usable_link(token).employee == employee
    again = client.get(f"/console/employees/{employee.pk}").content.decode()
    assert token not in again
    assert "An unused first key link" in again


def test_invite_for_someone_who_lost_every_key_opens_a_recovery_request(admin, employee, login, add_key):
    add_key(employee, revoked=True)
    client = login(admin)
    page = client.get(f"/console/employees/{employee.pk}").content.decode()
    assert "Request recovery" in page
    response = client.post(f"/console/employees/{employee.pk}/invite", {"reason": "lost both"}, follow=True)
    rec = RecoveryRequest.objects.get(employee=employee)
    assert rec.status == "pending"
    assert rec.reason == "lost both"
    assert f"request #{rec.pk} now waits for a second admin" in response.content.decode()
    assert not EnrolmentLink.objects.filter(employee=employee).exists()


def test_invite_for_someone_with_a_key_is_refused_with_the_reason(admin, employee, login, add_key):
    add_key(employee)
    response = login(admin).post(f"/console/employees/{employee.pk}/invite", follow=True)
    assert "already has 1 security key" in response.content.decode()
    assert not EnrolmentLink.objects.filter(employee=employee).exists()


def test_employee_page_shows_keys_sessions_and_events(admin, employee, login, add_key):
    add_key(employee, name="Blue key", model="YubiKey 5C NFC")
    add_key(employee, name="Old key", model="Feitian ePass", revoked=True)
    login(employee)
    services.suspend(employee, actor=admin)
    services.reactivate(employee, actor=admin)
    login(employee)
    text = login(admin).get(f"/console/employees/{employee.pk}").content.decode()
    assert "Blue key" in text
    assert "YubiKey 5C NFC" in text
    assert "Revoked" in text
    assert 'Live sessions <span class="muted">(1)</span>' in text
    assert Action.EMPLOYEE_SUSPENDED.value in text
    assert "+14155550103" in text


def test_admin_revokes_an_employees_key(admin, employee, login, add_key):
    key = add_key(employee)
    response = login(admin).post(f"/console/employees/{employee.pk}/keys/{key.pk}/remove", follow=True)
    assert b"Revoked Carl Support" in response.content
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoke_one_employees_sessions(admin, employee, login):
    victim_a, victim_b = login(employee), login(employee)
    response = login(admin).post(f"/console/employees/{employee.pk}/revoke-sessions", follow=True)
    assert "Revoked 2 sessions of Carl Support" in response.content.decode()
    assert victim_a.get("/").status_code == 302
    assert victim_b.get("/").status_code == 302
    assert not sessions.live().filter(employee=employee).exists()


def test_import_keeps_good_rows_and_lists_bad_rows_with_line_numbers(admin, employee, login):
    csv_text = (
        "email,name,phone,department,groups\n"
        "jo@example.com,Jo Lee,+14155550123,Sales,sales;emea\n"
        "broken-email,Bad Row,,Sales,\n"
        "carl@example.com,Carl Renamed,,Support,support\n"
        "kim@example.com,Kim Park,12345,IT,\n"
        "lee@example.com,Lee Chan,,IT,\n"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("people.csv", csv_text.encode(), content_type="text/csv")
    response = login(admin).post("/console/employees/import", {"file": upload}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/console/employees/import/result?r=")
    text = response.content.decode()
    assert re.search(r'<td class="num mono">3</td><td>not a valid email address', text)
    assert re.search(r'<td class="num mono">5</td><td>phone must be in E.164', text)
    assert "jo@example.com" in text
    assert "lee@example.com" in text
    assert "carl@example.com" in text  # updated
    assert Employee.objects.filter(email__in=["jo@example.com", "lee@example.com"]).count() == 2
    assert not Employee.objects.filter(email="kim@example.com").exists()
    assert Employee.objects.get(email="carl@example.com").name == "Carl Renamed"


def test_import_without_a_header_is_a_clear_error(admin, login):
    response = login(admin).post("/console/employees/import", {"text": "a,b\n1,2\n"}, follow=True)
    assert b"header row with at least the columns email and name" in response.content


def test_import_result_link_cannot_be_forged(admin, login):
    response = login(admin).get("/console/employees/import/result?r=forged", follow=True)
    assert b"no longer available" in response.content


def test_the_admin_box_reflects_the_employee_not_the_admin_viewing(admin, employee, login):
    client = login(admin)
    checkbox = re.compile(r'<input id="f-admin" name="is_admin" type="checkbox"( checked)?>')
    assert checkbox.search(client.get("/console/employees/new").content.decode()).group(1) is None
    assert checkbox.search(client.get(f"/console/employees/{employee.pk}/edit").content.decode()).group(1) is None
    assert checkbox.search(client.get(f"/console/employees/{admin.pk}/edit").content.decode()).group(1) == " checked"
