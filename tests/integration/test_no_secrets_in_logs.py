"""No secret in a log, an audit row or a cookie: a full enrolment through a real ``smishguard serve`` behind a
real nginx running the shipped deploy/nginx.conf (only its ports and paths substituted), a link issued in the
console, and a webhook alert to a local receiver.  Afterwards no line of serve's output, of nginx's access logs,
of the webhook worker's output, no audit row and no Set-Cookie (decoded where Django signed it) holds an
enrolment token or the hook URL."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from servers import VENV_BIN, clean_env, django_eval, free_port, smishguard, stop, wait_for
from softkey import SoftKey

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HOOK_PATH = "/services/T0SECRETTEAM/B0SECRETBOT/XyZsEcReTwEbHoOkPaTh"
HOOK_QUERY = "sig=QqSecretSignatureQq"


def _self_signed(directory: Path) -> tuple[Path, Path]:
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


@contextlib.contextmanager
def nginx(directory: Path, *, https_port: int, http_port: int, app_port: int):
    """nginx in the foreground with its own prefix, pid and logs, running deploy/nginx.conf (ports and paths
    substituted) inside a minimal main configuration."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    directory.mkdir()
    cert, key = _self_signed(directory)
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    for old, new in (
        ("/var/log/nginx/", f"{directory}/"),
        ("/etc/ssl/smishguard/fullchain.pem", str(cert)),
        ("/etc/ssl/smishguard/privkey.pem", str(key)),
        ("listen 443 ", f"listen 127.0.0.1:{https_port} "),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("127.0.0.1:8000", f"127.0.0.1:{app_port}"),
    ):
        assert old in site, f"deploy/nginx.conf no longer has {old!r}; adapt this test"
        site = site.replace(old, new)
    (directory / "smishguard.conf").write_text(site, encoding="utf-8")
    user = "user root root;\n" if os.geteuid() == 0 else ""
    main = (
        f"{user}worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  access_log {directory}/default.access.log;\n"
        f"  client_body_temp_path {directory}/body; proxy_temp_path {directory}/proxy;\n"
        f"  fastcgi_temp_path {directory}/fastcgi; uwsgi_temp_path {directory}/uwsgi;\n"
        f"  scgi_temp_path {directory}/scgi;\n"
        f"  include {directory}/smishguard.conf;\n"
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
        wait_for_port(http_port, process)
        yield directory
    finally:
        stop(process)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


class Browser:
    """Just enough of a browser over http.client: cookies, Origin on POST, every Set-Cookie kept."""

    def __init__(self, port: int, origin: str) -> None:
        self.port, self.origin = port, origin
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=60)
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

    def form(self, path: str, fields: dict[str, str]):
        body = urlencode({**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})


def enrol_and_sign_in(browser: Browser, token: str, email: str) -> None:
    key = SoftKey(origin=browser.origin, rp_id="localhost")
    status, _, _ = browser.request("GET", f"/enrol/{token}")
    assert status == 200
    status, options = browser.api("/api/webauthn/register/options", {"token": token})
    assert status == 200, options
    status, body = browser.api("/api/webauthn/register/verify", {**key.register(options), "token": token})
    assert status == 201, body
    status, options = browser.api("/api/webauthn/login/options", {"email": email})
    assert status == 200, options
    status, body = browser.api("/api/webauthn/login/verify", key.assertion(options))
    assert status == 200, body


class Receiver:
    """A chat-hook receiver on 127.0.0.1 that refuses every alert (400), so the failure paths run too."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                del args

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.paths.append(self.path)
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{HOOK_PATH}?{HOOK_QUERY}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def signed_payloads(set_cookie: str) -> list[str]:
    """The Set-Cookie header, and the payload of a Django-signed value in it (base64, maybe zlib), decoded."""
    found = [set_cookie]
    value = set_cookie.split(";", 1)[0].partition("=")[2].strip('"')
    value = value.encode().decode("unicode_escape")
    for part in re.split(r"[:$]", value):
        compressed = part.startswith(".")
        chunk = part[1:] if compressed else part
        try:
            raw = base64.urlsafe_b64decode(chunk + "=" * (-len(chunk) % 4))
            found.append((zlib.decompress(raw) if compressed else raw).decode("utf-8", "replace"))
        except (ValueError, zlib.error):
            continue
    return found


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_token_or_hook_url_in_logs_audit_or_cookies(tmp_path, log_format):
    https_port, http_port, app_port = free_port(), free_port(), free_port()
    origin = f"https://localhost:{https_port}"
    env = clean_env(
        tmp_path / "var",
        SMISHGUARD_ORIGIN=origin,
        SMISHGUARD_RP_ID="localhost",
        SMISHGUARD_LOG_FORMAT=log_format,
        SMISHGUARD_METRICS_TOKEN="m3tr1cs-t0ken-for-the-tests-0123456789abcdef",
    )
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "ada@example.com", "--name", "Ada Admin", "--admin")
    smishguard(env, "employees", "add", "bob@example.com", "--name", "Bob Support")
    admin_token = json.loads(smishguard(env, "employees", "invite", "ada@example.com", "--json").stdout)["token"]
    bob_pk = django_eval(
        env, "from smishguard.accounts.models import Employee\nprint(Employee.objects.get(email='bob@example.com').pk)"
    ).strip()

    serve_out = tmp_path / "serve.out"
    serve = subprocess.Popen(
        [str(VENV_BIN / "smishguard"), "serve", "--bind", f"127.0.0.1:{app_port}", "--workers", "1"],
        env=env,
        stdout=open(serve_out, "w"),  # noqa: SIM115 - lives as long as the server
        stderr=subprocess.STDOUT,
    )
    receiver = Receiver()
    secrets_seen: dict[str, str] = {}
    try:
        wait_for(f"http://127.0.0.1:{app_port}/api/me")
        with nginx(tmp_path / "nginx", https_port=https_port, http_port=http_port, app_port=app_port) as logs:
            admin = Browser(https_port, origin)
            enrol_and_sign_in(admin, admin_token, "ada@example.com")
            # The admin issues Bob's link in the console; it is shown once on the next page.
            status, _, _ = admin.request("GET", f"/console/employees/{bob_pk}")
            assert status == 200
            status, headers, _ = admin.form(f"/console/employees/{bob_pk}/invite", {})
            assert status == 302, status
            status, _, page = admin.request("GET", headers["Location"])
            assert status == 200
            found = re.search(r'value="(https?://[^"]+/enrol/([^"]+))"', page.decode())
            assert found, "the issued link is shown on the page after the invite"
            bob_token = found.group(2)
            status, _, again = admin.request("GET", headers["Location"])
            assert bob_token not in again.decode(), "the link is shown only once"

            bob = Browser(https_port, origin)
            enrol_and_sign_in(bob, bob_token, "bob@example.com")
            # The used link again (410), a path under it (404), and the port-80 server with a ?token=.
            assert bob.request("GET", f"/enrol/{bob_token}")[0] == 410
            assert bob.request("GET", f"/enrol/{bob_token}/nope")[0] == 404
            assert bob.request("GET", f"/enrol/{admin_token}?token={admin_token}&next=/")[0] == 410
            assert bob.request("GET", "/metrics")[0] == 403, "nginx keeps /metrics off the internet"
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
            conn.request("GET", f"/enrol/{bob_token}?token={bob_token}", headers={"Host": "localhost"})
            assert conn.getresponse().status == 301
            conn.close()

            # A webhook alert to the local receiver, delivered (and refused) by the real task code.
            deliver = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'smishguard.settings')\n"
                    "django.setup()\n"
                    "from smishguard.watch.models import LookalikeAlert, SinkDelivery\n"
                    "from smishguard.outbox.models import Delivery\n"
                    "from smishguard.outbox.queue import attempt\n"
                    "from smishguard.watch.sinks import record_webhook\n"
                    "alert = LookalikeAlert.objects.create(domain='acme-login.example',"
                    " registrable='acme-login.example', brand='acme')\n"
                    f"d = SinkDelivery.objects.create(alert=alert, sink='webhook', target={receiver.url!r})\n"
                    "record_webhook(d, max_attempts=1)\n"
                    "print(attempt(Delivery.objects.get(kind='ct-webhook', target_id=d.pk).pk))\n",
                ],
                env={**env, "SMISHGUARD_LOG_LEVEL": "INFO"},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert deliver.returncode == 0, deliver.stderr
            assert deliver.stdout.strip() == "failed"
            assert receiver.paths == [f"{HOOK_PATH}?{HOOK_QUERY}"], "the receiver got the alert"
    finally:
        receiver.close()
        stop(serve)

    audit = django_eval(
        env,
        "import json\nfrom smishguard.audit.models import Event\n"
        "for e in Event.objects.order_by('pk'):\n"
        "    print(json.dumps([e.action, e.actor_label, e.subject_label, e.user_agent, e.detail], default=str))\n",
    )
    secrets_seen = {
        "the admin's enrolment token": admin_token,
        "Bob's enrolment token": bob_token,
        "the hook URL's path": HOOK_PATH,
        "the hook URL's secret part": "XyZsEcReTwEbHoOkPaTh",
        "the hook URL's query": HOOK_QUERY,
    }
    nginx_logs = {p.name: p.read_text(errors="replace") for p in logs.glob("*.log") if p.name != "error.log"}
    places = {
        "smishguard serve's output": serve_out.read_text(errors="replace"),
        "the webhook worker's output": deliver.stdout + deliver.stderr,
        "the audit trail": audit,
        "a Set-Cookie header": "\n".join(
            text for header in admin.set_cookies + bob.set_cookies for text in signed_payloads(header)
        ),
        **{f"nginx's {name}": text for name, text in nginx_logs.items()},
    }
    # The places are not empty: the requests were logged and audited.
    assert "/enrol/" in places["smishguard serve's output"]
    assert "/enrol/" in nginx_logs["smishguard.access.log"]
    assert "accounts:enrolment:used" in audit
    assert "watch:webhook:failed" in audit
    if log_format == "json":  # every line a JSON object (the worker's stdout is its print)
        for where in ("smishguard serve's output", "the webhook worker's output"):
            text = places[where] if where != "the webhook worker's output" else deliver.stderr
            for line in text.splitlines():
                assert isinstance(json.loads(line), dict), f"{where}: {line[:200]}"
    leaks = [
        f"{what} in {where}: {line.strip()[:200]}"
        for where, text in places.items()
        for line in text.splitlines()
        for what, secret in secrets_seen.items()
        if secret in line
    ]
    assert not leaks, "\n".join(leaks)
