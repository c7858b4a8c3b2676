"""Four eyes that holds (issue 10, item 1): one admin cannot take over an account alone through the console.

The attack from the issue, step by step, with real sessions and a software authenticator: admin A removes victim
V's keys, invites V (a recovery request opens), adds a second admin account M, issues M's first link alone,
enrols a key for M and approves the request as M.  Each step where a rule applies is refused, and the audit trail
says why.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from softkey import SoftKey
from twilio_fixtures import configure, fake  # noqa: F401 - pytest fixtures used by name

from smishguard.accounts import services
from smishguard.accounts.models import Employee, EnrolmentLink, RecoveryRequest
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.messaging.models import OutboundMessage
from smishguard.passkeys.models import Credential


def make_key(person: Employee, *, revoked: bool = False) -> Credential:
    return Credential.objects.create(
        employee=person,
        credential_id=secrets.token_bytes(32),
        public_key=b"not-a-real-key",
        name=f"key of {person.name}",
        revoked_at=timezone.now() if revoked else None,
    )


LONG_AGO = timedelta(days=30)


def veteran_admin(email: str, name: str, *, phone: str = "") -> Employee:
    """An admin made by the CLI operator a month ago, with a key enrolled then: eligible to approve."""
    with time_machine.travel(timezone.now() - LONG_AGO, tick=False):
        person = services.add_employee(email=email, name=name, phone=phone, department="Security", is_admin=True)
        make_key(person)
    return person


def enrol_with_softkey(token: str) -> SoftKey:
    key = SoftKey()
    outsider = Client(HTTP_ORIGIN=settings.SMISHGUARD.origin)
    options = outsider.post("/api/webauthn/register/options", {"token": token}, content_type="application/json")
    assert options.status_code == 200, options.content
    body = {**key.register(options.json()), "token": token}
    assert outsider.post("/api/webauthn/register/verify", body, content_type="application/json").status_code == 201
    return key


def sign_in_with(key: SoftKey, email: str) -> Client:
    browser = Client(HTTP_ORIGIN=settings.SMISHGUARD.origin)
    options = browser.post("/api/webauthn/login/options", {"email": email}, content_type="application/json")
    verified = browser.post(
        "/api/webauthn/login/verify", json.dumps(key.assertion(options.json())), content_type="application/json"
    )
    assert verified.status_code == 200, verified.content
    return browser


def link_from(response) -> str:
    body = response.content.decode()
    marker = "/enrol/"
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)].strip().split('"')[0]


@pytest.fixture
def a(db) -> Employee:
    return veteran_admin("ada@example.com", "Ada Admin")


@pytest.fixture
def c(db) -> Employee:
    return veteran_admin("cleo@example.com", "Cleo Careful", phone="+14155550142")


@pytest.fixture
def victim(db) -> Employee:
    with time_machine.travel(timezone.now() - LONG_AGO, tick=False):
        person = services.add_employee(email="vic@example.com", name="Vic Tim", phone="+14155550177")
        make_key(person)
    return person


def test_the_takeover_from_the_issue_is_refused_step_by_step(a, c, victim, login):
    console = login(a)
    # 1. A removes V's keys, 2. invites V: a recovery request opens, no link.
    key = victim.credentials.get()
    assert console.post(f"/console/employees/{victim.pk}/keys/{key.pk}/remove").status_code == 302
    console.post(f"/console/employees/{victim.pk}/invite", {"reason": "lost"})
    recovery = RecoveryRequest.objects.get(employee=victim, kind=RecoveryRequest.Kind.RECOVERY)
    assert recovery.status == RecoveryRequest.Status.PENDING
    assert not EnrolmentLink.objects.filter(employee=victim).exists()
    # 3. A adds a second admin account: it is NOT an admin yet; a grant request waits for a second admin.
    response = console.post(
        "/console/employees/new",
        {"email": "mallory@example.com", "name": "Mallory Sock", "is_admin": "on"},
        follow=True,
    )
    assert "awaits a second admin" in response.content.decode()
    mallory = Employee.objects.get(email="mallory@example.com")
    assert mallory.is_admin is False
    grant = RecoveryRequest.objects.get(employee=mallory, kind=RecoveryRequest.Kind.ADMIN_GRANT)
    assert grant.status == RecoveryRequest.Status.PENDING
    # ... and A cannot approve their own grant request.
    response = console.post(f"/console/recovery/{grant.pk}/approve", follow=True)
    assert "asked for it" in response.content.decode()
    mallory.refresh_from_db()
    assert mallory.is_admin is False
    # Promoting through the edit form is the same: a pending request, not admin rights.
    console.post(f"/console/employees/{mallory.pk}/edit", {"name": "Mallory Sock", "is_admin": "on"})
    mallory.refresh_from_db()
    assert mallory.is_admin is False
    assert RecoveryRequest.objects.filter(employee=mallory, status="pending").count() == 1
    # 4. A issues M's first link alone (M is not an admin, so it is an ordinary link) and 5. enrols a key for M.
    response = console.post(f"/console/employees/{mallory.pk}/invite", follow=True)
    token = link_from(response)
    mallory_key = enrol_with_softkey(token)
    # 6. M tries to approve V's recovery: M is no admin, the console refuses.
    as_mallory = sign_in_with(mallory_key, "mallory@example.com")
    assert as_mallory.post(f"/console/recovery/{recovery.pk}/approve").status_code == 403
    recovery.refresh_from_db()
    assert recovery.status == RecoveryRequest.Status.PENDING
    # Even if a careless second admin approves M's rights, M cannot approve A's request: rights and key too new,
    # and granted on A's request.
    assert login(c).post(f"/console/recovery/{grant.pk}/approve").status_code == 302
    mallory.refresh_from_db()
    assert mallory.is_admin is True
    assert mallory.admin_granted_by == a
    response = as_mallory.post(f"/console/recovery/{recovery.pk}/approve", follow=True)
    text = response.content.decode()
    assert "granted on the request of" in text
    assert "too new" in text
    recovery.refresh_from_db()
    assert recovery.status == RecoveryRequest.Status.PENDING
    assert not EnrolmentLink.objects.filter(employee=victim).exists()
    # The audit trail says why, for each refused approval.
    refusals = Event.objects.filter(action=Action.APPROVAL_NOT_ELIGIBLE.value).order_by("at", "id")
    reasons = [set(e.detail["reasons"]) for e in refusals]
    assert reasons[0] == {"is_requester"}  # A on the grant of M
    assert {"granted_by_requester", "admin_rights_too_new", "key_too_new"} <= reasons[-1]  # M on V's recovery
    assert refusals.last().detail["request_id"] == recovery.pk
    assert refusals.last().actor_label == "mallory@example.com"


def test_an_admins_first_link_needs_a_second_admin(a, c, login):
    with time_machine.travel(timezone.now() - LONG_AGO, tick=False):
        newcomer = services.add_employee(email="nia@example.com", name="Nia New", is_admin=True)  # by the CLI
    console = login(a)
    response = console.post(f"/console/employees/{newcomer.pk}/invite", follow=True)
    assert "/enrol/" not in response.content.decode()
    assert not EnrolmentLink.objects.filter(employee=newcomer).exists()
    request = RecoveryRequest.objects.get(employee=newcomer, kind=RecoveryRequest.Kind.ADMIN_ENROLMENT)
    assert "asked for it" in console.post(f"/console/recovery/{request.pk}/approve", follow=True).content.decode()
    response = login(c).post(f"/console/recovery/{request.pk}/approve", follow=True)
    assert "/enrol/" in response.content.decode()
    assert EnrolmentLink.objects.get(employee=newcomer).purpose == EnrolmentLink.Purpose.INITIAL


def test_the_console_csv_import_with_the_admin_column_asks_for_approval(a, c, login):
    console = login(a)
    csv = "email,name,admin\nzed@example.com,Zed Zero,yes\nyan@example.com,Yan Plain,\n"
    console.post("/console/employees/import", {"text": csv})
    zed = Employee.objects.get(email="zed@example.com")
    assert zed.is_admin is False
    assert RecoveryRequest.objects.filter(employee=zed, kind=RecoveryRequest.Kind.ADMIN_GRANT).count() == 1
    assert Employee.objects.get(email="yan@example.com").is_admin is False


@pytest.mark.usefixtures("configure")
def test_other_admins_are_told_when_admin_rights_are_granted(a, c, login):
    login(a).post("/console/employees/new", {"email": "bo@example.com", "name": "Bo B", "is_admin": "on"})
    grant = RecoveryRequest.objects.get(kind=RecoveryRequest.Kind.ADMIN_GRANT)
    login(c).post(f"/console/recovery/{grant.pk}/approve")
    bo = Employee.objects.get(email="bo@example.com")
    assert bo.is_admin is True
    assert (bo.admin_granted_by, bo.admin_approved_by) == (a, c)
    granted = Event.objects.get(action=Action.ADMIN_GRANTED.value, subject=bo)
    assert granted.detail["requested_by"] == "ada@example.com"
    assert granted.detail["approved_by"] == "cleo@example.com"
    (sms,) = OutboundMessage.objects.filter(to="+14155550142")  # Cleo has a phone; Ada has none
    assert "bo@example.com" in sms.body


@pytest.mark.usefixtures("configure")
def test_a_phone_change_is_audited_and_the_old_number_is_told(a, victim, login):
    login(a).post(f"/console/employees/{victim.pk}/edit", {"name": "Vic Tim", "phone": "+14155550999"})
    victim.refresh_from_db()
    assert victim.phone == "+14155550999"
    changed = Event.objects.get(action=Action.PHONE_CHANGED.value)
    assert changed.subject_id == victim.pk
    assert changed.detail["old"].endswith("0177")
    (sms,) = OutboundMessage.objects.filter(to="+14155550177")
    assert "phone number" in sms.body


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/console/sessions/revoke-all", {"confirm": "REVOKE ALL"}),
        ("/console/brands/keywords", {"word": "payroll"}),
        ("/console/tokens", {"name": "siem", "scopes": ["scan"]}),
        ("/console/employees/new", {"email": "x@example.com", "name": "X", "is_admin": "on"}),
    ],
)
def test_sensitive_console_actions_ask_for_a_fresh_key_touch(a, path, data, login):
    console = login(a)
    before = Event.objects.count()
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = console.post(path, data, HTTP_REFERER="http://testserver/console/employees")
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-webauthn="stepup"' in body
    assert 'data-next="/console/employees"' in body
    assert "<script>" not in body
    assert [e.action for e in Event.objects.all()[: Event.objects.count() - before]] == [Action.STEPUP_REQUIRED.value]
    assert not Employee.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize(
    "referer", ["https://evil.example/console/", "http://testserver/\t/evil.example", "javascript:alert(1)", ""]
)
def test_the_step_up_page_never_returns_to_another_site(a, login, referer):
    console = login(a)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = console.post("/console/brands/keywords", {"word": "payroll"}, HTTP_REFERER=referer)
    assert response.status_code == 403
    assert 'data-next="/console/"' in response.content.decode()  # the one safe-return check decides


def test_approving_asks_for_a_fresh_key_touch(a, c, victim, login):
    victim.credentials.update(revoked_at=timezone.now())
    recovery = services.invite(victim, actor=a)
    console = login(c)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = console.post(f"/console/recovery/{recovery.pk}/approve")
        assert response.status_code == 403
    recovery.refresh_from_db()
    assert recovery.status == RecoveryRequest.Status.PENDING


def test_the_step_up_page_returns_to_where_you_were(a, login):
    response = login(a).get("/stepup?next=/console/recovery")
    assert response.status_code == 200
    assert 'data-next="/console/recovery"' in response.content.decode()


def test_the_cli_operator_stays_trusted_and_is_audited(db):
    admin = services.add_employee(email="root@example.com", name="Root", is_admin=True)
    assert admin.is_admin is True
    assert admin.admin_granted_at is not None
    assert admin.admin_granted_by is None
    event = Event.objects.get(action=Action.ADMIN_GRANTED.value)
    assert event.actor_label.startswith("cli:")
    issued = services.invite(admin, trusted_operator=True)
    assert isinstance(issued, services.IssuedLink)


def test_the_demo_second_admin_can_approve_at_once(db, django_capture_on_commit_callbacks):
    from smishguard.demo import (
        keep_second_admin_eligible,
        second_admin_link,
        seed_demo,
        stop_keeping_second_admin_eligible,
    )

    seed_demo()
    admin = Employee.objects.get(email="admin@example.com")
    sam = Employee.objects.get(email="sam.second@example.com")
    assert sam.is_admin
    assert sam.admin_granted_at < timezone.now() - timedelta(days=7)
    keep_second_admin_eligible()  # as `smishguard demo` does before it serves
    try:
        with django_capture_on_commit_callbacks(execute=True):  # Sam's key is dated when its enrolment commits
            enrol_with_softkey(second_admin_link().token)  # the demo prints Sam's link too
    finally:
        stop_keeping_second_admin_eligible()
    carl = Employee.objects.get(email="carl.support@example.com")
    make_key(carl, revoked=True)
    recovery = services.invite(carl, actor=admin)
    assert services.approval_refusals(recovery, sam) == []
    issued = services.approve_recovery(recovery.pk, approver=sam)
    assert services.usable_link(issued.token).employee == carl
