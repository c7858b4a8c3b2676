"""Where a complete sign-in's server time goes: in-process (Django's test client, no HTTP), on SQLite.

Prints sign-ins per second in one process (the client's signing included), the queries and write transactions
each of options and verify makes, and a cProfile of the server side (the test client's own work included).

    .venv/bin/python bench/profile_signin.py [--employees 50] [--signins 300] [--top 30] [--sort tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=50)
    parser.add_argument("--signins", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    args = parser.parse_args()

    os.environ["SMISHGUARD_DATA_DIR"] = tempfile.mkdtemp(prefix="sg-prof-")
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_signin import counted_not_refused

    os.environ.update(counted_not_refused(Path(os.environ["SMISHGUARD_DATA_DIR"])))  # counted, never refused
    os.environ["SMISHGUARD_ORIGIN"] = "http://localhost:8000"
    os.environ["SMISHGUARD_RP_ID"] = "localhost"
    os.environ["DJANGO_SETTINGS_MODULE"] = "smishguard.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from softkey import SoftKey

    from smishguard.accounts import services

    call_command("migrate", verbosity=0)
    client = Client(HTTP_ORIGIN="http://localhost:8000")  # as smishguard's own pages send it
    keys = []
    for i in range(args.employees):
        employee = services.add_employee(email=f"u{i}@example.com", name=f"U {i}")
        token = services.invite(employee).token
        key = SoftKey(origin="http://localhost:8000", rp_id="localhost")
        options = client.post("/api/webauthn/register/options", {"token": token}, content_type="application/json")
        reply = client.post(
            "/api/webauthn/register/verify",
            {**key.register(options.json()), "token": token},
            content_type="application/json",
        )
        assert reply.status_code == 201, reply.content
        keys.append((employee.email, key))
    client.cookies.clear()

    def run(n: int) -> None:
        for i in range(n):
            email, key = keys[i % len(keys)]
            options = client.post("/api/webauthn/login/options", {"email": email}, content_type="application/json")
            reply = client.post(
                "/api/webauthn/login/verify", key.assertion(options.json()), content_type="application/json"
            )
            assert reply.status_code == 200, reply.content
            client.cookies.clear()  # each sign-in starts without a session, as a new browser would

    run(30)
    started = time.perf_counter()
    run(args.signins)
    elapsed = time.perf_counter() - started
    print(
        f"in-process sign-ins/s (client signing included): {args.signins / elapsed:.0f}"
        f"  ({elapsed / args.signins * 1000:.2f} ms each)"
    )

    email, key = keys[0]
    with CaptureQueriesContext(connection) as q_options:
        options = client.post("/api/webauthn/login/options", {"email": email}, content_type="application/json").json()
    with CaptureQueriesContext(connection) as q_verify:
        reply = client.post("/api/webauthn/login/verify", key.assertion(options), content_type="application/json")
    assert reply.status_code == 200
    for name, captured in (("options", q_options), ("verify", q_verify)):
        sqls = [q["sql"] for q in captured.captured_queries]
        writes = sum(1 for s in sqls if s.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"})
        print(f"== {name}: {len(sqls)} statements, {writes} writes")
        for s in sqls:
            print("   ", s[:200])
    client.cookies.clear()

    profile = cProfile.Profile()
    profile.enable()
    run(args.signins)
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    if os.environ.get("PROFILE_DUMP"):
        profile.dump_stats(os.environ["PROFILE_DUMP"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
