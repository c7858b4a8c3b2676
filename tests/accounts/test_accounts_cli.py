"""``smishguard employees``, ``sessions`` and ``audit`` commands."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from smishguard.accounts import services, sessions
from smishguard.accounts.models import Employee, RecoveryRequest
from smishguard.cli import main
from smishguard.passkeys.models import Credential

pytestmark = pytest.mark.django_db


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_invite_json(capsys):
    code, out, _ = run(
        capsys,
        "employees",
        "add",
        "Ann@Example.com",
        "--name",
        "Ann",
        "--phone",
        "+14155550123",
        "--department",
        "Support",
        "--group",
        "support",
        "--group",
        "customer-data",
        "--admin",
    )
    assert code == 0
    assert "smishguard employees invite ann@example.com" in out
    ann = Employee.objects.get(email="ann@example.com")
    assert ann.is_admin
    assert sorted(ann.groups.values_list("name", flat=True)) == ["customer-data", "support"]
    code, out, _ = run(capsys, "employees", "invite", "ann@example.com", "--json")
    assert code == 0
    body = json.loads(out)
    assert set(body) == {"url", "token", "expires"}
    assert body["url"].endswith("/enrol/" + body["token"])
    assert services.usable_link(body["token"]).employee == ann


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["employees", "add", "bad", "--name", "X"], "not a valid email address"),
        (["employees", "suspend", "ghost@example.com"], "no employee with email"),
        (["employees", "approve", "999", "--as", "ghost@example.com"], "no employee"),
    ],
)
def test_errors_are_one_clear_line(capsys, argv, message):
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("smishguard: error: ")
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_import_reports_bad_rows_and_keeps_good(capsys, tmp_path):
    f = tmp_path / "staff.csv"
    f.write_text("email,name,phone\nok@example.com,Ok,+14155550100\nbad-row,Bad,\n")
    code, out, err = run(capsys, "employees", "import", str(f))
    assert code == 1
    assert "created 1, updated 0, rejected 1" in out
    assert "line 3: not a valid email address" in err
    assert Employee.objects.filter(email="ok@example.com").exists()
    code, _, err = run(capsys, "employees", "import", str(tmp_path / "missing.csv"))
    assert code == 2
    assert "cannot read" in err


def test_suspend_offboard_and_session_revoke(capsys):
    ann = services.add_employee(email="ann@example.com", name="Ann")
    bob = services.add_employee(email="bob@example.com", name="Bob")
    t_ann, _ = sessions.create(ann, request=None)
    t_bob, _ = sessions.create(bob, request=None)
    code, out, _ = run(capsys, "sessions", "revoke", "--user", "ann@example.com")
    assert (code, out.strip()) == (0, "revoked 1 session(s) of ann@example.com")
    assert sessions.resolve(t_ann) is None
    assert sessions.resolve(t_bob) is not None
    code, out, _ = run(capsys, "sessions", "revoke", "--all")
    assert code == 0
    assert sessions.resolve(t_bob) is None
    code, out, _ = run(capsys, "employees", "suspend", "bob@example.com")
    assert code == 0
    bob.refresh_from_db()
    assert bob.status == "suspended"
    code, out, _ = run(capsys, "employees", "offboard", "ann@example.com")
    assert code == 0
    assert "offboarded ann@example.com" in out


def test_empty_lists_say_so(capsys):
    """Nothing to show is said, not printed as nothing (issue 11, item 6)."""
    assert run(capsys, "sessions", "list") == (0, "no live sessions\n", "")
    code, out, _ = run(capsys, "sessions", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    assert run(capsys, "tokens", "list") == (0, "no API tokens\n", "")
    code, out, _ = run(capsys, "tokens", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    services.add_employee(email="ann@example.com", name="Ann")
    assert run(capsys, "sessions", "list", "--user", "ann@example.com") == (
        0,
        "no live sessions of ann@example.com\n",
        "",
    )


def test_lists_keep_their_forms_when_not_empty(capsys):
    from smishguard.accounts import tokens

    ann = services.add_employee(email="ann@example.com", name="Ann")
    sessions.create(ann, request=None)
    code, out, _ = run(capsys, "sessions", "list")
    assert code == 0
    [line] = out.splitlines()
    assert "ann@example.com" in line
    assert " since " in line
    code, out, _ = run(capsys, "sessions", "list", "--json")
    [row] = [json.loads(x) for x in out.splitlines()]  # JSON lines, as before
    assert row["email"] == "ann@example.com"
    row, secret = tokens.issue("SIEM", scopes=["scan"])
    code, out, _ = run(capsys, "tokens", "list")
    [line] = out.splitlines()
    assert "SIEM" in line
    assert "active" in line
    assert secret not in out
    code, out, _ = run(capsys, "tokens", "list", "--json")
    [listed] = [json.loads(x) for x in out.splitlines()]
    assert listed["id"] == row.pk
    assert listed["name"] == "SIEM"
    assert listed["scopes"] == ["scan"]
    assert listed["state"] == "active"
    assert secret not in out


def test_recovery_through_the_cli(capsys):
    services.add_employee(email="first@example.com", name="First", is_admin=True)
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):  # eligible: a month of rights and key
        second = services.add_employee(email="second@example.com", name="Second", is_admin=True)
        Credential.objects.create(employee=second, credential_id=b"c2", public_key=b"k")
    lost = services.add_employee(email="lost@example.com", name="Lost")
    Credential.objects.create(employee=lost, credential_id=b"c1", public_key=b"k", revoked_at=lost.created_at)
    code, out, _ = run(capsys, "employees", "invite", "lost@example.com", "--as", "first@example.com")
    assert code == 0
    rec = RecoveryRequest.objects.get(employee=lost)
    assert f"recovery request {rec.pk} is pending" in out
    code, _, err = run(capsys, "employees", "approve", str(rec.pk), "--as", "first@example.com")
    assert code == 2
    assert "a different admin must approve" in err
    code, out, _ = run(capsys, "employees", "approve", str(rec.pk), "--as", "second@example.com", "--json")
    assert code == 0
    assert services.usable_link(json.loads(out)["token"]).employee == lost


def test_audit_export_since(capsys):
    services.add_employee(email="ann@example.com", name="Ann")
    code, out, _ = run(capsys, "audit", "export", "--since", "2000-01-01T00:00:00Z")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["action"] for r in rows] == ["accounts:employee:created"]
    assert rows[0]["subject"] == "ann@example.com"
    code, out, _ = run(capsys, "audit", "export", "--since", "2999-01-01")
    assert (code, out) == (0, "")
    code, _, err = run(capsys, "audit", "export", "--since", "last tuesday")
    assert code == 2
    assert "ISO 8601" in err


def test_console_script_end_to_end(tmp_path):
    """The installed console script, in a fresh folder, as a newcomer would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_") and k != "DJANGO_SETTINGS_MODULE"}
    exe = Path(sys.executable).with_name("smishguard")

    def sg(*argv):
        return subprocess.run(
            [exe, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    before = sg("employees", "list")
    assert before.returncode == 2
    assert "run `smishguard migrate`" in before.stderr
    assert sg("migrate").returncode == 0
    assert (tmp_path / "var" / "smishguard.sqlite3").exists()
    assert sg("employees", "add", "ops@example.com", "--name", "Ops", "--admin").returncode == 0
    listed = sg("employees", "list", "--json")
    assert json.loads(listed.stdout)["email"] == "ops@example.com"
    demo = sg("demo", "--no-serve", "--port", "8123")
    assert demo.returncode == 0, demo.stderr
    assert "http://localhost:8123/enrol/" in demo.stdout
