"""An installation's database is carried forward by `smishguard migrate`, every row of it.

tests/fixtures/populated/before.sql is a database made by the code before issue 12 moved models between apps
(tests/fixtures/populated/build.py made it: the demo organisation and its week of reports, two employees who
enrolled a key and signed in, a portal report, an SMS, a webhook alert and a CT sink delivery still owed).  This
test loads it, runs the real `smishguard migrate`, and finds every row of every model again — by its new app
where a model moved — with the audit trail, employees, keys, sessions and reports unchanged column for column.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from servers import clean_env, django_eval, smishguard

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


def _rows(database: Path, table: str) -> list[dict[str, object]]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1')]


def _load(tmp_path: Path) -> Path:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    database = data_dir / "smishguard.sqlite3"
    with sqlite3.connect(database) as db:
        db.executescript((FIXTURE / "before.sql").read_text(encoding="utf-8"))
    return database


def test_fixture_is_a_populated_database(tmp_path: Path) -> None:
    database = _load(tmp_path)
    manifest = json.loads((FIXTURE / "manifest.json").read_text())
    for label in ("accounts.Employee", "accounts.Session", "passkeys.Credential", "reports.Report", "audit.Event"):
        assert manifest[label], f"the fixture has no {label} rows: nothing would be tested"
    assert len(_rows(database, "audit_event")) == len(manifest["audit.Event"])


def test_migrate_carries_every_row_forward(tmp_path: Path) -> None:
    database = _load(tmp_path)
    before = {table: _rows(database, table) for table in UNCHANGED_TABLES}
    env = clean_env(database.parent, sqlite=True)  # the previous release's SQLite file, in either mode

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
    for old, pks in manifest.items():
        new = labels[old]
        assert found[new] == pks, f"{old} (now {new}): rows before {len(pks)}, after {len(found[new])}"

    for table_before, table_after in UNCHANGED_TABLES.items():
        after = {row["id"]: row for row in _rows(database, table_after)}
        for row in before[table_before]:
            kept = after[row["id"]]
            assert {name: kept.get(name) for name in row} == row, f"{table_after} row {row['id']} changed"
