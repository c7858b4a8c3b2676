"""Issue 16 through a real nginx (the shipped deploy/nginx-gateway.conf) in front of the sample customer console,
asking a real smishguard (gunicorn): a rule with ``training_required = true`` refuses an employee whose training is
overdue with nginx's 403 page (reason ``training_overdue``, a link to the overdue module's page on smishguard), and
the very next request after a pass is recorded reaches the app. A key touch asked for (a drill's submit) sends the
same session to the sign-in page in step-up mode. In SQLite and production mode alike (the server's own database)."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from gateway_nginx import APP_HOST, gateway_site
from servers import django_eval, smishguard

pytestmark = pytest.mark.integration

POLICY = f"""
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/?$"]
policy = "signed_in"
training_required = true
"""

# Django code run in the server's database: the smishguard module, due yesterday for Ann, and a session of hers.
SETUP = """
from datetime import timedelta
from django.utils import timezone
from smishguard.accounts import services, sessions
from smishguard.training import compliance
from smishguard.training.models import Module
ann = services.get_employee("ann@corp.test")
module = Module.objects.get(slug="smishing")  # the bundled module (training migration 0002)
compliance.assign(ann, module, due_at=timezone.now() - timedelta(days=1))
print(sessions.create(ann, request=None)[0])
"""
PASS = """
from datetime import timedelta
from django.utils import timezone
from smishguard.accounts import services
from smishguard.training import compliance
from smishguard.training.models import Attempt, ModuleVersion
ann = services.get_employee("ann@corp.test")
now = timezone.now()
attempt = Attempt.objects.create(employee=ann, version=ModuleVersion.objects.get(module__slug="smishing"),
                                 started_at=now - timedelta(minutes=4), submitted_at=now, score=100, passed=True)
print(compliance.complete(attempt) is not None)
"""
DEMAND = """
from smishguard.accounts import services, sessions
print(sessions.require_key_touch(services.get_employee("ann@corp.test"), reason="simulation submitted"))
"""


def get(port: int, path: str, session: str) -> tuple[int, dict[str, str], str]:
    raw = (
        f"GET {path} HTTP/1.1\r\nHost: {APP_HOST}\r\nConnection: close\r\nAccept: text/html\r\n"
        f"Cookie: sg_session={session}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body.decode("utf-8", "replace")


def test_overdue_training_is_refused_by_nginx_and_a_pass_admits_the_next_request(tmp_path):
    site = gateway_site(tmp_path, POLICY)
    env, auth_origin, port = site.env, site.auth_origin, site.port
    smishguard(env, "employees", "add", "ann@corp.test", "--name", "Ann Agent")
    session = django_eval(env, SETUP).strip()
    with site.running() as app_log:
        status, headers, body = get(port, "/customers", session)
        assert status == 403, (status, headers, body)
        assert headers["x-smishguard-reason"] == "training_overdue"
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert "<h1 id=title>Your security training is overdue</h1>" in body
        assert f"<a id=link href='{auth_origin}/learn/smishing/'>Go to your training</a>" in body
        assert "GET /customers" not in app_log.read_text(errors="replace")

        assert django_eval(env, PASS).strip() == "True"
        status, headers, body = get(port, "/customers", session)
        assert status == 200, (status, headers, body)
        assert "x-smishguard-reason" not in headers

        # A drill's submit asks for a fresh key touch: the same session is sent to step up.
        assert django_eval(env, DEMAND).strip() == "1"
        status, headers, _ = get(port, "/customers", session)
        assert (status, headers["x-smishguard-reason"]) == (302, "step_up")
        at = urlsplit(headers["location"])
        assert f"{at.scheme}://{at.netloc}{at.path}" == auth_origin + "/signin"
        assert parse_qs(at.query)["stepup"] == ["1"]
