"""Groups are separated the same way everywhere (issue 11, item 9): commas or semicolons, in the CSV import and
on the console's add and edit form alike."""

from __future__ import annotations

import pytest
from django.conf import settings

from smishguard.accounts import services, sessions
from smishguard.accounts.models import Employee

pytestmark = pytest.mark.django_db


def groups(email: str) -> list[str]:
    return sorted(Employee.objects.get(email=email).groups.values_list("name", flat=True))


def test_csv_import_accepts_commas_and_semicolons_between_groups():
    data = (
        "email,name,groups\n"
        'ann@example.com,Ann,"support, customer-data"\n'
        "bob@example.com,Bob,support;customer-data\n"
        'cy@example.com,Cy,"support; customer-data,  payroll ;"\n'
    )
    result = services.import_csv(data)
    assert not result.errors
    assert groups("ann@example.com") == ["customer-data", "support"]
    assert groups("bob@example.com") == ["customer-data", "support"]
    assert groups("cy@example.com") == ["customer-data", "payroll", "support"]


@pytest.mark.parametrize("text", ["support, customer-data", "support; customer-data", "support;customer-data,"])
def test_console_form_accepts_commas_and_semicolons_between_groups(client, text):
    admin = services.add_employee(email="ada@example.com", name="Ada Admin", is_admin=True)
    token, _ = sessions.create(admin, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    response = client.post("/console/employees/new", {"email": "dee@example.com", "name": "Dee", "groups": text})
    assert response.status_code == 302
    assert groups("dee@example.com") == ["customer-data", "support"]
    page = client.get("/console/employees/new").content.decode()
    assert "commas or semicolons" in page


def test_the_import_page_says_either_separator_works(client):
    admin = services.add_employee(email="ada@example.com", name="Ada Admin", is_admin=True)
    token, _ = sessions.create(admin, request=None)
    client.cookies[settings.SESSION_COOKIE_NAME] = token
    assert "commas or semicolons" in client.get("/console/employees/import").content.decode()
