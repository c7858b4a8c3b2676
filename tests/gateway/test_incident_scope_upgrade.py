"""Issue 14, the breach scope's roll-up of admitted reads (``CustomerRead``: reads, first, last per employee, host
and customer) kept exact where the access record changes outside the check: an upgrade (gateway migration
0008_read_rollup fills it from the access record's admitted rows, so the scope of rows written before the upgrade
is exact; refused attempts are read from the record itself) and the retention step (``smishguard gateway access
prune`` trims it with the rows it deletes).  Real commits: a smishguard process on its own data folder, in SQLite
and in production mode."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

from servers import VENV_BIN, Database, clean_env, smishguard

ACCESS = "gateway_accessrecord"
ROLLUP = "gateway_customerread"
A = "customers.example.com"


def _owner(env: dict[str, str]) -> dict[str, str]:
    """The environment as the database owner (what ``smishguard migrate`` connects as in production mode)."""
    owner = env.get("SMISHGUARD_MIGRATE_DATABASE_URL")
    return {**env, "SMISHGUARD_DATABASE_URL": owner} if owner else env


def _migrate_gateway_to(env: dict[str, str], target: str) -> None:
    code = (
        "from smishguard.clitools import setup_django; setup_django(); "
        "from django.core.management import call_command; "
        f"call_command('migrate', 'gateway', {target!r}, verbosity=0)"
    )
    subprocess.run([str(VENV_BIN / "python"), "-c", code], env=_owner(env), check=True, timeout=180)


def _employee(env: dict[str, str], email: str) -> int:
    smishguard(env, "employees", "add", email, "--name", email.split("@", maxsplit=1)[0].title())
    with Database(env) as db:
        return db.execute("SELECT id FROM accounts_employee WHERE email = ?", [email]).fetchone()[0]


def _insert(env, rows: list[tuple[int, datetime, str, str]]) -> None:
    """Access rows (employee, at, customer, decision) on host A, as the owner (the record is append-only)."""
    with Database(env, owner=True) as db:
        for employee, at, customer, decision in rows:
            value = at if db.postgres else at.strftime("%Y-%m-%d %H:%M:%S.%f")
            db.execute(
                f"INSERT INTO {ACCESS} (at, employee_id, method, host, path, decision, reason, customer) "
                "VALUES (?, ?, 'GET', ?, ?, ?, 'signed_in', ?)",
                [value, employee, A, f"/customers/{customer}", decision, customer],
            )


def _rollup(env) -> dict[tuple[int, str, str], tuple[int, str, str]]:
    """The roll-up's rows, and what they must be (the aggregate of the admitted access rows), times as ISO text."""
    with Database(env) as db:
        kept = db.execute(f"SELECT employee_id, host, customer, reads, first_at, last_at FROM {ROLLUP}").fetchall()
        wanted = db.execute(
            f"SELECT employee_id, host, customer, COUNT(*), MIN(at), MAX(at) FROM {ACCESS} "
            "WHERE decision = 'allow' AND employee_id IS NOT NULL GROUP BY employee_id, host, customer"
        ).fetchall()

    def iso(value) -> str:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()

    as_map = lambda rows: {(e, h, c): (n, iso(f), iso(la)) for e, h, c, n, f, la in rows}  # noqa: E731
    assert as_map(kept) == as_map(wanted)
    return as_map(kept)


def _scope(env, *argv: str) -> dict[str, object]:
    return json.loads(smishguard(env, "incident", "scope", *argv).stdout)


T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_the_upgrade_fills_the_rollup_from_the_access_record(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    ada = _employee(env, "ada@example.com")
    _migrate_gateway_to(env, "0007_drop_admitted_index")  # the release before the roll-up
    rows = [
        (ada, T0, "1", "allow"),
        (ada, T0 + timedelta(hours=1), "1", "allow"),
        (ada, T0 + timedelta(days=1, hours=2), "1", "allow"),
        (ada, T0 + timedelta(hours=3), "2", "allow"),
        (ada, T0 + timedelta(hours=4), "3", "deny"),
    ]
    _insert(env, rows)
    with Database(env, owner=True) as db:  # what the check kept before: the last read only
        last = T0 + timedelta(days=1, hours=2)
        db.execute(
            f"INSERT INTO {ROLLUP} (employee_id, host, customer, last_at) VALUES (?, ?, '1', ?)",
            [ada, A, last if db.postgres else last.strftime("%Y-%m-%d %H:%M:%S")],
        )
    smishguard(env, "migrate")
    assert _rollup(env) == {
        (ada, A, "1"): (3, T0.isoformat(), (T0 + timedelta(days=1, hours=2)).isoformat()),
        (ada, A, "2"): (1, (T0 + timedelta(hours=3)).isoformat(), (T0 + timedelta(hours=3)).isoformat()),
    }
    # every customer inside, and customer 1 cut by until: the same reads as the rows say
    whole = _scope(env, "--user", "ada@example.com", "--since", "2026-11-01", "--until", "2026-11-03")
    assert [(c["customer"], c["reads"]) for c in whole["customers"]] == [("1", 3), ("2", 1)]
    assert whole["refused"]["total"] == 1
    first_day = _scope(env, "--user", "ada@example.com", "--since", "2026-11-01", "--until", "2026-11-02")
    assert [(c["customer"], c["reads"], c["last"]) for c in first_day["customers"]] == [
        ("1", 2, "2026-11-01T10:00:00Z"),
        ("2", 1, "2026-11-01T12:00:00Z"),
    ]


def test_prune_keeps_the_rollup_the_aggregate_of_the_rows_left(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    ada, bob = _employee(env, "ada@example.com"), _employee(env, "bob@example.com")
    now = datetime.now(UTC).replace(microsecond=0)
    cutoff = now - timedelta(days=30)
    rows = [
        (ada, cutoff - timedelta(days=5), "gone", "allow"),  # every read before the cutoff: its row goes
        (ada, cutoff - timedelta(days=2), "cut", "allow"),  # read on both sides: two reads off, first moves
        (ada, cutoff - timedelta(seconds=1), "cut", "allow"),
        (ada, cutoff, "cut", "allow"),  # exactly at the cutoff: kept (prune deletes what is before it)
        (ada, now - timedelta(days=1), "cut", "allow"),
        (bob, cutoff + timedelta(days=1), "kept", "allow"),
        (bob, cutoff - timedelta(days=1), "kept", "deny"),
    ]
    _insert(env, rows)
    with Database(env, owner=True) as db:  # the roll-up as the check would have kept it (migration 0008's fill)
        db.execute(
            f"INSERT INTO {ROLLUP} (employee_id, host, customer, reads, first_at, last_at) "
            f"SELECT employee_id, host, customer, COUNT(*), MIN(at), MAX(at) FROM {ACCESS} "
            "WHERE decision = 'allow' AND employee_id IS NOT NULL GROUP BY employee_id, host, customer"
        )
    assert len(_rollup(env)) == 3
    smishguard(env, "gateway", "access", "prune", "--before", cutoff.isoformat())
    assert _rollup(env) == {
        (ada, A, "cut"): (2, cutoff.isoformat(), (now - timedelta(days=1)).isoformat()),
        (bob, A, "kept"): (1, (cutoff + timedelta(days=1)).isoformat(), (cutoff + timedelta(days=1)).isoformat()),
    }
    since = (cutoff - timedelta(days=10)).isoformat()
    scoped = _scope(env, "--user", "ada@example.com", "--user", "bob@example.com", "--since", since)
    assert [(c["customer"], c["reads"], c["first"]) for c in scoped["customers"]] == [
        ("cut", 2, cutoff.isoformat().replace("+00:00", "Z")),
        ("kept", 1, (cutoff + timedelta(days=1)).isoformat().replace("+00:00", "Z")),
    ]
    assert scoped["refused"]["total"] == 0
