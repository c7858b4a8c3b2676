"""Fixtures for the CT watch tests: test CT logs over real certificates, a brands file, and runners of
``smishguard watch ct`` (in this process, or as a real subprocess on a throw-away SQLite database)."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ct_logs import RFC6962Log, StaticCTLog, TestCA, log_list
from servers import VENV_BIN, clean_env, smishguard

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
    (("twilio-okta.com", "www.twilio-okta.com"), True),  # a precertificate with two lookalikes
    (("*.twilio-help.com",), False),  # wildcard stripped
    (("sso.acme-corp.com",), True),  # official subdomain
    (("xn--twlio-vob.com",), False),  # IDN, decoded
    (("acme-login.com", "mail.example.net"), False),
]
EXPECTED = {
    "twilio-sso.com": ("Twilio", 1),
    "twilio-okta.com": ("Twilio", 3),
    "www.twilio-okta.com": ("Twilio", 3),
    "twilio-help.com": ("Twilio", 4),
    "tw\u01a1lio.com": ("Twilio", 6),
    "acme-login.com": ("Acme", 7),
}


@pytest.fixture(scope="session")
def ca() -> TestCA:
    return TestCA()


@pytest.fixture
def brands_file(tmp_path: Path) -> Path:
    path = tmp_path / "brands.toml"
    path.write_text(BRANDS_TOML, encoding="utf-8")
    return path


def fill(log, ca: TestCA, certificates=CERTIFICATES) -> None:
    for names, precert in certificates:
        log.add(ca.issue(list(names), precert=precert))


@pytest.fixture
def rfc_log(ca: TestCA) -> Iterator[RFC6962Log]:
    log = RFC6962Log(ca, description="Test RFC 6962 log")
    fill(log, ca)
    with log:
        yield log


@pytest.fixture
def static_log(ca: TestCA) -> Iterator[StaticCTLog]:
    log = StaticCTLog(ca, description="Test static-CT log")
    fill(log, ca)
    with log:
        yield log


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


@pytest.fixture
def watch(capsys, monkeypatch) -> Callable[..., Run]:
    """Run ``smishguard watch ct ARGS`` in this process (its database is the test database)."""
    import smishguard.cli
    from smishguard.cli import main

    # pytest-django has set Django up: a second django.setup() would point logging at this test's captured
    # stderr, closed once the test ends.
    monkeypatch.setattr(smishguard.cli, "_django_ready", True)

    def run(*args: str, stdin: str | None = None) -> Run:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["watch", "ct", "--stats-interval", "0", "--no-live", *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


# --------------------------------------------------------------------------- real processes


@dataclass
class Site:
    """A data directory with a migrated SQLite database, for ``smishguard`` subprocesses."""

    root: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return self.root / "var" / "smishguard.sqlite3"

    def query(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(self.db, timeout=20) as conn:
            return conn.execute(sql, params).fetchall()

    def command(self, *argv: str) -> list[str]:
        return [str(VENV_BIN / "smishguard"), *argv]

    def run(self, *argv: str, check: bool = False, **env: str):
        import subprocess

        return subprocess.run(
            self.command(*argv), env={**self.env, **env}, capture_output=True, text=True, timeout=120, check=check
        )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated database, made once per module and copied for each test."""
    root = tmp_path_factory.mktemp("watch-template")
    smishguard(clean_env(root / "var"), "migrate")
    return root / "var" / "smishguard.sqlite3"


@pytest.fixture
def site(tmp_path: Path, migrated: Path) -> Site:
    import shutil

    (tmp_path / "var").mkdir()
    shutil.copy(migrated, tmp_path / "var" / "smishguard.sqlite3")
    return Site(tmp_path, clean_env(tmp_path / "var"))
