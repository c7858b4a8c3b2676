"""Who may open which page: signed-out visitors are sent to sign in, employees get 403 on the console."""

from __future__ import annotations

import pytest
from django.test import Client

PORTAL_PAGES = ["/", "/portal/keys", "/portal/sessions"]
CONSOLE_PAGES = [
    "/console/employees",
    "/console/employees/new",
    "/console/employees/import",
    "/console/recovery",
    "/console/coverage",
    "/console/sessions",
    "/console/sessions/revoke-all",
    "/console/audit",
    "/console/audit/export",
]


@pytest.mark.parametrize("path", PORTAL_PAGES + CONSOLE_PAGES)
def test_signed_out_visitors_are_sent_to_sign_in_with_next(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/signin")
    if path != "/":
        assert "next=" in location


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_employees_see_their_portal(employee, login, path):
    response = login(employee).get(path)
    assert response.status_code == 200
    assert b"Carl Support" in response.content


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_employees_who_are_not_admins_get_403_on_the_console(employee, login, path):
    response = login(employee).get(path)
    assert response.status_code == 403
    assert b"You do not have access to this page" in response.content


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_admins_open_the_console(admin, login, path):
    response = login(admin).get(path)
    assert response.status_code == 200


def test_employee_page_and_actions_are_admin_only(employee, admin, login):
    client = login(employee)
    assert client.get(f"/console/employees/{admin.pk}").status_code == 403
    assert client.post(f"/console/employees/{admin.pk}/suspend").status_code == 403
    admin.refresh_from_db()
    assert admin.status == "active"


def test_console_nav_is_shown_to_admins_only(employee, admin, login):
    assert b"Security console" not in login(employee).get("/").content
    assert b"Security console" in login(admin).get("/").content


def test_unknown_employee_is_a_404_page(admin, login):
    response = login(admin).get("/console/employees/999999")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_state_changes_need_the_csrf_token(admin, employee, login):
    client = login(admin)
    client.handler.enforce_csrf_checks = True
    response = client.post(f"/console/employees/{employee.pk}/suspend")
    assert response.status_code == 403
    employee.refresh_from_db()
    assert employee.status == "active"


@pytest.mark.parametrize("path", ["/console/employees/1/suspend", "/portal/sessions/end-others"])
def test_state_changes_refuse_get(admin, login, path):
    assert login(admin).get(path).status_code == 405


def test_a_revoked_session_is_signed_out_on_the_next_page(employee, login):
    from smishguard.accounts import sessions
    from smishguard.accounts.models import Session

    client = login(employee)
    assert client.get("/").status_code == 200
    sessions.revoke(Session.objects.filter(employee=employee), reason="test")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin")
