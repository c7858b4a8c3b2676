"""Fixtures for the CT watch tests: test CT logs over real certificates, a brands file, and runners of
``smishguard watch ct`` (in this process, or as a real subprocess on a throw-away SQLite database)."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import modes
import pytest
from ct_logs import RFC6962Log, StaticCTLog, TestCA
from servers import clean_env, smishguard
from watch_support import BRANDS_TOML, Run, Site, fill


@pytest.fixture(scope="session")
def ca() -> TestCA:
    return TestCA()


@pytest.fixture
def brands_file(tmp_path: Path) -> Path:
    path = tmp_path / "brands.toml"
    path.write_text(BRANDS_TOML, encoding="utf-8")
    return path


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


@pytest.fixture
def watch(capsys, monkeypatch) -> Callable[..., Run]:
    """Run ``smishguard watch ct ARGS`` in this process (its database is the test database)."""
    import smishguard.clitools
    from smishguard.cli import main

    # pytest-django has set Django up: a second django.setup() would point logging at this test's captured
    # stderr, closed once the test ends.
    monkeypatch.setattr(smishguard.clitools, "_django_ready", True)

    def run(*args: str, stdin: str | None = None) -> Run:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["watch", "ct", "--stats-interval", "0", "--no-live", *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


# --------------------------------------------------------------------------- real processes


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
    if modes.POSTGRES:  # the template's database on the test run's PostgreSQL, and the key made beside it
        modes.copy_database(migrated.parent, tmp_path / "var")
        shutil.copy(migrated.parent / "secret_key", tmp_path / "var" / "secret_key")
    else:
        shutil.copy(migrated, tmp_path / "var" / "smishguard.sqlite3")
    return Site(tmp_path, clean_env(tmp_path / "var"))
