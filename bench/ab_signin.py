"""Server CPU per sign-in of two smishguard servers (source trees or interpreters), measured side by side.

On a shared machine the CPU's speed drifts by tens of percent over minutes, so two benchmark runs one after the
other cannot show a change of a few percent.  This runs both servers at once (``smishguard serve --workers 2``
each, SQLite each) and has every client alternate sign-ins between them, so any drift hits both alike; it
reports each server's CPU time per sign-in.  A tree against itself differs by about 1%.

    .venv/bin/python bench/ab_signin.py NAME=SRC[@VENV] NAME=SRC[@VENV] [--seconds 20] [--employees 200] \\
        [--clients 4] [--limits-off NAME] [--redis-url URL]

SRC is a ``src`` folder put first on PYTHONPATH (an export of another commit, say
``git worktree add /tmp/base HEAD~1`` then ``base=/tmp/base/src``), or empty for the installed tree
(``cur=``).  VENV, if given, is another virtual environment with smishguard installed, whose
``bin/smishguard`` runs that server (to compare interpreters: ``pyenv=@/tmp/venv-pyenv deb=@.venv``);
by default, the one running this script.  The absolute figures are higher than bench_signin.py's: four workers
share the two cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "bench"))

from servers import clean_env, free_port, wait_for  # noqa: E402
from softkey import SoftKey  # noqa: E402

from bench_signin import Http, counted_not_refused, enrol_all, process_tree_cpu, staff_with_links  # noqa: E402

_SERVERS: dict[str, tuple[subprocess.Popen, int, list]] = {}  # inherited by the forked clients


def start(name: str, src: str, employees: int, *, limits_off: bool = False, redis_url: str = "") -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"sg-ab-{name}-"))
    port = free_port()
    origin = f"http://localhost:{port}"
    extra = {"SMISHGUARD_ORIGIN": origin, "SMISHGUARD_RP_ID": "localhost", **counted_not_refused(tmp)}
    if redis_url:  # production mode's counters: in Redis, each server's under a prefix of its own
        extra.update({"SMISHGUARD_REDIS_URL": redis_url, "SMISHGUARD_REDIS_KEY_PREFIX": f"sg-ab-{name}"})
    if limits_off:  # the same tree with its rate limits switched off: what counting them costs
        with (tmp / "smishguard.toml").open("a") as config:
            config.write("enabled = false\n")
    src, _, venv = src.partition("@")
    if src:
        extra["PYTHONPATH"] = src
    command = Path(venv) / "bin" / "smishguard" if venv else Path(sys.executable).parent / "smishguard"
    env = clean_env(tmp / "var", **extra)
    tokens = staff_with_links(tmp, env, employees)
    server = subprocess.Popen(  # noqa: S603 - our own server
        [str(command), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(f"http://127.0.0.1:{port}/api/me")
    _SERVERS[name] = (server, port, list(enrol_all(port, origin, tokens).items()))


def sign_in(http: Http, email: str, key: SoftKey) -> None:
    status, _, options = http.post(b"/api/webauthn/login/options", json.dumps({"email": email}).encode())
    assert status == 200, options
    body = json.dumps(key.assertion(json.loads(options))).encode()
    status, _, reply = http.post(b"/api/webauthn/login/verify", body)
    assert status == 200, reply


def client(args: tuple[int, int, float]) -> dict[str, int]:
    index, clients, seconds = args
    names = list(_SERVERS)
    mine = {n: _SERVERS[n][2][index::clients] for n in names}
    https = {n: Http(_SERVERS[n][1]) for n in names}
    count = dict.fromkeys(names, 0)
    deadline = time.monotonic() + seconds
    k = 0
    while time.monotonic() < deadline:
        for n in names:
            email, key = mine[n][k % len(mine[n])]
            sign_in(https[n], email, key)
            count[n] += 1
        k += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, metavar="NAME=SRC[@VENV]")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--limits-off", metavar="NAME", default="", help="run this side with [rate_limits] off")
    parser.add_argument("--redis-url", default="", help="count the rate limits in this Redis (production mode)")
    args = parser.parse_args()
    try:
        for spec in args.trees:
            name, _, src = spec.partition("=")
            start(name, src, args.employees, limits_off=name == args.limits_off, redis_url=args.redis_url)
        for _, port, keys in _SERVERS.values():  # warm up each worker
            http = Http(port)
            for email, key in keys[:20]:
                sign_in(http, email, key)
        with mp.get_context("fork").Pool(args.clients) as pool:
            before = {n: process_tree_cpu(s[0].pid) for n, s in _SERVERS.items()}
            started = time.perf_counter()
            counts = pool.map(client, [(i, args.clients, args.seconds) for i in range(args.clients)])
            elapsed = time.perf_counter() - started
            after = {n: process_tree_cpu(s[0].pid) for n, s in _SERVERS.items()}
    finally:
        for server, _, _ in _SERVERS.values():
            server.terminate()
            server.wait(timeout=20)
    for name in _SERVERS:
        n = sum(c[name] for c in counts)
        print(f"{name}: {n} sign-ins, server CPU {1000 * (after[name] - before[name]) / n:.3f} ms per sign-in")
    print(f"both together: {sum(sum(c.values()) for c in counts) / elapsed:.1f} sign-ins/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
