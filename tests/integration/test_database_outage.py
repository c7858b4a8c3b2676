"""A database that stops answering under a running `smishguard serve`: every request it cannot serve gets a 503
with Retry-After and the JSON error (never a 500 or a traceback), the log says so in one line, and the service
answers again by itself once the database does, saying so in its log.

The outage is real in each mode.  Production mode: the server's PostgreSQL database stops taking connections
and the server's own are ended (as a restart does).  SQLite: another process holds the write lock past the
server's busy timeout (20 s), so a request that writes cannot.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from servers import clean_env, gunicorn, smishguard
from waiting import wait_until

pytestmark = pytest.mark.integration

ORIGIN = "http://localhost:8000"  # the default origin, which the server checks same-origin JSON against


def options(url: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        body = json.dumps({"email": "ann@example.com"})
        headers = {"Content-Type": "application/json", "Origin": ORIGIN, "Connection": "close"}
        conn.request("POST", "/api/webauthn/login/options", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def outage(env: dict[str, str]) -> Iterator[None]:
    url = env.get("SMISHGUARD_DATABASE_URL", "")
    if url.startswith("postgresql:"):
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        # as the server's administrator (the throw-away server trusts 127.0.0.1), as a DBA restarting it would be
        admin_url = f"postgresql://postgres@{parts.hostname}:{parts.port}/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            try:
                yield
            finally:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        return
    holder = sqlite3.connect(Path(env["SMISHGUARD_DATA_DIR"]) / "smishguard.sqlite3", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def test_a_database_outage_is_a_503_in_one_log_line_and_the_service_recovers_by_itself(tmp_path):
    env = clean_env(tmp_path / "var")
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "ann@example.com", "--name", "Ann")
    with gunicorn(env, workers=1, log_dir=tmp_path) as server:
        assert options(server.url)[0] == 200  # answering, its connection open
        with outage(env):
            status, headers, body = options(server.url)
            assert status == 503, body
            assert json.loads(body)["error"]["code"] == "database_unavailable"
            assert int(headers["Retry-After"]) > 0
        wait_until(lambda: options(server.url)[0] == 200, "the service answers again by itself", interval=0.5)
    log = (tmp_path / "gunicorn.err").read_text()
    assert "database unavailable (OperationalError): POST /api/webauthn/login/options answered 503" in log
    assert "database answering again after" in log
    assert "Traceback" not in log
    assert " 500 " not in (tmp_path / "access.log").read_text()
