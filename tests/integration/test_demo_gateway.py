"""``scripts/demo_gateway.py`` (what ``./scripts/demo-gateway`` runs after installing nginx and smishguard): it
starts smishguard, the customer console and nginx, prints the URL and the enrolment links, answers through the
gateway, and stops everything on Ctrl-C.  The demo is SQLite by design (its own folder), in either test mode."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from gateway_nginx import ROOT
from servers import free_port
from waiting import wait_until

pytestmark = pytest.mark.integration


def get(port: int, path: str, host: str) -> tuple[int, dict[str, str]]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_gateway_demo_starts_answers_through_nginx_and_stops_on_ctrl_c(tmp_path):
    port, auth_port, app_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMISHGUARD_")}
    out = tmp_path / "demo.out"
    demo = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo_gateway.py"),
            "--dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--auth-port",
            str(auth_port),
            "--app-port",
            str(app_port),
        ],
        env=env,
        stdout=open(out, "w"),  # noqa: SIM115 - lives as long as the demo
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: "Press Ctrl-C to stop." in out.read_text() or demo.poll() is not None, "the demo's URL")
        text = out.read_text()
        assert demo.poll() is None, text
        app = f"http://customers.corp.localhost:{port}"
        assert f"{app}/customers" in text
        assert re.search(rf"Carl .*\n\s+http://auth\.corp\.localhost:{auth_port}/enrol/\S+", text), text
        assert re.search(rf"Ada .*\n\s+http://auth\.corp\.localhost:{auth_port}/enrol/\S+", text), text

        status, headers = get(port, "/customers/1042", f"customers.corp.localhost:{port}")
        assert status == 302
        location = urlsplit(headers["Location"])
        assert (
            f"{location.scheme}://{location.netloc}{location.path}" == f"http://auth.corp.localhost:{auth_port}/signin"
        )
        assert parse_qs(location.query)["rd"] == [f"{app}/customers/1042"]
        status, headers = get(port, "/customers%2F1042", f"customers.corp.localhost:{port}")
        assert (status, headers["X-Smishguard-Reason"]) == (403, "encoded_slash")
        status, _ = get(auth_port, "/signin", f"auth.corp.localhost:{auth_port}")
        assert status == 200
        assert (tmp_path / "demo" / "smishguard.toml").read_text().count("[[gateway.rules]]") == 3
    finally:
        demo.send_signal(signal.SIGINT)  # what Ctrl-C does
        assert demo.wait(timeout=60) == 0, out.read_text()
    for busy in (port, auth_port, app_port):
        assert not listening(busy), f"something still listens on {busy} after Ctrl-C"
    assert "demo-gateway: stopping" in out.read_text()
