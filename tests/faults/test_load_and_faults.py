"""Production mode under load and faults (issue 13): a mixed load of at least two minutes against `smishguard
serve` (two gunicorn workers) on a PostgreSQL and a Redis of its own, during which a web worker is killed -9,
PostgreSQL is restarted and Redis is stopped and started again.

What must hold: no 500, ever; a 503 only while PostgreSQL is down (or just after: the one request per worker
whose connection the restart ended); nothing lost and nothing half-written: every sign-in answered 200 has its
session and its audit row, every session has its audit row (a sign-in has all its rows or none), every report
answered 200 has its row; the service answers again by itself after each fault and says so in its log; with Redis
down the rate limits are counted in the database, and Redis starts empty when it returns.

Bounded: the load stops by itself after LOAD_SECONDS; every wait has a generous bound.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import modes
import psycopg
import pytest
from fake_twilio import twilio_signature
from servers import django_eval, free_port, serve, smishguard, stop, wait_for
from softkey import SoftKey
from waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.once]

ROOT = Path(__file__).resolve().parents[2]
LOAD_SECONDS = 130
EMPLOYEES = 24
ORIGIN = "http://localhost:8000"
AUTH_TOKEN = "f" * 32
SENDER = "+15005550006"


# --------------------------------------------------------------------------------------------------------
# The services of its own: PostgreSQL and Redis that this test may restart and stop
# --------------------------------------------------------------------------------------------------------


@dataclass
class Services:
    dir: Path
    env: dict[str, str]

    def _pg(self, *args: str) -> None:
        bin_dir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        command = [str(bin_dir / "pg_ctl"), "-D", str(self.dir / "pg" / "data"), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def restart_postgres(self) -> None:
        # (-l: the server started again logs to its file, not to the pipe this test reads)
        self._pg("restart", "-m", "fast", "-w", "-t", "60", "-l", str(self.dir / "pg" / "postgres.log"))

    @property
    def redis_port(self) -> int:
        return int((self.dir / "redis" / "port").read_text())

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def stop_redis(self) -> None:
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis_port), "shutdown", "nosave"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        wait_until(lambda: not modes.redis_answers(self.redis_url), "Redis stopped")

    def start_redis(self) -> None:
        redis = self.dir / "redis"
        subprocess.run(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--dir", str(redis)),
                *("--save", "", "--appendonly", "no", "--daemonize", "yes"),
                *("--pidfile", str(redis / "redis.pid"), "--logfile", str(redis / "redis.log")),
            ],
            check=True,
            timeout=30,
        )
        wait_until(lambda: modes.redis_answers(self.redis_url), "Redis started again")


@pytest.fixture
def services() -> Iterator[Services]:
    top = Path(tempfile.mkdtemp(prefix="sg-faults-"))  # not under pytest's folder: the postgres user must get in
    os.chmod(top, 0o711)  # noqa: S103 - it lets the postgres user through to its data folder; nothing is listed
    folder = top / "services"
    folder.mkdir()
    started = subprocess.run(
        [str(ROOT / "scripts" / "services"), "start", str(folder)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    env = {}
    for line in (folder / "env").read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    try:
        yield Services(folder, env)
    finally:
        subprocess.run([str(ROOT / "scripts" / "services"), "stop", str(folder)], timeout=120, check=False)
        shutil.rmtree(top, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    at: float  # seconds since the load began
    status: int | None  # None: no answer (the connection broke)


@dataclass
class Load:
    port: int
    started: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, kind: str, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers={**headers, "Connection": "close"})
            response = conn.getresponse()
            data = response.read()
            status: int | None = response.status
        except (OSError, http.client.HTTPException):
            response, data, status = None, b"", None
        finally:
            conn.close()
        with self.lock:
            self.outcomes.append(Outcome(kind, time.monotonic() - self.started, status))
        return status, (response.getheader("Set-Cookie") or "" if response else ""), data

    def json(self, kind: str, path: str, body: dict, **headers: str):
        headers = {"Content-Type": "application/json", "Origin": ORIGIN, **headers}
        return self.request(kind, "POST", path, json.dumps(body).encode(), headers)


def sign_ins(load: Load, keys: list[tuple[str, SoftKey]], seed: int) -> None:
    rng = random.Random(seed)
    while not load.stop.is_set():
        email, key = rng.choice(keys)
        status, _, body = load.json("options", "/api/webauthn/login/options", {"email": email})
        if status != 200:
            continue
        status, cookie, _ = load.json("verify", "/api/webauthn/login/verify", key.assertion(json.loads(body)))
        if status == 200:
            token = cookie.split("sg_session=", 1)[1].split(";", 1)[0]
            with load.lock:
                load.sessions.append(token)


def me(load: Load, seed: int) -> None:
    rng = random.Random(seed)
    while not load.stop.is_set():
        with load.lock:
            token = rng.choice(load.sessions) if load.sessions else None
        if token is None:
            load.stop.wait(0.05)
            continue
        load.request("me", "GET", "/api/me", None, {"Cookie": f"sg_session={token}"})


def reports(load: Load, phones: list[str], public: str) -> None:
    n = 0
    while not load.stop.is_set():
        n += 1
        params = {
            "MessageSid": f"SM{n:032x}",
            "From": phones[n % len(phones)],
            "To": SENDER,
            "Body": f"Your password expires today, sign in at https://twilio-sso{n % 9}.example/login",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(AUTH_TOKEN, f"{public}/hooks/twilio/sms", params),
        }
        load.request("report", "POST", "/hooks/twilio/sms", urlencode(params).encode(), headers)


def scans(load: Load, token: str) -> None:
    n = 0
    while not load.stop.is_set():
        n += 1
        body = {"text": f"IT: your schedule changed, see https://okta-help{n % 7}.example now"}
        load.json("scan", "/api/scan", body, Authorization=f"Bearer {token}")


# --------------------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------------------


def prepare_staff(env: dict[str, str]) -> tuple[dict[str, str], list[str], str]:
    """Migrate, import the staff and issue each an enrolment link, before the server starts: ({email: link
    token}, phones, an API token for scans)."""
    smishguard(env, "migrate")
    csv = Path(env["SMISHGUARD_DATA_DIR"]) / "staff.csv"
    csv.write_text(
        "email,name,phone\n" + "".join(f"load{i}@example.com,Load {i},+1555010{i:04d}\n" for i in range(EMPLOYEES))
    )
    smishguard(env, "employees", "import", str(csv))
    issued = json.loads(smishguard(env, "tokens", "issue", "load", "--scope", "scan", "--json").stdout)
    tokens = json.loads(
        django_eval(
            env,
            "import json\nfrom smishguard.accounts import services\nfrom smishguard.accounts.models import Employee\n"
            "print(json.dumps({e.email: services.invite(e).token for e in Employee.objects.all()}))",
        )
    )
    return tokens, [f"+1555010{i:04d}" for i in range(EMPLOYEES)], issued["token"]


def enrol(port: int, tokens: dict[str, str]) -> list[tuple[str, SoftKey]]:
    load = Load(port)
    keys = []
    for email, token in tokens.items():
        key = SoftKey(origin=ORIGIN, rp_id="localhost")
        status, _, body = load.json("enrol", "/api/webauthn/register/options", {"token": token})
        assert status == 200, body
        status, _, body = load.json(
            "enrol", "/api/webauthn/register/verify", {**key.register(json.loads(body)), "token": token}
        )
        assert status == 201, body
        keys.append((email, key))
    return keys


def gunicorn_workers(master: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, check=False)
    return [int(pid) for pid in children.stdout.split()]


def test_two_minutes_of_mixed_load_through_a_killed_worker_a_postgres_restart_and_a_redis_outage(tmp_path, services):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = tmp_path / "smishguard.toml"
    groups = ("signin", "enrol", "api", "twilio", "report")
    config.write_text(  # counted, never refused: one client address makes every request
        "[rate_limits]\n" + "".join(f'{g}_{s} = "100000000/m"\n' for g in groups for s in ("address", "account"))
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_")}
    env.update(services.env)
    env.update(
        SMISHGUARD_DATA_DIR=str(tmp_path / "var"),
        SMISHGUARD_CONFIG=str(config),
        SMISHGUARD_PUBLIC_URL=public,
        SMISHGUARD_TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        SMISHGUARD_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        SMISHGUARD_TWILIO_FROM=SENDER,
        SMISHGUARD_TWILIO_API_BASE="http://127.0.0.1:9",  # nothing is sent: no worker runs here
        SMISHGUARD_TWILIO_INBOUND_LIMIT="1000000",  # every text a report, none a flood
    )
    links, phones, scan_token = prepare_staff(env)
    log = tmp_path / "serve.log"
    server = serve(env, port, workers=2, log=log)
    try:
        wait_for(public + "/healthz")
        keys = enrol(port, links)
        load = Load(port)
        threads = [
            # (each key used by one thread only: two sign-ins racing with one key look like a cloned key, and are)
            threading.Thread(target=sign_ins, args=(load, keys[0::2], 1)),
            threading.Thread(target=sign_ins, args=(load, keys[1::2], 2)),
            threading.Thread(target=me, args=(load, 3)),
            threading.Thread(target=reports, args=(load, phones, public)),
            threading.Thread(target=scans, args=(load, scan_token)),
        ]
        for thread in threads:
            thread.start()
        faults: dict[str, tuple[float, float]] = {}

        def now() -> float:
            return time.monotonic() - load.started

        def served_since(moment: float) -> bool:
            with load.lock:
                return any(o.kind == "verify" and o.status == 200 and o.at > moment for o in load.outcomes)

        def signing_in_again(what: str) -> None:
            mark = now()
            wait_until(lambda: served_since(mark), f"sign-ins {what}")

        def until(moment: float) -> None:
            load.stop.wait(max(0.0, moment - now()))

        try:
            until(20)
            victim = gunicorn_workers(server.pid)[0]
            began = now()
            os.kill(victim, signal.SIGKILL)
            wait_until(
                lambda: victim not in gunicorn_workers(server.pid) and len(gunicorn_workers(server.pid)) == 2,
                "gunicorn replacing the killed worker",
            )
            signing_in_again("after the worker was killed")
            faults["worker"] = (began, now())

            until(45)
            began = now()
            services.restart_postgres()
            signing_in_again("after PostgreSQL restarted")
            faults["postgres"] = (began, now())

            until(75)
            began = now()
            services.stop_redis()
            signing_in_again("with Redis stopped")
            until(95)
            services.start_redis()
            signing_in_again("with Redis back")
            faults["redis"] = (began, now())

            until(LOAD_SECONDS)
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=120)
        assert now() >= 120  # at least two minutes of load

        by_kind = Counter((o.kind, o.status) for o in load.outcomes)
        assert all(by_kind[(kind, 200)] > 20 for kind in ("verify", "me", "report", "scan")), by_kind

        # No 500 ever; a 503 only while PostgreSQL was down; a broken connection only when the worker was killed.
        assert not [o for o in load.outcomes if o.status is not None and o.status >= 500 and o.status != 503]
        pg_began, pg_back = faults["postgres"]
        outside = [o for o in load.outcomes if o.status == 503 and not pg_began - 1 <= o.at <= pg_back + 5]
        assert not outside, outside[:5]
        worker_began, worker_back = faults["worker"]
        broken = [o for o in load.outcomes if o.status is None and not worker_began - 1 <= o.at <= worker_back + 5]
        assert not broken, broken[:5]
        others = [o for o in load.outcomes if o.status not in (None, 200, 201, 503)]
        assert not others, Counter((o.kind, o.status) for o in others)

        # Nothing lost, nothing half-written.
        # (a request with no answer, or answered 503 by a failure after its commit, may or may not have its rows:
        # Twilio sends a text again after a 5xx, under the same MessageSid, which is recorded once)
        in_doubt = {
            kind: sum(1 for o in load.outcomes if o.kind == kind and o.status in (None, 503))
            for kind in ("verify", "report")
        }
        # A text stored while PostgreSQL went away mid-way is handled again by the worker's recovery pass.
        worker = smishguard(env, "worker", "--until-idle", "--timeout", "60", check=False)
        assert "Traceback" not in worker.stderr, worker.stderr
        with psycopg.connect(services.env["SMISHGUARD_DATABASE_URL"]) as db:
            sessions = db.execute("SELECT count(*) FROM accounts_session").fetchone()[0]
            signed_in = db.execute(
                "SELECT count(*) FROM audit_event WHERE action = 'passkeys:signin:succeeded'"
            ).fetchone()[0]
            orphans = db.execute(
                "SELECT count(*) FROM accounts_session s WHERE NOT EXISTS (SELECT 1 FROM audit_event e WHERE "
                "e.action = 'passkeys:signin:succeeded' AND e.subject_id = s.employee_id)"
            ).fetchone()[0]
            report_rows = db.execute("SELECT count(*) FROM messaging_inboundmessage").fetchone()[0]
            reported = db.execute("SELECT count(*) FROM reports_report").fetchone()[0]
        assert sessions == signed_in  # a sign-in has all its rows or none
        assert orphans == 0
        assert by_kind[("verify", 200)] <= sessions <= by_kind[("verify", 200)] + in_doubt["verify"]
        assert by_kind[("report", 200)] <= report_rows <= by_kind[("report", 200)] + in_doubt["report"]
        assert reported == report_rows  # each text from staff is a report
        assert len(set(load.sessions)) == by_kind[("verify", 200)]
    finally:
        stop(server)
    text = log.read_text()
    assert "database unavailable" in text
    assert "database answering again after" in text
    assert "Traceback" not in text, text[-3000:]
