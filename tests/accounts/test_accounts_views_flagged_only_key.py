"""Issue 11, item 1: a key flagged as possibly cloned is not an active key anywhere, and the CLI can list and
revoke keys; the last admin whose only key is flagged gets back in through the CLI operator (break glass)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from smishguard.accounts import services, sessions
from smishguard.accounts.models import RecoveryRequest, Session
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.cli import main
from smishguard.passkeys.models import Credential

pytestmark = pytest.mark.django_db


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_employees_list_does_not_count_a_flagged_key(capsys, employee, add_key):
    add_key(employee, name="good")
    add_key(employee, name="cloned", flagged=True)
    code, out, _ = run(capsys, "employees", "list", "--json")
    assert code == 0
    assert json.loads(out)["keys"] == 1
    code, out, _ = run(capsys, "employees", "list")
    assert "keys=1" in out


def test_invite_of_an_employee_whose_only_key_is_flagged_opens_a_recovery(capsys, employee, add_key):
    add_key(employee, flagged=True)
    issued = services.invite(employee)
    assert isinstance(issued, RecoveryRequest)
    assert issued.kind == RecoveryRequest.Kind.RECOVERY
    code, out, err = run(capsys, "employees", "invite", employee.email)
    assert code == 0, err
    assert f"recovery request {issued.pk} is pending" in out


def test_employee_page_offers_recovery_when_the_only_key_is_flagged(login, admin, employee, add_key):
    add_key(employee, flagged=True)
    page = login(admin).get(reverse("accounts:console-employee", args=[employee.pk])).content.decode()
    assert "no link is needed" not in page
    assert "Request recovery" in page
    assert "0 active keys" in page or "has no working key" in page


def test_keys_list_shows_every_key_with_its_state(capsys, employee, add_key):
    good = add_key(employee, name="Blue key")
    flagged = add_key(employee, name="Red key", flagged=True)
    gone = add_key(employee, name="Old key", revoked=True)
    code, out, err = run(capsys, "keys", "list", "--user", employee.email, "--json")
    assert code == 0, err
    rows = {row["id"]: row for row in map(json.loads, out.splitlines())}
    assert rows[good.pk]["state"] == "active"
    assert rows[flagged.pk]["state"] == "flagged"
    assert rows[gone.pk]["state"] == "revoked"
    assert rows[good.pk]["name"] == "Blue key"
    code, out, _ = run(capsys, "keys", "list", "--user", employee.email)
    assert code == 0
    assert "Red key" in out
    assert "flagged" in out


def test_keys_list_says_when_there_is_none_and_refuses_an_unknown_person(capsys, employee, add_key):
    code, out, _ = run(capsys, "keys", "list", "--user", employee.email)
    assert (code, out.strip()) == (0, f"no security keys for {employee.email}")
    code, out, _ = run(capsys, "keys", "list", "--user", employee.email, "--json")
    assert (code, out.strip()) == (0, "[]")
    code, _, err = run(capsys, "keys", "list", "--user", "nobody@example.com")
    assert code == 2
    assert "nobody@example.com" in err


def test_keys_revoke_revokes_the_key_and_ends_its_sessions(capsys, employee, add_key):
    key = add_key(employee, name="Red key", flagged=True)
    other = add_key(employee, name="Blue key")
    _, by_key = sessions.create(employee, request=None, credential=key)
    _, by_other = sessions.create(employee, request=None, credential=other)
    code, out, err = run(capsys, "keys", "revoke", str(key.pk))
    assert code == 0, err
    assert "Red key" in out
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert Session.objects.get(pk=by_key.pk).revoked_at is not None
    assert Session.objects.get(pk=by_other.pk).revoked_at is None
    event = Event.objects.filter(action=Action.KEY_REMOVED).get()
    assert event.actor_label.startswith("cli:")
    assert event.detail["key_id"] == key.pk
    code, _, err = run(capsys, "keys", "revoke", str(key.pk))
    assert code == 2
    assert "already revoked" in err
    code, _, err = run(capsys, "keys", "revoke", "987654")
    assert code == 2
    assert "no security key 987654" in err


def test_break_glass_last_admin_whose_only_key_is_flagged(capsys, admin, add_key):
    """docs/deploy.md's break-glass path: the CLI operator on the server issues the locked-out admin a link."""
    add_key(admin, flagged=True)
    code, out, err = run(capsys, "employees", "invite", admin.email)
    assert code == 0, err
    assert "--break-glass" in out  # nobody can approve: the operator is told the way out
    code, _, err = run(capsys, "employees", "invite", admin.email, "--break-glass")
    assert code == 2
    assert "--reason" in err
    code, out, err = run(
        capsys, "employees", "invite", admin.email, "--break-glass", "--reason", "key cloned", "--json"
    )
    assert code == 0, err
    body = json.loads(out)
    assert services.usable_link(body["token"]).employee == admin
    event = Event.objects.filter(action=Action.RECOVERY_BREAK_GLASS).get()
    assert event.actor_label.startswith("cli:")
    assert event.detail["reason"] == "key cloned"
    # the pending four-eyes request it replaces is closed, not left open
    assert not RecoveryRequest.objects.filter(employee=admin, status=RecoveryRequest.Status.PENDING).exists()


def test_break_glass_is_refused_while_another_admin_can_approve(capsys, admin, second_admin, add_key):
    add_key(admin, flagged=True)
    code, _, err = run(capsys, "employees", "invite", admin.email, "--break-glass", "--reason", "key cloned")
    assert code == 2
    assert second_admin.email in err
    assert not Credential.objects.filter(employee=admin, flagged_at__isnull=True).exists()
    assert not Event.objects.filter(action=Action.RECOVERY_BREAK_GLASS).exists()


def test_an_employee_cannot_remove_their_last_working_key_beside_a_flagged_one(employee, add_key):
    from smishguard.passkeys.errors import LastKey
    from smishguard.passkeys.keys import remove_key

    good = add_key(employee, name="Blue key")
    flagged = add_key(employee, name="Red key", flagged=True)
    with pytest.raises(LastKey):
        remove_key(good, actor=employee)
    remove_key(flagged, actor=employee)  # a flagged key signs nobody in: removing it leaves them as they were
    flagged.refresh_from_db()
    assert flagged.revoked_at is not None
