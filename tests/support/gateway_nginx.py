"""A real nginx (Debian's) running the shipped deploy/nginx-gateway.conf in front of an app, on plain http on
127.0.0.1: its names, ports, upstreams and log folder substituted (the TLS lines left out), as the demo
(scripts/demo-gateway) runs it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from nginx import running_nginx

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx-gateway.conf"


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
