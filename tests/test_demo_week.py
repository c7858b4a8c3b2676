"""Issue 11 item 11: `smishguard demo` starts with a realistic week — reported texts from several employees in
two campaigns (one a brand lookalike), a text kept for review, a CT alert from a replayed certificate, a
blocklist with entries — made through the product's own intake and watcher (audited, clustered, matched), dated
over the past week; and a second start adds nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _demo(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_") and k != "DJANGO_SETTINGS_MODULE"}
    exe = Path(sys.executable).with_name("smishguard")
    return subprocess.run(
        [exe, "demo", "--no-serve", "--port", "8124"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = (
            "reports_report",
            "reports_campaign",
            "reports_campaignevent",
            "reports_blocklistentry",
            "watch_lookalikealert",
            "watch_sighting",
            "audit_event",
            "training_assignment",
            "training_simulation",
            "training_recipient",
        )
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace(" ", "T"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_the_demo_seeds_a_week_through_the_product_once(tmp_path):
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stderr
    db = tmp_path / "var" / "smishguard.sqlite3"
    with sqlite3.connect(db) as conn:
        reports = conn.execute(
            "select r.channel, r.verdict, r.campaign_id, r.created_at, r.reporter_known, r.message_sid "
            "from reports_report r"
        ).fetchall()
        campaigns = conn.execute("select id, verdict, brand, status, report_count from reports_campaign").fetchall()
        received = conn.execute("select count(*) from audit_event where action = 'reports:report:received'").fetchone()[
            0
        ]
        alerts = conn.execute("select domain, brand, logged_at from watch_lookalikealert").fetchall()
        replay = conn.execute("select api, entries_read, alerts_raised from watch_logstate").fetchall()
        blocked = conn.execute("select domain from reports_blocklistentry where removed_at is null").fetchall()

    # reported texts from several employees, each through the intake (one audit event per report)
    assert len(reports) >= 8
    assert received == len(reports)
    assert len({r[5] for r in reports if r[0] == "sms"}) == sum(1 for r in reports if r[0] == "sms")
    assert {r[0] for r in reports} >= {"sms", "portal"}
    # two smishing campaigns, one of them a brand lookalike, each reported more than once
    smishing = [c for c in campaigns if c[1] == "smishing"]
    assert len(smishing) >= 2
    assert any(c[2] for c in smishing)
    assert all(c[4] >= 2 for c in smishing)
    # a harmless text kept for review, in no campaign
    assert any(r[1] == "benign" and r[2] is None for r in reports)
    # dated over the past week, not all "now"
    now = datetime.now(UTC)
    dates = sorted(_when(r[3]) for r in reports)
    assert dates[0] <= now - timedelta(days=4)
    assert dates[-1] <= now + timedelta(minutes=1)
    assert dates[0] >= now - timedelta(days=8)
    # a CT alert from a replayed certificate: the watcher's replay path (its state row), matched to a brand
    assert alerts
    assert all(a[1] for a in alerts)
    assert any(row[0] == "replay" and row[1] >= 1 and row[2] >= 1 for row in replay)
    # a blocklist with entries
    assert len(blocked) >= 2

    before = _counts(db)
    again = _demo(tmp_path)
    assert again.returncode == 0, again.stderr
    after = _counts(db)
    assert before["training_simulation"] == 1  # issue 16: seed_demo's draft drill and assignments, once
    assert before["training_assignment"] >= 10
    for table in (
        "reports_report",
        "reports_campaign",
        "reports_blocklistentry",
        "watch_lookalikealert",
        "training_assignment",
        "training_simulation",
        "training_recipient",
    ):
        assert after[table] == before[table], table
    assert after["watch_sighting"] == before["watch_sighting"]
