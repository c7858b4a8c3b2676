"""Issue 14, the access record's retention: ``smishguard gateway access prune --before ISO`` deletes older rows as
the database owner, in one transaction, audited.  A smishguard process on its own data folder (a real commit; the
owner's URL is an environment variable): in production mode it refuses without SMISHGUARD_MIGRATE_DATABASE_URL; on
SQLite it lifts the DELETE trigger for its one transaction and the trigger is back after."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import modes
import pytest
from servers import Database, clean_env, smishguard

TABLE = "gateway_accessrecord"


def _insert(env, rows: list[tuple[datetime, str]]) -> None:
    with Database(env) as db:
        for at, customer in rows:
            value = at if db.postgres else at.strftime("%Y-%m-%d %H:%M:%S.%f")
            db.execute(
                f"INSERT INTO {TABLE} (at, method, host, path, decision, reason, customer) "
                "VALUES (?, 'GET', 'a.example.com', ?, 'allow', 'signed_in', ?)",
                [value, f"/customers/{customer}", customer],
            )


def _customers(env) -> list[str]:
    with Database(env) as db:
        return [c for (c,) in db.execute(f"SELECT customer FROM {TABLE} ORDER BY customer").fetchall()]


def test_prune_deletes_older_rows_as_the_owner_in_one_transaction_and_is_audited(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    now = datetime.now(UTC)
    _insert(env, [(now - timedelta(days=400), "old-1"), (now - timedelta(days=91), "old-2"), (now, "new")])
    cutoff = (now - timedelta(days=90)).isoformat()

    without_owner = {k: v for k, v in env.items() if k != "SMISHGUARD_MIGRATE_DATABASE_URL"}
    refused = smishguard(without_owner, "gateway", "access", "prune", "--before", cutoff, check=False)
    if modes.POSTGRES:  # the services' role may not delete: the command says so and deletes nothing
        assert refused.returncode == 2
        assert refused.stderr.startswith("smishguard: error: gateway access prune deletes access rows")
        assert "SMISHGUARD_MIGRATE_DATABASE_URL" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert _customers(env) == ["new", "old-1", "old-2"]
        done = smishguard(env, "gateway", "access", "prune", "--before", cutoff, "--json")
    else:  # SQLite has no roles: the file's owner runs it, with no other URL to give
        assert "SMISHGUARD_MIGRATE_DATABASE_URL" not in env
        done = refused
        assert done.returncode == 0, done.stderr
    assert _customers(env) == ["new"]
    if modes.POSTGRES:
        assert json.loads(done.stdout) == {"deleted": 2, "before": cutoff}
    else:
        assert done.stdout.strip() == f"pruned 2 access record(s) written before {cutoff}"
    with Database(env) as db:
        [(detail,)] = db.execute(
            "SELECT detail FROM audit_event WHERE action = ?", ["gateway:access:pruned"]
        ).fetchall()
    detail = detail if isinstance(detail, dict) else json.loads(detail)
    assert (detail["deleted"], detail["before"]) == (2, cutoff)
    if not modes.POSTGRES:  # the trigger is back: the running service still cannot delete a row
        conn = sqlite3.connect(tmp_path / "var" / "smishguard.sqlite3")
        try:
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(f"DELETE FROM {TABLE}")
        finally:
            conn.close()
    assert _customers(env) == ["new"]


def test_prune_refuses_a_time_in_the_future_or_not_a_time(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    _insert(env, [(datetime.now(UTC) - timedelta(days=1), "1")])
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for before, message in ((future, "is in the future"), ("last year", "is not an ISO 8601 date or time")):
        result = smishguard(env, "gateway", "access", "prune", "--before", before, check=False)
        assert result.returncode == 2
        assert result.stderr.startswith("smishguard: error: ")
        assert message in result.stderr
    assert _customers(env) == ["1"]
