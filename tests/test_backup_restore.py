"""docs/deploy.md's backup and restore, run exactly as written, on the database of this run's mode.

The commands are not copied here: they are the fenced blocks of docs/deploy.md marked ``<!-- backup-test: NAME
-->``, run with bash, with the variables the doc's settings block names (``DATA``, ``BACKUPS``, ``RECIPIENTS``,
``OFFHOST``, ``IDENTITY``, ``BACKUP``, ``SMISHGUARD_MIGRATE_DATABASE_URL``) pointing into the test's folder.  A
database populated through the app (the CLI, and WebAuthn sign-ins in a process of its own, committed for real) is
backed up while a gunicorn server runs on it, encrypted with age to a key pair made by ``age-keygen``, copied off
host, restored from that copy into a fresh database, and found again: every audit event with the same id and
content, the employees, their keys and sessions, the append-only triggers (UPDATE and DELETE refused; on
PostgreSQL TRUNCATE too), and ``smishguard audit export`` and ``migrate`` working on it.  SQLite mode backs up a
SQLite install (sqlite3 ``.backup``), production mode a PostgreSQL one (``pg_dump -Fc`` / ``pg_restore``).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import modes
import pytest
from servers import Database, clean_env, django_eval, gunicorn, smishguard

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"
BLOCK = re.compile(r"<!-- backup-test: ([a-z-]+) -->\n```sh\n(.*?)```", re.DOTALL)
# The tables whose rows must come back column for column (the audit trail first).
TABLES = ("audit_event", "accounts_employee", "passkeys_credential", "accounts_session")
EMAILS = ("ada@example.com", "grace@example.com", "alan@example.com")

# Two employees enrol a key and sign in through the real WebAuthn ceremony, in a process of their own (its writes
# are committed: the audit table refuses the test database's rollbacks).
SIGN_INS = """
import json, sys
sys.path.insert(0, {support!r})
from django.conf import settings
from django.test import Client
from softkey import SoftKey
from smishguard.accounts import services

origin = settings.SMISHGUARD.origin
tokens = []
for email in ("ada@example.com", "grace@example.com"):
    client = Client(HTTP_ORIGIN=origin, HTTP_HOST=origin.split("://", 1)[1])
    key = SoftKey(origin=origin, rp_id=settings.SMISHGUARD.rp_id)
    token = services.invite(services.get_employee(email)).token

    def post(url, body):
        response = client.post(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code < 300, (url, response.status_code, response.content[:300])
        return response.json()

    options = post("/api/webauthn/register/options", {{"token": token}})
    post("/api/webauthn/register/verify", {{**key.register(options), "token": token}})
    options = post("/api/webauthn/login/options", {{"email": email}})
    post("/api/webauthn/login/verify", key.assertion(options))
    tokens.append(client.cookies["sg_session"].value)
print(json.dumps(tokens))
"""


def doc_blocks() -> dict[str, str]:
    return dict(BLOCK.findall(DOC.read_text(encoding="utf-8")))


def run_block(name: str, *, cwd: Path | None = None, fails: bool = False, **variables: str) -> str:
    """Run docs/deploy.md's block ``name`` with bash, with only ``variables`` (and PATH) in its environment;
    ``fails``: it must fail (its stderr is returned)."""
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    env.update(LC_ALL="C.UTF-8", **variables)
    result = subprocess.run(
        ["bash", "-c", doc_blocks()[name]], env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )
    if fails:
        assert result.returncode != 0, f"docs/deploy.md block {name!r} should have failed: {result.stdout}"
        return result.stderr
    assert result.returncode == 0, f"docs/deploy.md block {name!r} failed ({result.returncode}): {result.stderr}"
    return result.stdout


def rows(env: dict[str, str], table: str) -> list[tuple]:
    with Database(env) as db:
        return [tuple(row) for row in db.execute(f'SELECT * FROM "{table}" ORDER BY id')]


def owner_url(env: dict[str, str]) -> str:
    """The database owner's URL, which the doc's PostgreSQL blocks use (the process's own where it is the owner)."""
    return env.get("SMISHGUARD_MIGRATE_DATABASE_URL") or env["SMISHGUARD_DATABASE_URL"]


def refused(env: dict[str, str], statement: str) -> str:
    """The error the database gives ``statement`` (which must fail) from its owner, whom only the triggers stop."""
    try:
        with Database({**env, "SMISHGUARD_DATABASE_URL": owner_url(env)} if modes.POSTGRES else env) as db:
            db.execute(statement)
    except Exception as exc:  # noqa: BLE001 - sqlite3 and psycopg raise their own classes; the message is checked
        return str(exc)
    raise AssertionError(f"the restored database accepted: {statement}")


def signed_in(url: str, token: str) -> str:
    """The email of the session ``token`` at the server ``url`` (``GET /api/me``)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", "/api/me", headers={"Cookie": f"sg_session={token}", "Connection": "close"})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        return json.loads(response.read())["email"]
    finally:
        conn.close()


def populate(env: dict[str, str]) -> list[str]:
    """Employees (the CLI), sign-ins (WebAuthn), a revocation (the CLI): returns the live session tokens."""
    smishguard(env, "migrate")
    staff = Path(env["SMISHGUARD_DATA_DIR"]).parent / "staff.csv"
    staff.write_text("email,name\n" + "".join(f"{email},{email.split('@')[0].title()}\n" for email in EMAILS))
    smishguard(env, "employees", "import", str(staff))
    tokens = json.loads(django_eval(env, SIGN_INS.format(support=str(Path(__file__).parent / "support"))))
    smishguard(env, "sessions", "revoke", "--user", "grace@example.com")
    smishguard(env, "employees", "suspend", "alan@example.com")
    return tokens


def test_the_doc_has_every_block_the_test_runs() -> None:
    blocks = doc_blocks()
    assert set(blocks) == {
        "keys",
        "backup-sqlite",
        "backup-postgres",
        "retention",
        "restore-sqlite",
        "restore-postgres",
    }
    for name, text in blocks.items():
        assert text.startswith("set -euo pipefail\n"), f"block {name} should stop at the first failure"
    assert "pg_dump -Fc" in blocks["backup-postgres"]
    assert "pg_restore" in blocks["restore-postgres"]
    assert '".backup ' in blocks["backup-sqlite"]
    for name in ("backup-sqlite", "backup-postgres"):
        assert "age -R" in blocks[name], f"{name} encrypts with age to the recipients' public keys"


def test_backup_restores_every_audit_row(tmp_path: Path) -> None:
    postgres = modes.POSTGRES
    tools = ("age", "age-keygen", "rsync", *(("pg_dump", "pg_restore", "psql") if postgres else ("sqlite3",)))
    missing = [tool for tool in tools if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not found: run scripts/install --test (Debian's age, rsync, sqlite3)"
    # The secret key is not in a backup: it is restored from the secrets store, as the doc says.
    secret = {"SMISHGUARD_SECRET_KEY": secrets.token_urlsafe(48)}
    live = clean_env(tmp_path / "live", **secret)
    tokens = populate(live)

    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    run_block("keys", cwd=keys)  # the admin's machine
    identity = keys / "smishguard-backup-identity.txt"
    assert identity.stat().st_mode & 0o077 == 0, "the identity is readable by its owner alone"
    recipients = tmp_path / "recipients.txt"
    public = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True).stdout
    recipients.write_text(public)
    backups, offhost = tmp_path / "backups", tmp_path / "offhost"
    backups.mkdir(mode=0o700)
    offhost.mkdir()
    stale = backups / "smishguard-20200101T000000Z.sqlite3.age"
    stale.write_bytes(b"an old backup")
    os.utime(stale, (0, 0))
    where = {"BACKUPS": str(backups), "RECIPIENTS": str(recipients), "OFFHOST": str(offhost) + "/"}

    # The backup is taken while a server works on the database (and has just served a signed-in request).
    with gunicorn(live, workers=1, log_dir=tmp_path) as server:
        assert signed_in(server.url, tokens[0]) == "ada@example.com"
        if postgres:
            run_block("backup-postgres", **where, SMISHGUARD_MIGRATE_DATABASE_URL=owner_url(live))
        else:
            run_block("backup-sqlite", **where, DATA=live["SMISHGUARD_DATA_DIR"])
    before = {table: rows(live, table) for table in TABLES}
    assert len(before["audit_event"]) >= 10
    assert len(before["accounts_employee"]) == len(EMAILS)

    made = sorted(p.name for p in backups.iterdir())
    assert len(made) == 2, f"one new encrypted backup and nothing else: {made}"
    assert made[0] == stale.name
    backup = backups / made[1]
    assert backup.name.endswith(".pgdump.age" if postgres else ".sqlite3.age")
    data = backup.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n"), "the backup is age-encrypted"
    assert b"ada@example.com" not in data
    assert b"audit_event" not in data

    run_block("retention", **where)
    assert sorted(p.name for p in backups.iterdir()) == [backup.name], "the stale backup is gone"
    assert sorted(p.name for p in offhost.iterdir()) == [backup.name], "the new backup is copied off host"

    # Restore the off-host copy into a fresh database, as the doc says.
    restored = clean_env(tmp_path / "restored", sqlite=not postgres, **secret)
    Path(restored["SMISHGUARD_DATA_DIR"]).mkdir(exist_ok=True)
    given = {"IDENTITY": str(identity), "BACKUP": str(offhost / backup.name)}
    if postgres:
        out = run_block("restore-postgres", **given, SMISHGUARD_MIGRATE_DATABASE_URL=owner_url(restored))
    else:
        out = run_block("restore-sqlite", **given, DATA=restored["SMISHGUARD_DATA_DIR"])
        assert out.splitlines()[0] == "ok", "integrity_check"
    audit = before["audit_event"]
    count, newest, _at = out.splitlines()[-1].split("|")
    assert (int(count), int(newest)) == (len(audit), audit[-1][0])

    for table in TABLES:
        assert rows(restored, table) == before[table], f"{table}: the restored rows differ from the backed-up ones"

    # The audit trail is still append-only in the restored database.
    assert "append-only" in refused(restored, "UPDATE audit_event SET action = 'x'")
    assert "append-only" in refused(restored, "DELETE FROM audit_event")
    if postgres:
        assert "append-only" in refused(restored, "TRUNCATE audit_event")
    assert rows(restored, "audit_event") == audit

    # The app works on it: nothing to migrate, the trail exports whole, the live session is still good.
    assert "No migrations to apply" in smishguard(restored, "migrate").stdout
    exported = [json.loads(line) for line in smishguard(restored, "audit", "export").stdout.splitlines()]
    assert [event["id"] for event in exported] == [row[0] for row in audit]
    with gunicorn(restored, workers=1, log_dir=tmp_path / "restored") as server:
        assert signed_in(server.url, tokens[0]) == "ada@example.com"

    # Restoring again over the database that is there now: SQLite moves it (with its WAL) aside and restores the
    # backup; PostgreSQL refuses a database that is not empty and changes nothing in it.
    now = rows(restored, "audit_event")
    assert len(now) > len(audit), "the export is audited"
    if postgres:
        assert "already exists" in run_block(
            "restore-postgres", fails=True, **given, SMISHGUARD_MIGRATE_DATABASE_URL=owner_url(restored)
        )
        assert rows(restored, "audit_event") == now
    else:
        run_block("restore-sqlite", **given, DATA=restored["SMISHGUARD_DATA_DIR"])
        assert rows(restored, "audit_event") == audit
        (aside,) = Path(restored["SMISHGUARD_DATA_DIR"]).glob("before-restore-*")
        assert rows({"SMISHGUARD_DATA_DIR": str(aside)}, "audit_event") == now, "the replaced database is kept"
