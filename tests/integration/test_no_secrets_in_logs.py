"""No secret in a log, an audit row or a cookie: a full enrolment through a real ``smishguard serve`` behind a
real nginx running the shipped deploy/nginx.conf (only its ports and paths substituted), a link issued in the
console, a simulation's tracked link, and a webhook alert to a local receiver.  Afterwards no line of serve's
output, of nginx's access logs, of the webhook worker's output, no audit row and no Set-Cookie (decoded where Django
signed it) holds an enrolment token, a tracked link's rid or the hook URL."""

from __future__ import annotations

import base64
import http.client
import json
import re
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from nginx import Browser, nginx
from servers import clean_env, django_eval, free_port, serve, smishguard, stop, wait_for
from softkey import SoftKey

pytestmark = pytest.mark.integration

HOOK_PATH = "/services/T0SECRETTEAM/B0SECRETBOT/XyZsEcReTwEbHoOkPaTh"
HOOK_QUERY = "sig=QqSecretSignatureQq"
RID = "Tr4ck3dL1nkR1dOfS0me0neXyZ12345a"  # a tracked link's per-recipient token (/s/<rid>): unknown here, a 404


def enrol_and_sign_in(browser: Browser, token: str, email: str) -> None:
    key = SoftKey(origin=browser.origin, rp_id="localhost")
    browser.enrol(key, token)
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
    server = serve(env, app_port, log=serve_out)
    receiver = Receiver()
    secrets_seen: dict[str, str] = {}
    try:
        wait_for(f"http://127.0.0.1:{app_port}/api/me")
        with nginx(tmp_path / "nginx", https_port=https_port, http_port=http_port, app_ports=[app_port]) as logs:
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
            # A tracked link and its lesson (an unknown rid: the same log lines as a known one, a 404).
            assert bob.request("GET", f"/s/{RID}")[0] == 404
            assert bob.request("GET", f"/s/{RID}/lesson")[0] == 404
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
        stop(server)

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
        "a tracked link's rid": RID,
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
    assert "/s/[redacted]/lesson" in places["smishguard serve's output"]
    assert "/s/[redacted]/lesson" in nginx_logs["smishguard.access.log"]
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
