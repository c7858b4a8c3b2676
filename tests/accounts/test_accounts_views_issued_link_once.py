"""A newly issued enrolment link is shown once, from server-side state bound to the admin's session: never in a
cookie, not to another session, not readable from the database, and not cached by the browser."""

from __future__ import annotations

import re

from smishguard.accounts import services
from smishguard.accounts.models import LinkNotice


def _link(text: str) -> str | None:
    found = re.search(r'value="(http[^"]+/enrol/([^"]+))"', text)
    return found.group(2) if found else None


def test_the_invite_sets_no_cookie_and_the_next_page_shows_the_link_once(admin, employee, login):
    client = login(admin)
    response = client.post(f"/console/employees/{employee.pk}/invite")
    assert response.status_code == 302
    assert not response.cookies, "the link travels in no cookie (the messages cookie included)"
    row = LinkNotice.objects.get()
    page = client.get(response["Location"])
    token = _link(page.content.decode())
    assert token is not None
    assert token not in row.sealed, "the row holds the link only encrypted"
    assert "no-store" in page["Cache-Control"]
    assert services.usable_link(token).employee == employee
    assert not LinkNotice.objects.exists()
    assert _link(client.get(response["Location"]).content.decode()) is None


def test_another_session_of_the_same_admin_does_not_see_it(admin, employee, login):
    issuing, other = login(admin), login(admin)
    issuing.post(f"/console/employees/{employee.pk}/invite")
    assert _link(other.get(f"/console/employees/{employee.pk}").content.decode()) is None
    assert _link(issuing.get(f"/console/employees/{employee.pk}").content.decode()) is not None


def test_the_approved_recovery_link_is_shown_once_without_a_cookie(admin, second_admin, employee, login, add_key):
    add_key(employee, revoked=True)
    rec = services.invite(employee, actor=admin, reason="lost")
    client = login(second_admin)
    response = client.post(f"/console/recovery/{rec.pk}/approve")
    assert response.status_code == 302
    for cookie in response.cookies.values():
        assert "/enrol/" not in cookie.value
    assert _link(client.get(response["Location"]).content.decode()) is not None
