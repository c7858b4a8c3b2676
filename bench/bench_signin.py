"""Complete WebAuthn sign-ins per second against smishguard under gunicorn, on SQLite or in production mode.

Each sign-in is what a browser does: POST /api/webauthn/login/options {"email"}, sign the challenge with the
employee's own key, POST /api/webauthn/login/verify -> 200 and a session cookie.  The server makes every write
a real sign-in makes (challenge stored and claimed, counter and last use updated, session created, audit
event).  Distinct employees and keys; the load generator runs on the same machine, so it shares the CPUs: the
report gives the CPU seconds the server and the clients used, and the load average before the run.

    .venv/bin/python bench/bench_signin.py [--employees 400] [--seconds 20] [--clients 4] [--workers 2]
        [--worker-class gthread|sync] [--threads 2] [--serve [--hosts N]] [--client c|python]

``--serve`` runs the server exactly as ``smishguard serve --workers N`` does (its defaults: pinned sync workers,
an access log), instead of a gunicorn command line with the worker class and threads given.  ``--hosts N`` (with
``--serve``) runs N ``smishguard serve`` on ports of their own, as N hosts would be, behind one nginx upstream
(plain HTTP on 127.0.0.1: TLS is not what is measured); the load goes through nginx.

Production mode: run it with the environment of a PostgreSQL and a Redis (``scripts/services start DIR`` then
``. DIR/env``, as the tests do): the server gets a database of its own on that PostgreSQL, migrated as the owner
and served as the restricted role, and the rate-limit counters in that Redis.  The server CPU reported is
smishguard's (and nginx's) alone: PostgreSQL's and Redis's processes are not counted in it.

The load generator is bench/signin_load.c by default (built here with gcc and libcrypto: it uses about half
the CPU per sign-in the Python client does, and that CPU is taken from the server under test); ``--client
python`` runs the Python client below instead (HTTP/1.1 over a plain socket, keep-alive where the server
offers it, a reconnect after each response from sync workers).  Each client process signs in with its own
share of the employees, each with that employee's own key.  Bounded: it stops after --seconds of load (the
Python client also after --max-signins), then stops the server.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from servers import clean_env, django_eval, free_port, smishguard, wait_for  # noqa: E402
from softkey import SoftKey, b64url  # noqa: E402

VENV_BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


class ServerClosed(Exception):
    """The server closed the connection before answering."""


def _header(lower_head: bytes, name: bytes) -> bytes | None:
    """A header's value from a lower-cased header block."""
    i = lower_head.find(b"\r\n" + name + b":")
    if i < 0:
        return None
    j = lower_head.find(b"\r\n", i + 2)
    return lower_head[i + len(name) + 3 : j if j > 0 else None].strip()


class Http:
    """A minimal HTTP/1.1 client: JSON POSTs on one kept-alive connection, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = b"127.0.0.1:%d" % port
        self.sock: socket.socket | None = None
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def post(self, path: bytes, body: bytes) -> tuple[int, bytes, bytes]:
        """(status, header block, body)."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nSec-Fetch-Site: same-origin\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (path, self.host, len(body), body)
        )
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._fill()
        head, self.buf = self.buf[:end], self.buf[end + 4 :]
        status = int(head[9:12])
        lower = head.lower()
        length = _header(lower, b"content-length")
        if length is not None:
            payload = self._read(int(length))
        elif _header(lower, b"transfer-encoding") == b"chunked":
            payload = b""
            while True:
                while (eol := self.buf.find(b"\r\n")) < 0:
                    self._fill()
                size = int(self.buf[:eol].split(b";")[0], 16)
                self.buf = self.buf[eol + 2 :]
                payload += self._read(size)
                self._read(2)  # the CRLF after the chunk
                if size == 0:
                    break
        else:
            raise ServerClosed("a response without a length")
        if _header(lower, b"connection") == b"close":
            self.close()
        return status, head, payload

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _fill(self) -> None:
        chunk = self.sock.recv(65536) if self.sock is not None else b""
        if not chunk:
            self.close()
            raise ServerClosed()
        self.buf += chunk


def enrol_all(port: int, origin: str, tokens: dict[str, str]) -> dict[str, SoftKey]:
    keys: dict[str, SoftKey] = {}
    http = Http(port)
    for email, token in tokens.items():
        key = SoftKey(origin=origin, rp_id="localhost")
        status, _, body = http.post(b"/api/webauthn/register/options", json.dumps({"token": token}).encode())
        assert status == 200, body
        response = key.register(json.loads(body))
        status, _, body = http.post(b"/api/webauthn/register/verify", json.dumps({**response, "token": token}).encode())
        assert status == 201, body
        keys[email] = key
    http.close()
    return keys


_CHUNKS: list[list[tuple[str, SoftKey]]] = []  # inherited by the forked clients (keys do not pickle)


def client_chunk(args: tuple) -> tuple[list[float], float, int]:
    port, index, start_at, deadline, max_count = args
    return client_loop(port, _CHUNKS[index], start_at, deadline, max_count)


def client_loop(
    port: int, keys: list[tuple[str, SoftKey]], start_at: float, deadline: float, max_count: int
) -> tuple[list[float], float, int]:
    """Sign in round-robin over ``keys`` until the deadline: (latencies, CPU seconds used, dropped connections)."""
    bodies = [(json.dumps({"email": email}).encode(), key) for email, key in keys]
    latencies: list[float] = []
    http = Http(port)
    dropped = 0
    while time.monotonic() < start_at:
        time.sleep(0.001)
    cpu = time.process_time()
    i = 0
    while time.monotonic() < deadline and len(latencies) < max_count:
        body, key = bodies[i % len(bodies)]
        i += 1
        start = time.perf_counter()
        try:
            status, _, options = http.post(b"/api/webauthn/login/options", body)
            if status != 200:
                raise RuntimeError(f"options {status} {options[:300]!r}")
            assertion = json.dumps(key.assertion(json.loads(options))).encode()
            status, head, reply = http.post(b"/api/webauthn/login/verify", assertion)
        except (ServerClosed, OSError):
            http.close()
            dropped += 1
            continue
        if status != 200 or b"sg_session=" not in head:
            raise RuntimeError(f"sign-in failed: {status} {reply[:300]!r}")
        latencies.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu
    http.close()
    return latencies, cpu, dropped


def process_tree_cpu(root_pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (gunicorn's master and workers)."""
    parents: dict[int, int] = {}
    stats: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        stats[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(stats.get(pid, 0.0) for pid in tree)


def counted_not_refused(tmp: Path) -> dict[str, str]:
    """SMISHGUARD_CONFIG for a benchmark server: rate limits far out of reach, so every sign-in is still counted
    (the cost being measured) but none is refused (one client address signs in thousands of times)."""
    path = tmp / "smishguard.toml"
    groups = ("signin", "enrol", "api", "twilio", "report")
    path.write_text(
        "[rate_limits]\n" + "".join(f'{g}_{s} = "100000000/m"\n' for g in groups for s in ("address", "account"))
    )
    return {"SMISHGUARD_CONFIG": str(path)}


def staff_with_links(tmp: Path, env: dict[str, str], employees: int) -> dict[str, str]:
    """Migrate ``env``'s database, import ``employees`` people and issue each an enrolment link: {email: token}."""
    smishguard(env, "migrate")
    csv = tmp / "staff.csv"
    csv.write_text(
        "email,name,department\n"
        + "".join(f"bench{i:05d}@example.com,Bench {i},Dept {i % 7}\n" for i in range(employees))
    )
    smishguard(env, "employees", "import", str(csv))
    return json.loads(
        django_eval(
            env,
            "import json\nfrom smishguard.accounts import services\nfrom smishguard.accounts.models import Employee\n"
            "print(json.dumps({e.email: services.invite(e).token for e in Employee.objects.all()}))",
        )
    )


def servers_cpu(pids: list[int]) -> float:
    return sum(process_tree_cpu(pid) for pid in pids)


def services_pids(env: dict[str, str]) -> dict[str, int]:
    """Production mode: the PostgreSQL server (its postmaster, whose children are the backends, the WAL writer
    and the checkpointer) and the Redis server that ``env``'s URLs name, found by their listening ports in their
    command lines as scripts/services starts them; {} on SQLite."""
    from urllib.parse import urlsplit

    database, redis = env.get("SMISHGUARD_DATABASE_URL", ""), env.get("SMISHGUARD_REDIS_URL", "")
    if not database.startswith("postgres"):
        return {}
    pg_port, redis_port = str(urlsplit(database).port or 5432), str(urlsplit(redis).port or 6379)
    found: dict[str, int] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        title = " ".join(words)  # Redis rewrites its command line as one string: "redis-server 127.0.0.1:PORT"
        if words and words[0].endswith("/postgres") and "-p" in words and words[words.index("-p") + 1] == pg_port:
            found["postgresql"] = int(entry)
        elif "redis-server" in title and title.endswith(f":{redis_port}"):
            found["redis"] = int(entry)
    return found


def run_python_clients(port: int, args: argparse.Namespace, server_pids: list[int]) -> tuple[list, float, float]:
    """The Python load generator: ``--clients`` processes running ``client_loop``; (results, seconds, server CPU)."""
    cap = args.max_signins // args.clients
    with mp.get_context("fork").Pool(args.clients) as pool:
        start_at = time.monotonic() + 0.5
        deadline = start_at + args.seconds
        pending = pool.map_async(client_chunk, [(port, i, start_at, deadline, cap) for i in range(args.clients)])
        while time.monotonic() < start_at:
            time.sleep(0.001)
        server_cpu = servers_cpu(server_pids)
        started = time.perf_counter()
        results = pending.get()
        elapsed = time.perf_counter() - started
        server_cpu = servers_cpu(server_pids) - server_cpu
    return results, elapsed, server_cpu


def build_c_client(tmp: Path) -> Path:
    """Compile bench/signin_load.c (gcc, OpenSSL's libcrypto) into ``tmp``."""
    binary = tmp / "signin_load"
    gcc = shutil.which("gcc")
    if gcc is None:
        raise SystemExit("bench_signin.py: the C load generator needs gcc and libssl-dev (or use --client python)")
    built = subprocess.run(  # noqa: S603 - the compiler on our own source
        [gcc, "-O2", "-Wall", "-o", str(binary), str(ROOT / "bench" / "signin_load.c"), "-lcrypto"], check=False
    )
    if built.returncode != 0:
        raise SystemExit(
            "bench_signin.py: could not build bench/signin_load.c; install libssl-dev (Debian) or use --client python"
        )
    return binary


def run_c_clients(
    tmp: Path,
    port: int,
    origin: str,
    *,
    keys: list[tuple[str, SoftKey]],
    args: argparse.Namespace,
    server_pids: list[int],
) -> tuple[list, float, float]:
    """The C load generator (bench/signin_load.c) with the same keys: (results, seconds, server CPU)."""
    binary = build_c_client(tmp)
    lines = []
    for email, key in keys:
        der = key.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        handle = b64url(key.user_handle) if key.user_handle else "-"
        lines.append(f"{email}\t{b64url(key.credential_id)}\t{handle}\t{key.sign_count}\t{der.hex()}\n")
    (tmp / "keys.tsv").write_text("".join(lines))
    out = tmp / "load"
    server_cpu = servers_cpu(server_pids)
    subprocess.run(  # noqa: S603 - our own load generator
        [binary, str(port), origin, "localhost", tmp / "keys.tsv", str(args.clients), str(args.seconds), out],
        check=True,
        timeout=args.seconds + 60,
    )
    server_cpu = servers_cpu(server_pids) - server_cpu
    results, spans = [], []
    for i in range(args.clients):
        head, *rest = Path(f"{out}.{i}").read_text().splitlines()
        _, cpu, started, ended = head.split()
        results.append(([int(x) / 1e6 for x in rest], float(cpu), 0))
        spans.append((float(started), float(ended)))
    elapsed = max(e for _, e in spans) - min(s for s, _ in spans)
    return results, elapsed, server_cpu


NGINX_CONF = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}events {{ worker_connections 1024; }}
http {{
    access_log off;
    upstream smishguard {{
{servers}        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://smishguard;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def start_nginx(tmp: Path, port: int, upstreams: list[int]) -> subprocess.Popen:
    """nginx in the foreground: one upstream of the serve instances (round robin, as deploy/nginx.conf has it)."""
    folder = tmp / "nginx"
    folder.mkdir()
    servers = "".join(f"        server 127.0.0.1:{p};\n" for p in upstreams)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, user=user, servers=servers, port=port))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen(  # noqa: S603 - Debian's nginx on our own configuration
        [binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"], stderr=open(folder / "stderr", "w")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-signins", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument(
        "--client",
        choices=["c", "python"],
        default="c",
        help="the load generator: bench/signin_load.c (default, built with gcc) or the Python client here",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--gunicorn-config", help="a gunicorn config file to add (e.g. profiling hooks)")
    parser.add_argument(
        "--serve", action="store_true", help="run the server as `smishguard serve --workers N` (its defaults)"
    )
    parser.add_argument(
        "--hosts", type=int, default=1, help="with --serve: N serve instances behind one nginx upstream (default 1)"
    )
    parser.add_argument("--no-pin", action="store_true", help="with --serve: `smishguard serve --no-pin`")
    args = parser.parse_args()
    if args.hosts < 1 or (args.hosts > 1 and not args.serve):
        parser.error("--hosts N needs --serve and N >= 1")

    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-"))
    port = free_port()
    origin = f"http://localhost:{port}"
    env = clean_env(tmp / "var", SMISHGUARD_ORIGIN=origin, SMISHGUARD_RP_ID="localhost", **counted_not_refused(tmp))
    tokens = staff_with_links(tmp, env, args.employees)
    if args.serve:
        ports = [port] if args.hosts == 1 else [free_port() for _ in range(args.hosts)]
        commands = [
            [str(VENV_BIN / "smishguard"), "serve", "--bind", f"127.0.0.1:{p}", "--workers", str(args.workers)]
            + (["--no-pin"] if args.no_pin else [])
            for p in ports
        ]
        server_desc = f"smishguard serve --workers {args.workers}{' --no-pin' * args.no_pin} (gunicorn sync workers)"
        if args.hosts > 1:
            server_desc = f"{args.hosts} x {server_desc}, behind one nginx upstream"
    else:
        ports = [port]
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
        if args.gunicorn_config:
            cmd += ["--config", args.gunicorn_config]
        commands = [cmd]
        server_desc = f"gunicorn {args.worker_class} workers={args.workers}" + (
            f" threads={args.threads}" if args.worker_class == "gthread" else ""
        )
    processes = []
    for i, command in enumerate(commands):
        with open(tmp / f"server{i}.out", "w") as out, open(tmp / f"server{i}.err", "w") as err:
            processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=err))  # noqa: S603 - ours
    if args.hosts > 1:
        processes.append(start_nginx(tmp, port, ports))
    try:
        for p in ports:
            wait_for(f"http://127.0.0.1:{p}/api/me")
        wait_for(f"http://127.0.0.1:{port}/api/me")
        print(f"enrolling {len(tokens)} employees' keys ...", file=sys.stderr)
        keys = enrol_all(port, origin, tokens)
        items = list(keys.items())
        _CHUNKS[:] = [items[i :: args.clients] for i in range(args.clients)]
        # Warm up every worker (imports, database connections): more sign-ins than workers x threads.
        for chunk in _CHUNKS:
            client_loop(port, chunk[:10], 0, time.monotonic() + 5, 10)
        load = os.getloadavg()
        pids = [p.pid for p in processes]
        services = services_pids(env)
        services_cpu = {name: process_tree_cpu(pid) for name, pid in services.items()}
        if args.client == "c":
            keys_in_use = [item for chunk in _CHUNKS for item in chunk]
            results, elapsed, server_cpu = run_c_clients(
                tmp, port, origin, keys=keys_in_use, args=args, server_pids=pids
            )
        else:
            results, elapsed, server_cpu = run_python_clients(port, args, pids)
        services_cpu = {name: process_tree_cpu(services[name]) - cpu for name, cpu in services_cpu.items()}
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=20)
    latencies = sorted(x for r in results for x in r[0])
    n = len(latencies)
    q = statistics.quantiles(latencies, n=100)
    client_cpu = sum(r[1] for r in results)
    report = {
        "signins": n,
        "seconds": round(elapsed, 2),
        "signins_per_second": round(n / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "distinct_employees_and_keys": len(keys),
        "server": server_desc,
        "clients": args.clients,
        "load_generator": "bench/signin_load.c" if args.client == "c" else "Python (client_loop)",
        "dropped_connections": sum(r[2] for r in results),
        "server_cpu_ms_per_signin": round(server_cpu / max(n, 1) * 1000, 2),
        "client_cpu_ms_per_signin": round(client_cpu / max(n, 1) * 1000, 2),
        **{f"{name}_cpu_ms_per_signin": round(cpu / max(n, 1) * 1000, 2) for name, cpu in services_cpu.items()},
        "cpu_used_of_available": round(
            (server_cpu + client_cpu + sum(services_cpu.values())) / (elapsed * (os.cpu_count() or 1)), 2
        ),
        "load_average_before": [round(x, 2) for x in load],
        "database": "PostgreSQL + Redis" if env.get("SMISHGUARD_DATABASE_URL", "").startswith("postgres") else "SQLite",
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
