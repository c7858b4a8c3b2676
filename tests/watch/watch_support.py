"""Shared data and helpers of the CT watch tests (a unique module name: see COMMON.md on test imports)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ct_logs import TestCA, log_list
from servers import VENV_BIN, Database

SHARED_CT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ct"

BRANDS_TOML = """\
keywords = ["okta"]

[[brands]]
name = "Twilio"
domains = ["twilio.com"]

[[brands]]
name = "Acme"
domains = ["acme-corp.com"]
tokens = ["acme"]
"""

# What the test logs hold: (SAN names, precertificate?) and the lookalike domains each should raise.
CERTIFICATES: list[tuple[tuple[str, ...], bool]] = [
    (("twilio.com", "www.twilio.com"), False),  # official: no alert
    (("twilio-sso.com",), False),
    (("example.org", "www.example.org"), True),  # unrelated
    (("twilio-okta.com", "www.twilio-okta.com"), True),  # a precertificate with two lookalikes: one alert
    (("*.twilio-help.com",), False),  # wildcard stripped
    (("sso.acme-corp.com",), True),  # official subdomain
    (("xn--twlio-vob.com",), False),  # IDN, decoded
    (("acme-login.com", "mail.example.net"), False),
]
EXPECTED = {
    "twilio-sso.com": ("Twilio", 1),
    "twilio-okta.com": ("Twilio", 3),  # and www.twilio-okta.com, in the same alert (issue 11, item 9)
    "twilio-help.com": ("Twilio", 4),
    "tw\u01a1lio.com": ("Twilio", 6),
    "acme-login.com": ("Acme", 7),
}


def fill(log, ca: TestCA, certificates=CERTIFICATES) -> None:
    for names, precert in certificates:
        log.add(ca.issue(list(names), precert=precert))


def write_log_list(path: Path, *logs) -> Path:
    path.write_text(json.dumps(log_list(*logs)), encoding="utf-8")
    return path


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@dataclass
class Site:
    """A data directory with a migrated database (SQLite, or in postgres mode its own PostgreSQL database), for
    ``smishguard`` subprocesses."""

    root: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return self.root / "var" / "smishguard.sqlite3"

    def query(self, sql: str, *params) -> list[tuple]:
        with Database(self.env) as conn:  # the SQLite file, or in postgres mode the site's database
            return conn.execute(sql, params).fetchall()

    def command(self, *argv: str) -> list[str]:
        return [str(VENV_BIN / "smishguard"), *argv]

    def run(self, *argv: str, check: bool = False, **env: str):
        import subprocess

        return subprocess.run(
            self.command(*argv), env={**self.env, **env}, capture_output=True, text=True, timeout=120, check=check
        )
