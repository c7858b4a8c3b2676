"""Four eyes in the console: the admin who asked cannot approve; a second admin can, and gets the link."""

from __future__ import annotations

import re

import pytest

from smishguard.accounts import services
from smishguard.accounts.models import RecoveryRequest
from smishguard.audit import Action
from smishguard.audit.models import Event


@pytest.fixture
def pending(admin, employee, add_key) -> RecoveryRequest:
    add_key(employee, revoked=True)
    rec = services.invite(employee, actor=admin, reason="lost both keys on a trip")
    assert isinstance(rec, RecoveryRequest)
    return rec


def test_recovery_page_lists_pending_requests(pending, second_admin, login):
    text = login(second_admin).get("/console/recovery").content.decode()
    assert "Carl Support" in text
    assert "lost both keys on a trip" in text
    assert "Approve and issue link" in text


def test_the_requesting_admin_sees_no_approve_button(pending, admin, login):
    text = login(admin).get("/console/recovery").content.decode()
    assert "Your request: awaiting another admin" in text
    assert "Approve and issue link" not in text


def test_the_requesting_admin_cannot_approve(pending, admin, login):
    response = login(admin).post(f"/console/recovery/{pending.pk}/approve", follow=True)
    assert "a different admin must approve" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert pending.link is None
    refused = Event.objects.get(action=Action.APPROVAL_NOT_ELIGIBLE, actor=admin)
    assert "is_requester" in refused.detail["reasons"]


def test_a_second_admin_approves_and_sees_the_link_once(pending, second_admin, employee, login):
    client = login(second_admin)
    response = client.post(f"/console/recovery/{pending.pk}/approve", follow=True)
    text = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/console/employees/{employee.pk}"
    assert f"Approved recovery #{pending.pk}" in text
    token = re.search(r'value="http[^"]+/enrol/([^"]+)"', text).group(1)
    link = services.usable_link(token)
    assert link.purpose == "recovery"
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert pending.decided_by == second_admin
    assert token not in client.get("/console/recovery").content.decode()


def test_refuse(pending, second_admin, login):
    response = login(second_admin).post(f"/console/recovery/{pending.pk}/refuse", follow=True)
    assert f"Refused recovery #{pending.pk}" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "refused"


def test_approving_twice_is_a_clear_error(pending, second_admin, login):
    client = login(second_admin)
    client.post(f"/console/recovery/{pending.pk}/approve")
    response = client.post(f"/console/recovery/{pending.pk}/approve", follow=True)
    assert "is already approved" in response.content.decode()


def test_pending_count_shows_in_the_navigation(pending, second_admin, login):
    text = login(second_admin).get("/console/coverage").content.decode()
    assert 'aria-label="1 pending"' in text
