"""Complete WebAuthn sign-ins per second against smishguard under gunicorn on SQLite.

Each sign-in is what a browser does: POST /api/webauthn/login/options {"email"}, sign the challenge with the
employee's own key, POST /api/webauthn/login/verify -> 200 and a session cookie.  The server makes every write
a real sign-in makes (challenge stored and claimed, counter and last use updated, session created, audit
event).  Distinct employees and keys; the load generator runs on the same machine.

    .venv/bin/python bench/bench_signin.py [--employees 400] [--seconds 20] [--clients 8] [--workers 2]
        [--worker-class gthread|sync] [--threads 4]

Bounded: it stops after --seconds of load (and at most --max-signins), then stops the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from servers import clean_env, django_eval, free_port, smishguard, wait_for  # noqa: E402
from softkey import SoftKey  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def post(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, dict, str]:
    data = json.dumps(body).encode()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    return resp.status, json.loads(payload or b"{}"), resp.getheader("Set-Cookie") or ""


def enrol_all(port: int, origin: str, tokens: dict[str, str]) -> dict[str, SoftKey]:
    keys: dict[str, SoftKey] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for email, token in tokens.items():
        key = SoftKey(origin=origin, rp_id="localhost")
        status, options, _ = post(conn, "/api/webauthn/register/options", {"token": token})
        assert status == 200, options
        response = key.register(options)
        status, body, _ = post(conn, "/api/webauthn/register/verify", {**response, "token": token})
        assert status == 201, body
        keys[email] = key
    conn.close()
    return keys


_CHUNKS: list[list[tuple[str, SoftKey]]] = []  # inherited by the forked clients (keys do not pickle)


def client_chunk(args: tuple) -> list[float]:
    port, origin, index, deadline, max_count = args
    return client_loop((port, origin, _CHUNKS[index], deadline, max_count))


def client_loop(args: tuple) -> list[float]:
    port, _origin, keys, deadline, max_count = args
    latencies: list[float] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    while time.monotonic() < deadline and len(latencies) < max_count:
        email, key = keys[i % len(keys)]
        i += 1
        start = time.perf_counter()
        try:
            status, options, _ = post(conn, "/api/webauthn/login/options", {"email": email})
            if status != 200:
                raise RuntimeError(f"options {status} {options}")
            status, body, cookie = post(conn, "/api/webauthn/login/verify", key.assertion(options))
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if status != 200 or "sg_session=" not in cookie:
            raise RuntimeError(f"sign-in failed: {status} {body}")
        latencies.append(time.perf_counter() - start)
    conn.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-signins", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-"))
    port = free_port()
    origin = f"http://localhost:{port}"
    env = clean_env(tmp / "var", SMISHGUARD_ORIGIN=origin, SMISHGUARD_RP_ID="localhost")
    smishguard(env, "migrate")
    csv = tmp / "staff.csv"
    csv.write_text(
        "email,name,department\n"
        + "".join(f"bench{i:05d}@example.com,Bench {i},Dept {i % 7}\n" for i in range(args.employees))
    )
    smishguard(env, "employees", "import", str(csv))
    tokens = json.loads(
        django_eval(
            env,
            "import json\nfrom smishguard.accounts import services\nfrom smishguard.accounts.models import Employee\n"
            "print(json.dumps({e.email: services.invite(e).token for e in Employee.objects.all()}))",
        )
    )
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "smishguard.wsgi",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
    ]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads), "--keep-alive", "30"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "gunicorn.err", "w"))  # noqa: S603, SIM115
    try:
        wait_for(f"http://127.0.0.1:{port}/api/me")
        print(f"enrolling {len(tokens)} employees' keys ...", file=sys.stderr)
        keys = enrol_all(port, origin, tokens)
        items = list(keys.items())
        _CHUNKS[:] = [items[i :: args.clients] for i in range(args.clients)]
        # Warm up each worker's database connection and imports.
        client_loop((port, origin, items[:20], time.monotonic() + 5, 20))
        deadline = time.monotonic() + args.seconds
        cap = args.max_signins // args.clients
        started = time.perf_counter()
        with mp.get_context("fork").Pool(args.clients) as pool:
            results = pool.map(client_chunk, [(port, origin, i, deadline, cap) for i in range(args.clients)])
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
    latencies = sorted(x for r in results for x in r)
    n = len(latencies)
    q = statistics.quantiles(latencies, n=100)
    report = {
        "signins": n,
        "seconds": round(elapsed, 2),
        "signins_per_second": round(n / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "distinct_employees_and_keys": len(keys),
        "server": f"gunicorn {args.worker_class} workers={args.workers}"
        + (f" threads={args.threads}" if args.worker_class == "gthread" else ""),
        "clients": args.clients,
        "database": "SQLite (WAL)",
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
