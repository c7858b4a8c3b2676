"""A real nginx (Debian's) running the shipped deploy/nginx-gateway.conf in front of an app, on plain http on
127.0.0.1: its names, ports, upstreams and log folder substituted (the TLS lines left out), as the demo
(scripts/demo-gateway) runs it."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from nginx import running_nginx
from servers import clean_env, free_port, gunicorn, smishguard, stop
from waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx-gateway.conf"
# The tests' made-up names: smishguard on one host, the protected app on a sibling (cookies for .corp.test).
AUTH_HOST = "auth.corp.test"
APP_HOST = "customers.corp.test"


def gateway_config(
    directory: Path,
    *,
    port: int,
    redirect_port: int,
    auth_host: str,
    app_host: str,
    check_port: int,
    app_port: int,
    check_from: str | None = None,
) -> str:
    """deploy/nginx-gateway.conf for ``app_host`` on 127.0.0.1:``port`` (plain http; its https-redirecting server
    on ``redirect_port``), asking smishguard on 127.0.0.1:``check_port`` (as ``auth_host``) and proxying to the app
    on 127.0.0.1:``app_port``.  ``check_from``: the address nginx asks the check from (``proxy_bind``)."""
    site = SHIPPED.read_text(encoding="utf-8")
    bind = f"internal;\n        proxy_bind {check_from};" if check_from else "internal;"
    for old, new in (
        ("/var/log/nginx/", f"{directory}/"),
        ("listen 443 ssl http2 default_server;", f"listen 127.0.0.1:{port} default_server;"),
        ("listen 80 default_server;", f"listen 127.0.0.1:{redirect_port} default_server;"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{port};"),
        ("listen 80;", f"listen 127.0.0.1:{redirect_port};"),
        ("    ssl_reject_handshake on;", "   "),
        ("    ssl_certificate     /etc/ssl/smishguard/customers/fullchain.pem;\n", ""),
        ("    ssl_certificate_key /etc/ssl/smishguard/customers/privkey.pem;\n", ""),
        ("server_name customers.example.com;", f"server_name {app_host};"),
        ("proxy_set_header Host login.example.com;", f"proxy_set_header Host {auth_host};"),
        ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{check_port} "),
        ("server 127.0.0.1:9000;", f"server 127.0.0.1:{app_port};"),
        ("internal;", bind),
    ):
        assert old in site, f"deploy/nginx-gateway.conf no longer has {old!r}; adapt tests/support/gateway_nginx.py"
        site = site.replace(old, new)
    return site


@contextlib.contextmanager
def gateway_nginx(directory: Path, **options) -> Iterator[Path]:
    """nginx in the foreground with its own prefix, pid and logs, running :func:`gateway_config` (``options``)
    inside a minimal main configuration (tests/support/nginx.py).  Yields the folder of its logs
    (gateway.access.log, error.log)."""
    directory.mkdir(parents=True)
    site = gateway_config(directory, **options)
    with running_nginx(directory, "gateway.conf", site, port=options["port"], workers=2, connections=256) as logs:
        yield logs


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def customer_console(
    port: int, *, origin: str, smishguard_origin: str, log: Path, show_headers: bool = False
) -> Iterator[subprocess.Popen]:
    """The sample app smishguard's gateway protects (examples/customer_console) on 127.0.0.1:``port``, its public
    ``origin`` behind nginx, reading smishguard's keys on the check's private address (the app cannot resolve the
    tests' made-up host names; chromium can); its stderr in ``log``.  Stopped on the way out."""
    argv = [
        sys.executable,
        "-m",
        "examples.customer_console",
        "--port",
        str(port),
        "--origin",
        origin,
        "--smishguard-origin",
        smishguard_origin,
        "--jwks-url",
        f"http://127.0.0.1:{urlsplit(smishguard_origin).port}/.well-known/smishguard/jwks.json",
    ]
    if show_headers:
        argv.append("--show-headers")
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 - lives as long as the app
    )
    try:
        wait_until(lambda: listening(port) or process.poll() is not None, f"the customer console on {port}")
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        stop(process)


def gateway_env(tmp: Path, *, auth_origin: str, auth_host: str, config: Path) -> dict[str, str]:
    """A smishguard on ``auth_origin`` (RP ID corp.test, cookies for .corp.test) behind the gateway's nginx on
    127.0.0.1, its policy in ``config``, its data in ``tmp``/var."""
    return clean_env(
        tmp / "var",
        SMISHGUARD_ORIGIN=auth_origin,
        SMISHGUARD_RP_ID="corp.test",
        SMISHGUARD_ALLOWED_HOSTS=f"{auth_host},127.0.0.1",
        SMISHGUARD_COOKIE_DOMAIN=".corp.test",
        SMISHGUARD_TRUSTED_PROXIES="127.0.0.1",
        SMISHGUARD_CONFIG=str(config),
    )


@contextlib.contextmanager
def gateway_in_front(
    tmp: Path, env: dict[str, str], *, auth_host: str, app_host: str, auth_port: int, app_port: int, port: int
) -> Iterator[Path]:
    """The sample app on ``app_port``, smishguard (gunicorn, two workers) on ``auth_port`` and nginx on ``port`` in
    front of the app asking smishguard about every request: the stack of the demo, in one.  Yields the app's log."""
    auth_origin = env["SMISHGUARD_ORIGIN"]
    log = tmp / "app.log"
    with (
        customer_console(app_port, origin=f"http://{app_host}:{port}", smishguard_origin=auth_origin, log=log),
        gunicorn(env, workers=2, log_dir=tmp, port=auth_port),
        gateway_nginx(
            tmp / "nginx",
            port=port,
            redirect_port=free_port(),
            auth_host=auth_host,
            app_host=app_host,
            check_port=auth_port,
            app_port=app_port,
        ),
    ):
        yield log


@dataclass(frozen=True)
class GatewaySite:
    """A migrated smishguard (its policy written out) with free ports for it, the sample app and nginx in front:
    :meth:`running` starts the three (:func:`gateway_in_front`)."""

    tmp: Path
    env: dict[str, str]
    auth_port: int
    app_port: int
    port: int

    @property
    def auth_origin(self) -> str:
        return f"http://{AUTH_HOST}:{self.auth_port}"

    @property
    def app_origin(self) -> str:
        return f"http://{APP_HOST}:{self.port}"

    def chromium_args(self) -> list[str]:
        """chromium resolving both made-up names to 127.0.0.1 and treating both origins as secure (WebAuthn)."""
        return [
            f"--host-resolver-rules=MAP {AUTH_HOST} 127.0.0.1, MAP {APP_HOST} 127.0.0.1",
            f"--unsafely-treat-insecure-origin-as-secure={self.auth_origin},{self.app_origin}",
        ]

    def running(self):
        return gateway_in_front(
            self.tmp,
            self.env,
            auth_host=AUTH_HOST,
            app_host=APP_HOST,
            auth_port=self.auth_port,
            app_port=self.app_port,
            port=self.port,
        )


def gateway_site(tmp: Path, policy: str) -> GatewaySite:
    """:class:`GatewaySite` with ``policy`` as its smishguard.toml, the database migrated."""
    auth_port, app_port, port = free_port(), free_port(), free_port()
    config = tmp / "smishguard.toml"
    config.write_text(policy, encoding="utf-8")
    env = gateway_env(tmp, auth_origin=f"http://{AUTH_HOST}:{auth_port}", auth_host=AUTH_HOST, config=config)
    smishguard(env, "migrate")
    return GatewaySite(tmp, env, auth_port, app_port, port)
