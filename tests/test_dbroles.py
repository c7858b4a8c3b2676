"""The database as a security boundary: in production mode the services (and the tests) work as a restricted role
that may only insert into and read the audit table and run no DDL; `smishguard migrate` runs as the owner
(SMISHGUARD_MIGRATE_DATABASE_URL) and gives that role its privileges, on every run, audited.  On SQLite, which has
no roles, the audit table's triggers are the database's refusal."""

from __future__ import annotations

import os

import modes
import pytest
from django.db import DatabaseError, connection, transaction
from servers import Database, as_owner, clean_env, free_port, smishguard

from smishguard import dbroles
from smishguard.audit import Action, record
from smishguard.audit.models import Event

GRANTED = Action.DATABASE_ROLE_GRANTED.value
SAFE_KEY = "x7Kp2vQ9mZr4Tb8Wn3Ls6Yd1Hc5Fg0Ja-Ue_Ri2Oq8Ps4Vt7Xw9Zy3Mb6Nk1Ld5Ej"


def _refused(sql: str, params=()) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return caught.value


@pytest.mark.django_db
def test_the_tests_work_as_the_restricted_role_which_may_only_insert_into_and_read_the_audit_table():
    event = record(Action.AUDIT_EXPORTED, events=0)  # INSERT
    assert Event.objects.filter(pk=event.pk).exists()  # SELECT
    table = Event._meta.db_table
    if not modes.POSTGRES:
        assert connection.vendor == "sqlite"
        for sql in (f"UPDATE {table} SET action = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
            assert "append-only" in str(_refused(sql, [event.pk]))  # the triggers of audit migration 0002
        assert Event.objects.get(pk=event.pk).action == Action.AUDIT_EXPORTED
        return
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run beside deferred checks
    assert role == dbroles.role_of(os.environ["SMISHGUARD_DATABASE_URL"])
    assert role != dbroles.role_of(os.environ["SMISHGUARD_MIGRATE_DATABASE_URL"])
    assert dbroles.restriction_problems(connection) == []
    for sql in (
        f"UPDATE {table} SET action = 'x' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
        f"TRUNCATE {table}",
        f"ALTER TABLE {table} ADD COLUMN note text",
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        f"DROP TABLE {table}",
        "CREATE TABLE smuggled (id int)",
    ):
        refusal = _refused(sql, [event.pk] if "%s" in sql else [])
        # insufficient_privilege: refused for the role before any trigger runs (not the triggers' append-only)
        assert getattr(refusal.__cause__, "sqlstate", None) == "42501", (sql, refusal)
    assert Event.objects.get(pk=event.pk).action == Action.AUDIT_EXPORTED


def _granted_events(env) -> int:
    with Database(env) as db:
        return db.execute("SELECT count(*) FROM audit_event WHERE action = ?", [GRANTED]).fetchone()[0]


@pytest.mark.integration
def test_migrate_as_owner_gives_the_services_role_its_privileges_on_every_run_and_audits_each_change(tmp_path):
    env = clean_env(tmp_path / "var", SMISHGUARD_SECRET_KEY=SAFE_KEY)
    first = smishguard(env, "migrate")
    doctor = smishguard(env, "doctor", "--json", check=False)
    if not modes.POSTGRES:  # SQLite: no roles; migrate gives none, doctor says so and the install is safe
        assert "Services' role" not in first.stdout
        assert _granted_events(env) == 0
        assert '"database_role": "none (SQLite' in doctor.stdout
        assert doctor.returncode == 0, doctor.stdout
        return
    role = dbroles.role_of(env["SMISHGUARD_DATABASE_URL"])
    assert f"Services' role {role}: privileges set on" in first.stdout
    assert _granted_events(env) == 1
    assert doctor.returncode == 0, doctor.stdout
    assert f'"database_role": "{role}: restricted' in doctor.stdout

    # Again: nothing to change, nothing recorded.
    assert "privileges already in place" in smishguard(env, "migrate").stdout
    assert _granted_events(env) == 1

    # A table the role has no privilege on yet (as a new migration would make) is covered by the next run.
    with Database(env, owner=True) as db:
        db.execute("CREATE TABLE later_table (id int)")
    with Database(env) as db:
        assert db.execute("SELECT has_table_privilege('later_table', 'SELECT')").fetchone() == (False,)
    assert "privileges set on 1 relation(s)" in smishguard(env, "migrate").stdout
    assert _granted_events(env) == 2
    with Database(env) as db:
        assert db.execute("SELECT has_table_privilege('later_table', 'INSERT')").fetchone() == (True,)
        assert db.execute("SELECT has_table_privilege('later_table', 'TRUNCATE')").fetchone() == (False,)

    # The services connecting as the owner: doctor says it is unsafe.
    unsafe = smishguard(as_owner(env), "doctor", check=False)
    assert unsafe.returncode == 1
    assert "unsafe      database_role    the services connect as smishguard_owner" in unsafe.stdout
    assert "it owns" in unsafe.stdout


@pytest.mark.integration
def test_an_unreachable_owner_database_is_one_line(tmp_path):
    port = free_port()  # nothing listens there
    env = clean_env(
        tmp_path / "var",
        sqlite=True,
        SMISHGUARD_MIGRATE_DATABASE_URL=f"postgresql://owner:owner-password-never-shown@127.0.0.1:{port}/smishguard",
        SMISHGUARD_DATABASE_URL=f"postgresql://app@127.0.0.1:{port}/smishguard",
    )
    result = smishguard(env, "migrate", check=False)
    assert result.returncode != 0
    expected = "smishguard: error: cannot connect to the database at SMISHGUARD_MIGRATE_DATABASE_URL: "
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "owner-password-never-shown" not in result.stderr + result.stdout


@pytest.mark.integration
def test_a_services_role_that_does_not_exist_or_another_database_is_one_line(tmp_path):
    env = clean_env(tmp_path / "var")
    if modes.POSTGRES:
        env["SMISHGUARD_DATABASE_URL"] = env["SMISHGUARD_DATABASE_URL"].replace("smishguard_app@", "nobody_here@")
        expected = "smishguard: error: the role 'nobody_here' of SMISHGUARD_DATABASE_URL does not exist"
    else:  # a SQLite install given an owner's URL elsewhere: not the same database
        env["SMISHGUARD_MIGRATE_DATABASE_URL"] = "postgresql://owner@127.0.0.1:5432/smishguard"
        expected = "smishguard: error: SMISHGUARD_MIGRATE_DATABASE_URL and SMISHGUARD_DATABASE_URL must name the same"
    result = smishguard(env, "migrate", check=False)
    assert result.returncode != 0
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    # refused before anything was migrated
    if modes.POSTGRES:
        with Database(env, owner=True) as db:
            assert db.execute("SELECT to_regclass('audit_event')").fetchone() == (None,)
    else:
        assert not (tmp_path / "var" / "smishguard.sqlite3").exists()
