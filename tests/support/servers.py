"""Real servers for integration tests: smishguard under gunicorn on a throw-away database (a SQLite file in its
data folder; in postgres mode a database of its own on the test run's PostgreSQL, see modes.py)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import modes
from waiting import BOUND

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(data_dir: Path, *, sqlite: bool = False, **extra: str) -> dict[str, str]:
    """The environment for a smishguard process working on ``data_dir``, free of the test run's settings but in
    its mode: in postgres mode, with a database of its own for ``data_dir`` and the run's Redis.  ``sqlite``: on
    a SQLite file in ``data_dir`` in either mode, for a test of SQLite itself (its WAL, a SQLite file from a
    previous release)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_") and k != "DJANGO_SETTINGS_MODULE"}
    env["SMISHGUARD_DATA_DIR"] = str(data_dir)
    database_url = None if sqlite else modes.server_database_url(data_dir)
    if database_url is not None:
        env["SMISHGUARD_DATABASE_URL"] = database_url
        env["SMISHGUARD_MIGRATE_DATABASE_URL"] = modes.server_database_url(data_dir, owner=True)
        if "SMISHGUARD_REDIS_URL" not in extra:  # the run's Redis, shared with the other tests' servers:
            env["SMISHGUARD_REDIS_URL"] = os.environ["SMISHGUARD_REDIS_URL"]
            # its counters under a prefix of its own (they all come from 127.0.0.1)
            env["SMISHGUARD_REDIS_KEY_PREFIX"] = f"sg-test-{hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]}"
    env.update(extra)
    return env


class Database:
    """A DB-API connection to the database a smishguard process of ``env`` works on, for a test to look at (or
    age) what the process wrote: its SQLite file, or in postgres mode its PostgreSQL database.  Statements use
    ``?`` placeholders in both modes.  ``owner``: in postgres mode, as the database's owner rather than the
    restricted role the process works as."""

    def __init__(self, env: dict[str, str], *, owner: bool = False) -> None:
        url = env.get("SMISHGUARD_DATABASE_URL", "")
        if owner and env.get("SMISHGUARD_MIGRATE_DATABASE_URL"):
            url = env["SMISHGUARD_MIGRATE_DATABASE_URL"]
        self.postgres = url.startswith(("postgresql:", "postgres:"))
        if self.postgres:
            import psycopg

            self._conn = psycopg.connect(url)
        else:
            self._conn = sqlite3.connect(Path(env["SMISHGUARD_DATA_DIR"]) / "smishguard.sqlite3", timeout=20)

    def execute(self, sql: str, params: Sequence[object] = ()):
        return self._conn.execute(sql.replace("?", "%s") if self.postgres else sql, params)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self._conn.commit()
        finally:
            self._conn.close()


def smishguard(env: dict[str, str], *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(VENV_BIN / "smishguard"), *argv], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"smishguard {' '.join(argv)} failed: {result.stderr}")
    return result


def as_owner(env: dict[str, str]) -> dict[str, str]:
    """``env`` working on its database as the owner (postgres mode), for code that migrates in-process."""
    owner = env.get("SMISHGUARD_MIGRATE_DATABASE_URL")
    return {**env, "SMISHGUARD_DATABASE_URL": owner} if owner else dict(env)


def serve(
    env: dict[str, str], port: int, *, workers: int = 1, log: Path | None = None, extra: Sequence[str] = ()
) -> subprocess.Popen:
    """`smishguard serve` on 127.0.0.1:``port`` in the background, all it prints (both streams) in ``log`` (or
    nowhere); the caller stops it (:func:`stop`)."""
    return subprocess.Popen(
        [str(VENV_BIN / "smishguard"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *extra],
        env=env,
        stdout=open(log, "w") if log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def django_eval(env: dict[str, str], code: str) -> str:
    """Run ``code`` in a fresh process with Django set up on ``env``'s database; returns its stdout."""
    prelude = (
        "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'smishguard.settings')\ndjango.setup()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", prelude + code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"django_eval failed: {result.stderr}")
    return result.stdout


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    access_log: Path

    def access_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


def wait_for(url: str, timeout: float = BOUND) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback test server
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop(process: subprocess.Popen) -> None:
    """Ask a server to stop (SIGTERM), and kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, log_dir: Path, port: int | None = None) -> Iterator[Server]:
    """smishguard.wsgi under gunicorn; the access log records each request's worker pid first."""
    port = port or free_port()
    access_log = log_dir / "access.log"
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "smishguard.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %(s)s %(m)s %(U)s",
            "--graceful-timeout",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log_dir / "gunicorn.err", "w"),  # noqa: SIM115 - lives as long as the server
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/api/me")
        yield Server(url, process, access_log)
    finally:
        stop(process)
