"""Who may approve a four-eyes request (issue 10, item 1): the rules, one by one, and the CLI's answer."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from smishguard.accounts import services
from smishguard.accounts.models import Employee, RecoveryRequest
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.cli import main
from smishguard.passkeys.models import Credential

pytestmark = pytest.mark.django_db
MONTH = timedelta(days=30)


def key(person: Employee, *, age: timedelta = MONTH, revoked: bool = False) -> Credential:
    now = timezone.now()
    return Credential.objects.create(
        employee=person,
        credential_id=secrets.token_bytes(32),
        public_key=b"k",
        created_at=now - age,
        revoked_at=now if revoked else None,
    )


def admin(email: str, *, age: timedelta = MONTH) -> Employee:
    with time_machine.travel(timezone.now() - age, tick=False):
        person = services.add_employee(email=email, name=email.split("@", maxsplit=1)[0].title(), is_admin=True)
    key(person, age=age)
    return person


def recovery_by(requester: Employee) -> RecoveryRequest:
    lost = services.add_employee(email=f"lost{secrets.token_hex(3)}@example.com", name="Lost")
    key(lost, revoked=True)
    return services.invite(lost, actor=requester)


def test_a_veteran_admin_who_is_neither_requester_nor_subject_may_approve():
    a, b = admin("a@example.com"), admin("b@example.com")
    assert services.approval_refusals(recovery_by(a), b) == []


def test_new_admin_rights_do_not_count_even_with_an_old_key():
    a, b = admin("a@example.com"), admin("b@example.com")
    Employee.objects.filter(pk=b.pk).update(admin_granted_at=timezone.now() - timedelta(days=2))
    b.refresh_from_db()
    assert [r.code for r in services.approval_refusals(recovery_by(a), b)] == ["admin_rights_too_new"]


def test_a_new_key_does_not_count_even_with_old_rights():
    a, b = admin("a@example.com"), admin("b@example.com")
    Credential.objects.filter(employee=b).update(created_at=timezone.now() - timedelta(days=1))
    assert [r.code for r in services.approval_refusals(recovery_by(a), b)] == ["key_too_new"]


def test_an_admin_without_an_active_key_cannot_approve():
    a, b = admin("a@example.com"), admin("b@example.com")
    Credential.objects.filter(employee=b).update(revoked_at=timezone.now())
    assert [r.code for r in services.approval_refusals(recovery_by(a), b)] == ["no_active_key"]


def test_admins_from_before_the_grant_date_use_their_oldest_active_key():
    a, b = admin("a@example.com"), admin("b@example.com")
    Employee.objects.filter(pk=b.pk).update(admin_granted_at=None)
    b.refresh_from_db()
    assert services.approval_refusals(recovery_by(a), b) == []
    Credential.objects.filter(employee=b).update(created_at=timezone.now() - timedelta(days=3))
    codes = [r.code for r in services.approval_refusals(recovery_by(a), b)]
    assert codes == ["admin_rights_too_new", "key_too_new"]


def test_the_waiting_age_is_configurable(settings):
    settings.SMISHGUARD = dataclasses.replace(
        settings.SMISHGUARD, approvals=dataclasses.replace(settings.SMISHGUARD.approvals, min_age_days=1)
    )
    a, b = admin("a@example.com"), admin("b@example.com", age=timedelta(days=2))
    assert services.approval_refusals(recovery_by(a), b) == []


def test_the_subject_cannot_approve_their_own_request():
    a, b = admin("a@example.com"), admin("b@example.com")
    Credential.objects.filter(employee=b).update(revoked_at=timezone.now())
    rec = services.invite(b, actor=a)
    assert "is_subject" in [r.code for r in services.approval_refusals(rec, b)]


def test_cli_approval_says_why_it_is_refused(capsys):
    a = admin("a@example.com")
    newbie = admin("newbie@example.com", age=timedelta(days=1))
    rec = recovery_by(a)
    assert main(["employees", "approve", str(rec.pk), "--as", "newbie@example.com"]) == 2
    err = capsys.readouterr().err
    assert "newbie@example.com cannot approve" in err
    assert "too new" in err
    event = Event.objects.get(action=Action.APPROVAL_NOT_ELIGIBLE.value)
    assert event.detail["reasons"] == ["admin_rights_too_new", "key_too_new"]
    assert event.actor_id == newbie.pk
    rec.refresh_from_db()
    assert rec.status == RecoveryRequest.Status.PENDING


def test_cli_add_admin_and_import_stay_direct(tmp_path):
    assert main(["employees", "add", "op@example.com", "--name", "Op", "--admin"]) == 0
    assert Employee.objects.get(email="op@example.com").is_admin
    path = tmp_path / "people.csv"
    path.write_text("email,name,admin\nroot2@example.com,Root Two,yes\n")
    assert main(["employees", "import", str(path)]) == 0
    assert Employee.objects.get(email="root2@example.com").is_admin
    assert not RecoveryRequest.objects.exists()
    assert Event.objects.filter(action=Action.ADMIN_GRANTED.value).count() == 2


def test_existing_requests_are_kept_as_recoveries():
    a = admin("a@example.com")
    assert recovery_by(a).kind == RecoveryRequest.Kind.RECOVERY


def test_cli_invite_of_an_admin_stays_direct_even_with_as(capsys):
    admin("a@example.com")
    services.add_employee(email="fresh@example.com", name="Fresh", is_admin=True)
    assert main(["employees", "invite", "fresh@example.com", "--as", "a@example.com", "--json"]) == 0
    link = services.usable_link(json.loads(capsys.readouterr().out)["token"])
    assert link.employee.email == "fresh@example.com"
    assert not RecoveryRequest.objects.exists()


def test_cli_approves_an_admin_grant(capsys):
    a, b = admin("a@example.com"), admin("b@example.com")
    newcomer = services.add_employee(email="new@example.com", name="New", is_admin=True, actor=a)
    assert newcomer.is_admin is False
    rec = RecoveryRequest.objects.get(kind=RecoveryRequest.Kind.ADMIN_GRANT)
    assert main(["employees", "approve", str(rec.pk), "--as", b.email]) == 0
    assert "new@example.com is now an admin" in capsys.readouterr().out
    newcomer.refresh_from_db()
    assert (newcomer.is_admin, newcomer.admin_granted_by, newcomer.admin_approved_by) == (True, a, b)
