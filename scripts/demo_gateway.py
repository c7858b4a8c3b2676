#!/usr/bin/env python3
"""Run smishguard's gateway demo: smishguard, the sample customer console and nginx, on this machine.

    .venv/bin/python scripts/demo_gateway.py [--port 8080] [--auth-port 8000] [--app-port 9000] [--dir var/gateway-demo]

(``./scripts/demo-gateway`` installs nginx and smishguard first, then runs this.)  All on 127.0.0.1, on host
names below ``corp.localhost``, which browsers resolve to this machine by themselves (RFC 6761; chromium and
firefox do):

- smishguard at http://auth.corp.localhost:8000 (``smishguard serve``, two workers, SQLite under the demo's own
  folder, var/gateway-demo: keys enrolled here are for RP ID corp.localhost, not the plain demo's localhost),
  with the session cookie scoped to ``.corp.localhost`` (SMISHGUARD_COOKIE_DOMAIN) so that it reaches the app's
  host, and a ``[gateway]`` policy for the app (written to the folder's smishguard.toml on first run; edit it
  and start again);
- the customer console (examples/customer_console) on 127.0.0.1:9000, reached only through nginx;
- nginx at http://customers.corp.localhost:8080 running deploy/nginx-gateway.conf (its names, ports and log
  folder substituted; plain http, as the demo has no certificate).

It seeds the demo organisation (smishguard.demo: Ada Admin in security-team, Carl and Dana in support and
customer-data, ...), prints an enrolment link for Carl and for Ada while they have no key, and the URL to open.
Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
AUTH_HOST = "auth.corp.localhost"
APP_HOST = "customers.corp.localhost"
PEOPLE = ("carl.support@example.com", "admin@example.com")

POLICY = f"""# The gateway's policy for the demo (docs/gateway.md).  First matching rule wins; anything else is refused.
[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32", "::1/128"]   # nginx asks the check from here

# Exporting a customer's record: the customer-data group (Carl, Dana), with a key touch in the last 2 minutes.
[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/(?P<customer>[^/]+)/export$"]
methods = ["GET"]
subject = ["group:customer-data"]
policy = "step_up"
reauth_max_age = 120

# A customer's record: the customer-data group only.
[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/(?P<customer>[^/]+)$"]
methods = ["GET", "HEAD"]
subject = ["group:customer-data"]
policy = "signed_in"

# The list of customers: support, customer-data and the security team (Ada sees the list, not the records).
[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/$", "^/customers/?$", "^/static/"]
methods = ["GET", "HEAD"]
subject = ["group:support", "group:customer-data", "group:security-team"]
policy = "signed_in"
"""

SEED = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smishguard.settings")
django.setup()
from smishguard.demo import seed_demo
seed_demo()
"""


def free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo-gateway: {what} stopped at start (exit {process.returncode}); see its log")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"demo-gateway: {what} is not listening on {port} after {timeout:.0f}s")


def nginx_config(folder: Path, *, port: int, auth_port: int, app_port: int) -> str:
    """deploy/nginx-gateway.conf for the demo: plain http on 127.0.0.1:``port``, no https-redirect servers."""
    site = (ROOT / "deploy" / "nginx-gateway.conf").read_text(encoding="utf-8")
    site = re.sub(r"server \{\n    listen 80[^\n]*\n(?:    [^\n]*\n)*\}\n", "", site)
    for old, new in (
        ("/var/log/nginx/", f"{folder}/"),
        ("listen 443 ssl http2 default_server;", f"listen 127.0.0.1:{port} default_server;"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{port};"),
        ("    ssl_reject_handshake on;", "   "),
        ("    ssl_certificate     /etc/ssl/smishguard/customers/fullchain.pem;\n", ""),
        ("    ssl_certificate_key /etc/ssl/smishguard/customers/privkey.pem;\n", ""),
        ("server_name customers.example.com;", f"server_name {APP_HOST};"),
        ("proxy_set_header Host login.example.com;", f"proxy_set_header Host {AUTH_HOST};"),
        ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{auth_port} "),
        ("server 127.0.0.1:9000;", f"server 127.0.0.1:{app_port};"),
    ):
        if old not in site:
            raise SystemExit(f"demo-gateway: deploy/nginx-gateway.conf no longer has {old!r}")
        site = site.replace(old, new)
    if "listen 80" in site:
        raise SystemExit("demo-gateway: could not leave out the port-80 servers of deploy/nginx-gateway.conf")
    return site


def start_nginx(folder: Path, site: str) -> subprocess.Popen:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("demo-gateway: nginx is not installed (./scripts/demo-gateway installs it with apt)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gateway.conf").write_text(site, encoding="utf-8")
    user = "user root root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n  access_log {folder}/default.access.log;\n"
        f"  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;\n"
        f"  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;\n"
        f"  include {folder}/gateway.conf;\n}}\n",
        encoding="utf-8",
    )
    args = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    check = subprocess.run([*args, "-t", "-q"], capture_output=True, text=True, check=False)  # noqa: S603 - nginx
    if check.returncode != 0:
        raise SystemExit(f"demo-gateway: nginx refuses the configuration:\n{check.stderr}")
    return subprocess.Popen(  # noqa: S603 - nginx
        [*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def smishguard(env: dict[str, str], *argv: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(VENV_BIN / "smishguard"), *argv], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"demo-gateway: smishguard {' '.join(argv)}: {result.stderr.strip()}")
    return result.stdout


def enrolment_links(env: dict[str, str]) -> dict[str, str]:
    """A fresh enrolment link for each of PEOPLE who has no key yet."""
    code = SEED + (
        "from smishguard.accounts.models import Employee\n"
        f"print(json.dumps([e.email for e in Employee.objects.filter(email__in={list(PEOPLE)!r}) "
        "if not e.credentials.filter(revoked_at__isnull=True).exists()]))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"demo-gateway: seeding the demo organisation failed:\n{result.stderr}")
    keyless = json.loads(result.stdout.strip().splitlines()[-1])
    return {email: json.loads(smishguard(env, "employees", "invite", email, "--json"))["url"] for email in keyless}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="nginx, for customers.corp.localhost (default 8080)")
    parser.add_argument("--auth-port", type=int, default=8000, help="smishguard, auth.corp.localhost (default 8000)")
    parser.add_argument("--app-port", type=int, default=9000, help="the customer console on 127.0.0.1 (default 9000)")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "gateway-demo", help="the demo's folder")
    args = parser.parse_args(argv)
    for name, port in (("--port", args.port), ("--auth-port", args.auth_port), ("--app-port", args.app_port)):
        if not 1 <= port <= 65535:
            parser.error(f"{name} must be between 1 and 65535")
        if not free(port):
            parser.error(f"{name} {port}: something already listens on 127.0.0.1:{port}")
    folder = args.dir.resolve()
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    config = folder / "smishguard.toml"
    if not config.exists():
        config.write_text(POLICY, encoding="utf-8")
    auth_origin = f"http://{AUTH_HOST}:{args.auth_port}"
    app_origin = f"http://{APP_HOST}:{args.port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_")}
    env.update(
        SMISHGUARD_DATA_DIR=str(folder / "smishguard"),
        SMISHGUARD_ORIGIN=auth_origin,
        SMISHGUARD_RP_ID="corp.localhost",
        SMISHGUARD_ALLOWED_HOSTS=f"{AUTH_HOST},127.0.0.1",
        SMISHGUARD_COOKIE_DOMAIN=".corp.localhost",
        SMISHGUARD_TRUSTED_PROXIES="127.0.0.1",  # nginx: its X-Forwarded-For names the client
        SMISHGUARD_CONFIG=str(config),
    )
    smishguard(env, "migrate")
    processes: list[tuple[str, subprocess.Popen]] = []

    def stop_all(*_: object) -> None:
        for _name, process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    # Ctrl-C (and a plain kill) stop everything, also when started in the background, where SIGINT is ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        log = open(folder / "logs" / "smishguard.log", "a")  # noqa: SIM115 - lives as long as the server
        serve = subprocess.Popen(  # noqa: S603 - our own console script
            [str(VENV_BIN / "smishguard"), "serve", "--bind", f"127.0.0.1:{args.auth_port}", "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(("smishguard", serve))
        wait_for_port(args.auth_port, serve, "smishguard")
        links = enrolment_links(env)  # after `serve` started: the CLI's links follow the running server

        app_log = open(folder / "logs" / "customer-console.log", "a")  # noqa: SIM115 - lives as long as the app
        app = subprocess.Popen(  # noqa: S603 - the sample app
            [
                sys.executable,
                "-m",
                "examples.customer_console",
                "--port",
                str(args.app_port),
                "--origin",
                app_origin,
                "--smishguard-origin",
                auth_origin,
                "--jwks-url",  # smishguard's keys on its private address (a *.localhost name may not resolve here)
                f"http://127.0.0.1:{args.auth_port}/.well-known/smishguard/jwks.json",
            ],
            cwd=ROOT,
            stdout=app_log,
            stderr=subprocess.STDOUT,
        )
        processes.append(("customer console", app))
        wait_for_port(args.app_port, app, "the customer console")

        site = nginx_config(folder / "nginx", port=args.port, auth_port=args.auth_port, app_port=args.app_port)
        nginx = start_nginx(folder / "nginx", site)
        processes.append(("nginx", nginx))
        wait_for_port(args.port, nginx, "nginx")

        print(f"""
smishguard's gateway demo is running (logs in {folder}/logs and {folder}/nginx):

  the protected app:  {app_origin}/customers        (nginx + deploy/nginx-gateway.conf)
  smishguard:         {auth_origin}          (sign-in; the console at /console)

Open the app's URL in chromium or firefox on this machine: *.localhost names are this machine (no /etc/hosts
entry needed), and http://*.localhost counts as a secure origin, so security keys work without TLS.  The
session cookie is scoped to .corp.localhost, so signing in on the auth host signs you in to the app's host.
""")
        if links:
            print("Enrol a security key first (each link once, 24 h):")
            for email, url in links.items():
                who = (
                    "Carl (support, customer-data: reads records)"
                    if email.startswith("carl")
                    else ("Ada (security-team: sees the list, is refused a record)")
                )
                print(f"  {who}:\n    {url}")
        else:
            print("Carl and Ada have keys: sign in with them (carl.support@example.com, admin@example.com).")
        print(
            f"""
Then try: a record ({app_origin}/customers/1042), its CSV export (a step-up rule: touch the key again after
2 minutes), a record as Ada (a readable refusal), {app_origin}/customers%2F1042 (an encoded slash: refused).
The policy is {config}; what the gateway decides for anyone, and why:
  SMISHGUARD_DATA_DIR={env["SMISHGUARD_DATA_DIR"]} SMISHGUARD_CONFIG={config} \\
    .venv/bin/smishguard gateway check --user admin@example.com {app_origin}/customers/1042
Press Ctrl-C to stop.""",
            flush=True,
        )
        while True:
            for name, process in processes:
                if process.poll() is not None:
                    print(
                        f"demo-gateway: {name} stopped (exit {process.returncode}); stopping the rest", file=sys.stderr
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\ndemo-gateway: stopping", file=sys.stderr)
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
