"""An installation's database is carried forward by `smishguard migrate`, every row of it.

tests/fixtures/populated/before.sql is a database made by the code before issue 12 moved models between apps
(tests/fixtures/populated/build.py made it: the demo organisation and its week of reports, two employees who
enrolled a key and signed in, a portal report, an SMS, a webhook alert and a CT sink delivery still owed).  This
test loads it, runs the real `smishguard migrate`, and finds every row of every model again — by its new app
where a model moved — with the audit trail, employees, keys, sessions and reports unchanged column for column.

In production mode the same release is carried forward on PostgreSQL: a fresh database is migrated to the
previous release's migration state (the fixture's ``django_migrations``, by today's migration files, which are
the ones that release shipped), populated with the fixture's rows, then migrated to head by `smishguard migrate`.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import modes
from servers import Database, clean_env, django_eval, smishguard

FIXTURE = Path(__file__).parent / "fixtures" / "populated"

# Where a model of the old release lives now (issue 12): old label -> new label.
MOVED: dict[str, str] = {"reports.Brand": "detection.Brand", "reports.Keyword": "detection.Keyword"}

# Rows that must come through unchanged, column for column: table before -> table after.
UNCHANGED_TABLES = {
    "accounts_employee": "accounts_employee",
    "accounts_session": "accounts_session",
    "passkeys_credential": "passkeys_credential",
    "reports_report": "reports_report",
    "audit_event": "audit_event",
}


# Tables of the fixture that are not rows of the release: which migrations ran (made by migrating) and SQLite's own.
NOT_COPIED = {"django_migrations", "sqlite_sequence"}


def _rows(env: dict[str, str], table: str) -> list[dict[str, object]]:
    """Every row of ``table``, read as the owner (before `smishguard migrate` the services' role has no grants)."""
    with Database(env, owner=True) as db:
        cursor = db.execute(f'SELECT * FROM "{table}" ORDER BY 1')
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _fixture() -> sqlite3.Connection:
    """The previous release's database, in memory."""
    db = sqlite3.connect(":memory:")
    db.executescript((FIXTURE / "before.sql").read_text(encoding="utf-8"))
    return db


def _load(tmp_path: Path) -> dict[str, str]:
    """The environment of a smishguard process on the previous release's database, in this run's mode."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    fixture = _fixture()
    if not modes.POSTGRES:  # the previous release's SQLite file itself
        with sqlite3.connect(data_dir / "smishguard.sqlite3") as db:
            fixture.backup(db)
        return clean_env(data_dir, sqlite=True)
    env = clean_env(data_dir)
    # Built as the database owner (the URL `smishguard migrate` uses, where the test server has one of its own).
    owner = {
        **env,
        "SMISHGUARD_DATABASE_URL": env.get("SMISHGUARD_MIGRATE_DATABASE_URL") or env["SMISHGUARD_DATABASE_URL"],
    }
    applied = fixture.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
    last = dict(applied)  # each app's newest migration (they were applied in order)
    django_eval(
        owner,
        "from django.db import connection\n"
        "from django.db.migrations.executor import MigrationExecutor\n"
        f"targets = {sorted(last.items())!r}\n"
        "executor = MigrationExecutor(connection)\n"
        "executor.migrate(targets, plan=executor.migration_plan(targets))\n",
    )
    _copy_rows(fixture, owner)
    return env


def _copy_rows(fixture: sqlite3.Connection, env: dict[str, str]) -> None:
    """Every row of the fixture into the PostgreSQL database of ``env`` (at the same schema), identity columns
    moved past the copied ids."""
    tables = [
        name
        for (name,) in fixture.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if name not in NOT_COPIED
    ]
    with Database(env) as db:
        db.execute("SET TIME ZONE 'UTC'")  # SQLite holds Django's datetimes as UTC without an offset
        for table in tables:
            types = dict(
                db.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", (table,)
                ).fetchall()
            )
            cursor = fixture.execute(f'SELECT * FROM "{table}"')
            names = [column[0] for column in cursor.description]
            assert set(names) == set(types), f"{table}: the schemas differ: {sorted(names)} / {sorted(types)}"
            boolean = [types[name] == "boolean" for name in names]
            columns = ", ".join(f'"{name}"' for name in names)
            marks = ", ".join("?" for _ in names)
            for row in cursor:
                values = [bool(v) if flag and v is not None else v for v, flag in zip(row, boolean, strict=True)]
                db.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)
            if types.get("id") in {"integer", "bigint"}:
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), max(id)) FROM \"{table}\" "
                    "HAVING max(id) IS NOT NULL"
                )


def test_fixture_is_a_populated_database(tmp_path: Path) -> None:
    env = _load(tmp_path)
    manifest = json.loads((FIXTURE / "manifest.json").read_text())
    for label in ("accounts.Employee", "accounts.Session", "passkeys.Credential", "reports.Report", "audit.Event"):
        assert manifest[label], f"the fixture has no {label} rows: nothing would be tested"
    assert len(_rows(env, "audit_event")) == len(manifest["audit.Event"])
    # The database is at the previous release's migration state (on PostgreSQL, made so by the test).
    fixture = _fixture()
    release = sorted(fixture.execute("SELECT app, name FROM django_migrations").fetchall())
    assert sorted((row["app"], row["name"]) for row in _rows(env, "django_migrations")) == release
    assert ("reports", "0005_brands_move_to_detection") not in release, "the fixture predates issue 12's move"


def test_migrate_carries_every_row_forward(tmp_path: Path) -> None:
    env = _load(tmp_path)
    before = {table: _rows(env, table) for table in UNCHANGED_TABLES}

    smishguard(env, "migrate")

    manifest = json.loads((FIXTURE / "manifest.json").read_text())
    labels = {old: MOVED.get(old, old) for old in manifest}
    found = json.loads(
        django_eval(
            env,
            "import json\nfrom django.apps import apps\n"
            f"labels = {json.dumps(sorted(set(labels.values())))}\n"
            "out = {}\n"
            "for label in labels:\n"
            "    model = apps.get_model(label)\n"
            "    out[label] = sorted(pk if isinstance(pk, int) else str(pk) "
            "for pk in model.objects.values_list('pk', flat=True))\n"
            "print(json.dumps(out))\n",
        )
    )
    # In production mode `smishguard migrate` records that it gave the services' role its privileges: one event
    # after the carried-forward ones, and nothing else.
    audit_pks = manifest["audit.Event"]
    added = [row["action"] for row in _rows(env, "audit_event") if row["id"] > max(audit_pks)]
    assert added == (["db:role:granted"] if modes.POSTGRES else [])
    found["audit.Event"] = [pk for pk in found["audit.Event"] if pk <= max(audit_pks)]
    for old, pks in manifest.items():
        new = labels[old]
        assert found[new] == pks, f"{old} (now {new}): rows before {len(pks)}, after {len(found[new])}"

    for table_before, table_after in UNCHANGED_TABLES.items():
        after = {row["id"]: row for row in _rows(env, table_after)}
        for row in before[table_before]:
            kept = after[row["id"]]
            assert {name: kept.get(name) for name in row} == row, f"{table_after} row {row['id']} changed"

    # The upgraded installation goes on writing: new employees and audit events after the carried-forward ones.
    smishguard(env, "employees", "add", "new-after-upgrade@example.com", "--name", "New")
    assert len(_rows(env, "accounts_employee")) == len(manifest["accounts.Employee"]) + 1
    assert len(_rows(env, "audit_event")) > len(manifest["audit.Event"])
