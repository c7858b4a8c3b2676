"""A real nginx (Debian's) in the foreground running the shipped deploy/nginx.conf, its ports, paths and upstream
servers substituted, and just enough of a browser to talk to it (or to a web host directly)."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from servers import stop

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_SERVER = "    server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;\n"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def site_config(directory: Path, *, https_port: int, http_port: int, app_ports: Sequence[int]) -> str:
    """deploy/nginx.conf with its log folder, certificate, ports and upstream servers (one per app port)."""
    cert, key = self_signed(directory)
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    servers = "".join(UPSTREAM_SERVER.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for port in app_ports)
    for old, new in (
        ("/var/log/nginx/", f"{directory}/"),
        ("/etc/ssl/smishguard/fullchain.pem", str(cert)),
        ("/etc/ssl/smishguard/privkey.pem", str(key)),
        ("listen 443 ", f"listen 127.0.0.1:{https_port} "),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        (UPSTREAM_SERVER, servers),
    ):
        assert old in site, f"deploy/nginx.conf no longer has {old!r}; adapt tests/support/nginx.py"
        site = site.replace(old, new)
    return site


@contextlib.contextmanager
def nginx(directory: Path, *, https_port: int, http_port: int, app_ports: Sequence[int]) -> Iterator[Path]:
    """nginx in the foreground with its own prefix, pid and logs, running deploy/nginx.conf (ports, paths and
    upstream servers substituted) inside a minimal main configuration.  Yields the folder of its logs."""
    directory.mkdir()
    site = site_config(directory, https_port=https_port, http_port=http_port, app_ports=app_ports)
    with running_nginx(directory, "smishguard.conf", site, port=http_port) as logs:
        yield logs


@contextlib.contextmanager
def running_nginx(
    directory: Path, name: str, site: str, *, port: int, workers: int = 1, connections: int = 64
) -> Iterator[Path]:
    """nginx in the foreground with ``directory`` as its prefix (pid, logs, temporary files), ``site`` written to
    ``directory/name`` and included in a minimal main configuration; ready once it listens on ``port``, stopped
    on the way out.  Yields ``directory``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    (directory / name).write_text(site, encoding="utf-8")
    user = "user root root;\n" if os.geteuid() == 0 else ""
    main = (
        f"{user}worker_processes {workers};\npid {directory}/nginx.pid;\nerror_log {directory}/error.log info;\n"
        f"events {{ worker_connections {connections}; }}\n"
        "http {\n"
        f"  access_log {directory}/default.access.log;\n"
        f"  client_body_temp_path {directory}/body; proxy_temp_path {directory}/proxy;\n"
        f"  fastcgi_temp_path {directory}/fastcgi; uwsgi_temp_path {directory}/uwsgi;\n"
        f"  scgi_temp_path {directory}/scgi;\n"
        f"  include {directory}/{name};\n"
        "}\n"
    )
    (directory / "nginx.conf").write_text(main, encoding="utf-8")
    process = subprocess.Popen(
        [
            binary,
            "-p",
            str(directory),
            "-c",
            str(directory / "nginx.conf"),
            "-e",
            str(directory / "error.log"),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "nginx.err", "w"),  # noqa: SIM115 - lives as long as nginx
    )
    try:
        wait_for_port(port, process)
        yield directory
    finally:
        stop(process)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


class Browser:
    """Just enough of a browser over http.client: cookies, Origin on POST, every Set-Cookie kept.  It talks to
    nginx over TLS on ``port``, or (``https=False``) straight to a web host's plain-HTTP port, as nginx does;
    ``at(port)`` is the same browser (same cookies) pointed at another port."""

    def __init__(self, port: int, origin: str, *, https: bool = True) -> None:
        self.port, self.origin, self.https = port, origin, https
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def at(self, port: int, *, https: bool = False) -> Browser:
        other = Browser(port, self.origin, https=https)
        other.cookies, other.set_cookies = self.cookies, self.set_cookies  # shared: one browser, two doors
        return other

    def _connection(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=60)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = self._connection()
        all_headers = {"Host": f"localhost:{self.port}", "Connection": "close", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            all_headers.setdefault("Origin", self.origin)
            all_headers.setdefault("Referer", self.origin + "/")
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, response.msg, data

    def api(self, path: str, payload: dict) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        status, _, data = self.request("POST", path, json.dumps(payload).encode(), headers)
        return status, json.loads(data or b"null")

    def get_json(self, path: str) -> tuple[int, dict]:
        status, _, data = self.request("GET", path, headers={"Accept": "application/json"})
        return status, json.loads(data or b"null")

    def enrol(self, key, token: str) -> None:
        """What a browser does with an enrolment link and a soft key (tests/support/softkey.py): the page, then
        the two ceremony calls; the key is registered (201)."""
        status, _, _ = self.request("GET", f"/enrol/{token}")
        assert status == 200
        status, options = self.api("/api/webauthn/register/options", {"token": token})
        assert status == 200, options
        status, body = self.api("/api/webauthn/register/verify", {**key.register(options), "token": token})
        assert status == 201, body

    def form(self, path: str, fields: dict[str, str]):
        body = urlencode({**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
