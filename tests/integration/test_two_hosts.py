"""Two web hosts, one database: nothing that matters lives in one process's memory.

Two ``smishguard serve`` instances on two ports of 127.0.0.1 (as two hosts would be: each its own data folder, the
same secret key and database) behind one nginx upstream running the shipped deploy/nginx.conf.  In production
mode they share one PostgreSQL database and the run's Redis (one key prefix); in SQLite mode the same SQLite file.
With a real WebAuthn soft key over the JSON API:

- a challenge issued by host A is accepted by host B (and, once B has used it, is spent for A too);
- a session signed out through A is refused by B on its very next request;
- through nginx, requests are spread over both hosts and sign-in works end to end;
- the rate-limit counters are shared: hits through A and B are counted together.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from nginx import Browser, nginx
from servers import clean_env, free_port, serve, smishguard, stop, wait_for
from softkey import SoftKey
from waiting import wait_until

pytestmark = pytest.mark.integration

LOGIN_OPTIONS = "/api/webauthn/login/options"
LOGIN_VERIFY = "/api/webauthn/login/verify"
# Per email asked for at sign-in: low enough to reach in a few requests, above what Ann's own sign-ins take.
SIGNIN_ACCOUNT_LIMIT = 6


@contextlib.contextmanager
def web_host(env: dict[str, str], folder: Path, port: int) -> Iterator[Path]:
    """``smishguard serve`` on 127.0.0.1:``port`` with ``folder`` as its data folder; yields its output's file
    (gunicorn's access log is on it, one line a request)."""
    folder.mkdir()
    out = folder / "serve.log"
    process = serve({**env, "SMISHGUARD_DATA_DIR": str(folder)}, port, log=out)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield out
    finally:
        stop(process)


def served(log: Path, request: str) -> int:
    """How many access lines of ``log`` have a request line starting with ``request`` ("GET /api/me ")."""
    return sum(f'"{request}' in line for line in log.read_text(errors="replace").splitlines())


def test_two_web_hosts_share_challenges_sessions_revocations_and_counters(tmp_path):
    https_port, http_port, port_a, port_b = free_port(), free_port(), free_port(), free_port()
    origin = f"https://localhost:{https_port}"
    config = tmp_path / "smishguard.toml"
    config.write_text(f'[rate_limits]\nsignin_account = "{SIGNIN_ACCOUNT_LIMIT}/10m"\n', encoding="utf-8")
    shared = tmp_path / "shared"
    shared.mkdir()
    env = clean_env(
        shared,
        SMISHGUARD_ORIGIN=origin,
        SMISHGUARD_RP_ID="localhost",
        SMISHGUARD_SECRET_KEY=secrets.token_urlsafe(48),  # the same on every host (docs/deploy.md)
        SMISHGUARD_TRUSTED_PROXIES="127.0.0.1",
        SMISHGUARD_CONFIG=str(config),
    )
    if "SMISHGUARD_DATABASE_URL" not in env:  # SQLite mode: both "hosts" on one SQLite file
        env["SMISHGUARD_DATABASE_URL"] = f"sqlite:///{shared / 'smishguard.sqlite3'}"
    postgres = env["SMISHGUARD_DATABASE_URL"].startswith("postgresql:")
    assert postgres == ("SMISHGUARD_REDIS_URL" in env), "production mode is PostgreSQL and Redis together"

    smishguard(env, "migrate")  # once, for every host
    smishguard(env, "employees", "add", "ann@example.com", "--name", "Ann")
    invite = json.loads(smishguard(env, "employees", "invite", "ann@example.com", "--json").stdout)
    key = SoftKey(origin=origin, rp_id="localhost")

    with (
        web_host(env, tmp_path / "host-a", port_a) as log_a,
        web_host(env, tmp_path / "host-b", port_b) as log_b,
        nginx(tmp_path / "nginx", https_port=https_port, http_port=http_port, app_ports=[port_a, port_b]),
    ):
        # (c) Through nginx: enrolment and sign-in end to end, and requests spread over both hosts.
        browser = Browser(https_port, origin)
        browser.enrol(key, invite["token"])
        status, options = browser.api(LOGIN_OPTIONS, {"email": "ann@example.com"})
        assert status == 200, options
        status, body = browser.api(LOGIN_VERIFY, key.assertion(options))
        assert status == 200, body
        for _ in range(8):
            status, me = browser.get_json("/api/me")
            assert (status, me["email"]) == (200, "ann@example.com")
        wait_until(
            lambda: served(log_a, "GET /api/me ") + served(log_b, "GET /api/me ") == 8,
            "eight GET /api/me in the two hosts' access logs",
        )
        assert served(log_a, "GET /api/me ") >= 1, "host A served none of the requests through nginx"
        assert served(log_b, "GET /api/me ") >= 1, "host B served none of the requests through nginx"
        assert served(log_a, "POST /api/webauthn/") + served(log_b, "POST /api/webauthn/") == 4

        # (a) A challenge issued by A is accepted by B.
        at_a = Browser(port_a, origin, https=False)
        at_b = at_a.at(port_b)
        status, options = at_a.api(LOGIN_OPTIONS, {"email": "ann@example.com"})
        assert status == 200, options
        assertion = key.assertion(options)
        status, body = at_b.api(LOGIN_VERIFY, assertion)
        assert status == 200, body
        token = at_a.cookies["sg_session"]
        # ...and, used through B, it is spent for A as well.
        status, body = Browser(port_a, origin, https=False).api(LOGIN_VERIFY, assertion)
        assert status == 400, body
        # The session works on both hosts.
        for host in (at_a, at_b):
            status, me = host.get_json("/api/me")
            assert (status, me["email"]) == (200, "ann@example.com")

        # (b) Signed out through A: refused by B on its very next request (and by A, and through nginx).
        status, body = at_a.api("/api/session/signout", {})
        assert (status, body) == (200, {"signed_out": True})
        old_session = {"Cookie": f"sg_session={token}", "Accept": "application/json"}
        status, _, _ = Browser(port_b, origin, https=False).request("GET", "/api/me", headers=old_session)
        assert status == 401
        status, _, _ = Browser(port_a, origin, https=False).request("GET", "/api/me", headers=old_session)
        assert status == 401
        status, _, _ = Browser(https_port, origin).request("GET", "/api/me", headers=old_session)
        assert status == 401
        # The session signed in through nginx was not touched.
        status, me = browser.get_json("/api/me")
        assert (status, me["email"]) == (200, "ann@example.com")

        # Shared rate-limit counters: asks for one email through A and B in turn are counted together.
        hosts = [Browser(port_a, origin, https=False), Browser(port_b, origin, https=False)]
        for n in range(SIGNIN_ACCOUNT_LIMIT):
            status, _ = hosts[n % 2].api(LOGIN_OPTIONS, {"email": "nobody@example.com"})
            assert status == 200, f"ask {n + 1} of {SIGNIN_ACCOUNT_LIMIT}"
        for host in hosts:
            status, body = host.api(LOGIN_OPTIONS, {"email": "nobody@example.com"})
            assert status == 429, body
