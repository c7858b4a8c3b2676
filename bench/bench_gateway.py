"""The gateway's check under load, with wrk: checks per second and latency, beside a trivial WSGI app.

    .venv/bin/python bench/bench_gateway.py [--seconds 10] [--connections 8] [--rounds 2] [--customers 10]
        [--sessions 1] [--route customer|plain] [--one-client]

What it measures, all on this machine, in one run, interleaved (``--rounds`` times each):

1. **Checks per second** of ``GET /api/authz/auth-request`` with a live session, on a customer-data route (a rule
   with the ``customer`` group, so every check is recorded in the access record and counted for containment),
   straight to ``smishguard serve --workers 2`` (gunicorn, pinned sync workers) — beside what the same gunicorn
   set-up (the same worker class, two workers) answers from a trivial WSGI app that returns 200 at once.  The
   customers read cycle through ``--customers`` ids (fewer than the containment threshold, so no check is
   refused).  wrk with ``--connections`` connections on 2 threads; p50/p99 from wrk's latency distribution.
2. **Latency one client sees** through nginx → gateway → app against nginx → app without the gateway: one
   connection (wrk -c1 -t1), p50 and p99, each request a customer record of the trivial app.

Production mode: run it with the environment of a PostgreSQL and a Redis (``scripts/services start DIR`` then
``. DIR/env``): the server gets a database of its own on that PostgreSQL, migrated as the owner and served as
the restricted role.  Needs Debian's ``wrk`` and ``nginx`` (``apt-get install wrk nginx``).  Bounded: each wrk
run stops after ``--seconds``; everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from servers import clean_env, django_eval, free_port, smishguard, stop, wait_for  # noqa: E402

VENV_BIN = Path(sys.executable).parent
HOST = "customers.example.com"

POLICY = """
[rate_limits]
{limits}

[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "{host}"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["GET", "HEAD"]
subject = ["group:support"]
policy = "signed_in"

[[gateway.rules]]
domain = "{host}"
resources = ["^/reports/"]
methods = ["GET", "HEAD"]
subject = ["group:support"]
policy = "signed_in"
"""

TRIVIAL_APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""

CHECK_LUA = """
local n = 0
local tokens = {{{tokens}}}
wrk.headers["X-Original-Method"] = "GET"
request = function()
  n = n % {customers} + 1
  wrk.headers["Cookie"] = "sg_session=" .. tokens[n % #tokens + 1]
  wrk.headers["X-Original-URL"] = "https://{host}/{route}/" .. n
  return wrk.format("GET", "/api/authz/auth-request")
end
"""

THROUGH_LUA = """
local n = 0
wrk.headers["Cookie"] = "sg_session={token}"
wrk.headers["Host"] = "{host}"
request = function()
  n = n % {customers} + 1
  return wrk.format("GET", "/{route}/" .. n)
end
"""

NGINX_CONF = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}events {{ worker_connections 1024; }}
http {{
    access_log off;
    upstream smishguard {{ server 127.0.0.1:{gateway}; keepalive 16; }}
    upstream app {{ server 127.0.0.1:{app}; keepalive 16; }}
    server {{  # nginx -> gateway -> app
        listen 127.0.0.1:{guarded};
        location = /internal/authz {{
            internal;
            proxy_pass http://smishguard/api/authz/auth-request;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URL $scheme://$host$request_uri;
        }}
        location / {{
            auth_request /internal/authz;
            auth_request_set $remote_user_h $upstream_http_remote_user;
            proxy_set_header Remote-User $remote_user_h;
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    server {{  # nginx -> app
        listen 127.0.0.1:{bare};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def rate_limits_out_of_reach() -> str:
    groups = ("signin", "enrol", "api", "twilio", "report")
    return "".join(f'{g}_{s} = "100000000/m"\n' for g in groups for s in ("address", "account"))


def time_wait_sockets() -> int:
    result = subprocess.run(["ss", "-tan", "state", "time-wait"], capture_output=True, text=True, check=False)  # noqa: S607
    return max(0, len(result.stdout.splitlines()) - 1)


def settle(limit: int = 8000, bound: float = 90.0) -> None:
    """Wait (at most ``bound`` s) until fewer than ``limit`` TCP connections are in TIME_WAIT.  gunicorn's sync
    workers close every connection, so a run at thousands of requests a second leaves tens of thousands of them
    on loopback for 60 s, and the next run's new connections would wait on port reuse: each run starts clean."""
    deadline = time.monotonic() + bound
    while time_wait_sockets() >= limit and time.monotonic() < deadline:
        time.sleep(1)


def wrk(port: int, script: Path, *, seconds: int, connections: int, threads: int) -> dict[str, float]:
    """One wrk run (after :func:`settle`): requests/s, p50, p99 (ms), non-2xx count."""
    settle()
    result = subprocess.run(  # noqa: S603 - Debian's wrk
        [
            shutil.which("wrk") or "/usr/bin/wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    out = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rate": rate,
        "p50": _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": len(re.findall(r"Socket errors", out)),
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def live_sessions(env: dict[str, str], count: int = 1) -> list[str]:
    """``count`` support employees with a live session each: their cookie tokens."""
    code = (
        "from smishguard.accounts.services import add_employee\n"
        "from smishguard.accounts import sessions\n"
        f"for n in range({count}):\n"
        "    e = add_employee(email=f'bench{n}@example.com', name=f'Bench Support {n}', groups=['support'])\n"
        "    token, _ = sessions.create(e, request=None)\n"
        "    print(token)\n"
    )
    return django_eval(env, code).strip().splitlines()[-count:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--customers", type=int, default=10, help="distinct customers cycled through (default 10)")
    parser.add_argument(
        "--sessions",
        type=int,
        default=1,
        help="employees, each with a live session, whose checks take turns (default 1: one employee's checks, "
        "which containment's count takes one after the other)",
    )
    parser.add_argument(
        "--route",
        choices=("customer", "plain"),
        default="customer",
        help="customer: a customer-data route, each check recorded and counted for containment (the issue's "
        "figure); plain: a signed_in route without customer data, where a check writes nothing",
    )
    parser.add_argument(
        "--one-client",
        action="store_true",
        help="only the one-client runs (through nginx, nginx alone, straight to the check): their latency without "
        "the TIME_WAIT sockets the 8-connection runs leave behind",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-gw-"))
    config = tmp / "smishguard.toml"
    config.write_text(POLICY.format(limits=rate_limits_out_of_reach(), host=HOST))
    gateway_port, app_port, guarded_port, bare_port = (free_port() for _ in range(4))
    env = clean_env(
        tmp / "var", SMISHGUARD_CONFIG=str(config), SMISHGUARD_ORIGIN=f"http://auth.example.com:{gateway_port}"
    )
    smishguard(env, "migrate")
    tokens = live_sessions(env, args.sessions)
    token = tokens[0]
    (tmp / "trivial_app.py").write_text(TRIVIAL_APP)
    check_lua, through_lua = tmp / "check.lua", tmp / "through.lua"
    quoted = ", ".join(f'"{t}"' for t in tokens)
    route = "customers" if args.route == "customer" else "reports"
    check_lua.write_text(CHECK_LUA.format(tokens=quoted, customers=args.customers, host=HOST, route=route))
    through_lua.write_text(THROUGH_LUA.format(token=token, customers=args.customers, host=HOST, route=route))
    folder = tmp / "nginx"
    folder.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            dir=folder,
            user="user root root;\n" if os.geteuid() == 0 else "",
            gateway=gateway_port,
            app=app_port,
            guarded=guarded_port,
            bare=bare_port,
        )
    )
    processes = [
        subprocess.Popen(  # noqa: S603 - our own console script
            [str(VENV_BIN / "smishguard"), "serve", "--bind", f"127.0.0.1:{gateway_port}", "--workers", "2"],
            env=env,
            stdout=open(tmp / "serve.log", "w"),  # noqa: SIM115 - lives as long as the server
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(  # noqa: S603 - gunicorn with smishguard serve's worker class, on the trivial app
            [
                str(VENV_BIN / "gunicorn"),
                "trivial_app:application",
                "--chdir",
                str(tmp),
                "--workers",
                "2",
                "--worker-class",
                "smishguard.server.SyncWorker",
                "--bind",
                f"127.0.0.1:{app_port}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "trivial.log", "w"),  # noqa: SIM115
        ),
        subprocess.Popen(  # noqa: S603 - Debian's nginx on our own configuration
            [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
            stderr=open(folder / "stderr", "w"),  # noqa: SIM115
        ),
    ]
    try:
        for port in (gateway_port, app_port, guarded_port, bare_port):
            wait_for(f"http://127.0.0.1:{port}/healthz")
        wrk(gateway_port, check_lua, seconds=2, connections=args.connections, threads=2)  # warm up
        wrk(app_port, check_lua, seconds=2, connections=args.connections, threads=2)
        runs: dict[str, list[dict[str, float]]] = {"check": [], "trivial": [], "guarded": [], "bare": [], "one": []}
        for _ in range(args.rounds):
            if not args.one_client:
                runs["check"].append(
                    wrk(gateway_port, check_lua, seconds=args.seconds, connections=args.connections, threads=2)
                )
                runs["trivial"].append(
                    wrk(app_port, check_lua, seconds=args.seconds, connections=args.connections, threads=2)
                )
            runs["guarded"].append(wrk(guarded_port, through_lua, seconds=args.seconds, connections=1, threads=1))
            runs["bare"].append(wrk(bare_port, through_lua, seconds=args.seconds, connections=1, threads=1))
            runs["one"].append(wrk(gateway_port, check_lua, seconds=args.seconds, connections=1, threads=1))
        mode = "PostgreSQL + Redis" if "SMISHGUARD_DATABASE_URL" in env else "SQLite"
        print(
            f"mode: {mode}; {args.rounds} rounds of {args.seconds} s, interleaved; {args.sessions} session(s); "
            f"load before: {os.getloadavg()}"
        )
        for name, label in (
            ("check", f"auth-request, live session, {args.route} route ({args.connections} connections)"),
            ("trivial", f"trivial WSGI app, same gunicorn set-up ({args.connections} connections)"),
            ("guarded", "one client: nginx -> gateway -> app"),
            ("bare", "one client: nginx -> app"),
            ("one", "one client: auth-request straight to smishguard serve"),
        ):
            for run in runs[name]:
                print(
                    f"{label:72s} {run['rate']:9.0f}/s  p50 {run['p50']:6.2f} ms  p99 {run['p99']:6.2f} ms"
                    f"  non-2xx {run['non2xx']}"
                )
        check = sorted(r["rate"] for r in runs["check"])
        trivial = sorted(r["rate"] for r in runs["trivial"])
        if check:
            print(f"check / trivial: {min(check) / max(trivial):.0%} - {max(check) / min(trivial):.0%}")
        added = [g["p50"] - b["p50"] for g, b in zip(runs["guarded"], runs["bare"], strict=True)]
        print("latency added by the gateway at p50: " + ", ".join(f"{a:.2f} ms" for a in added))
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
