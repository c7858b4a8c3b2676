"""The shipped deploy/nginx-gateway.conf, in a real nginx (Debian's) on 127.0.0.1, in front of the sample customer
console (examples/customer_console), asking a real smishguard (gunicorn, two workers) about every request.

Requests are written byte for byte on a socket (a header twice, in another case or spelt with an underscore; a
raw path; another host in the request line; from 127.0.0.2 or 127.0.0.3), so that what is tested is nginx and
the check, not a client library's idea of a request.  The app's ``GET /debug/headers`` shows every header it
received as nginx sent it; its log shows every request that reached it.

Three nginx: the one under test (customers.corp.test), one asking the check from 127.0.0.2, outside
``[gateway] trusted_proxies``, and one for a host no rule names.  The browser's side (chromium signing in and
stepping up through this nginx) is tests/e2e/test_e2e_gateway_nginx.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from gateway_nginx import APP_HOST, AUTH_HOST, ROOT, customer_console, gateway_config, gateway_env, gateway_nginx
from nginx import Browser, self_signed, site_config
from servers import django_eval, free_port, gunicorn, smishguard
from softkey import SoftKey
from waiting import wait_until
from webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

POLICY = f"""
[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/(?P<customer>[^/]+)/export$"]
methods = ["GET"]
subject = ["group:customer-data"]
policy = "step_up"
reauth_max_age = 300

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/(?P<customer>[^/]+)$"]
methods = ["GET", "HEAD"]
subject = ["group:customer-data"]
policy = "signed_in"

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/branch/"]
networks = ["127.0.0.3/32"]
policy = "signed_in"

[[gateway.rules]]
domain = "{APP_HOST}"
resources = ["^/customers/?$", "^/static/", "^/debug/headers$"]
policy = "signed_in"

[[gateway.rules]]
domain = "other.corp.test"
policy = "signed_in"

# Cy (customer-data and bulk-readers) is contained past 5 distinct customers; everyone else at the default 20.
[gateway.containment.groups.bulk-readers]
max_customers = 5
"""

IDENTITY = ("remote-user", "remote-email", "remote-name", "remote-groups", "x-smishguard-assertion")


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None

    def json(self) -> dict:
        return json.loads(self.body)


def send(port: int, raw: bytes, *, source: str = "127.0.0.1") -> Answer:
    """``raw`` (a whole HTTP/1.1 request, ``Connection: close``) to 127.0.0.1:``port`` from ``source``."""
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
    answer = Answer(int(lines[0].split()[1]), headers, "")
    if (answer.header("Transfer-Encoding") or "").lower() == "chunked":
        decoded = b""
        while body:
            size, _, rest = body.partition(b"\r\n")
            if int(size, 16) == 0:
                break
            decoded, body = decoded + rest[: int(size, 16)], rest[int(size, 16) + 2 :]
        body = decoded
    answer.body = body.decode("utf-8", "replace")
    return answer


def request(
    port: int,
    path: str,
    *,
    method: str = "GET",
    host: str = APP_HOST,
    session: str | None = None,
    cookie: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    source: str = "127.0.0.1",
) -> Answer:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if session or cookie:
        lines.append("Cookie: " + "; ".join(c for c in (cookie, f"sg_session={session}" if session else None) if c))
    lines += [f"{name}: {value}" for name, value in headers]
    if method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")
    return send(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), source=source)


class AuthHost(Browser):
    """tests/support/nginx.py's small browser, talking to smishguard itself as auth.corp.test."""

    def __init__(self, port: int, origin: str) -> None:
        super().__init__(port, origin, https=False)

    def request(self, method, path, body=None, headers=None):
        return super().request(method, path, body, {"Host": f"{AUTH_HOST}:{self.port}", **(headers or {})})


@dataclass
class Stack:
    env: dict[str, str]
    port: int  # nginx, customers.corp.test
    auth_origin: str
    app_log: Path
    check_log: Path  # gunicorn's access log: "pid status method path"
    untrusted_port: int  # an nginx asking the check from 127.0.0.2
    unknown_port: int  # an nginx for a host no rule names
    down_port: int  # an nginx whose check does not answer
    nginx_log: Path  # the access log of the nginx under test
    ann: str  # Ann's session token (group customer-data), signed in with her key
    bob: str  # Bob's (group support)
    cy: str  # Cy's (groups customer-data and bulk-readers: contained past 5 customers)
    hook: WebhookReceiver  # the security team's alert webhook
    key: SoftKey
    browser: AuthHost  # Ann's cookies at smishguard

    def app_saw(self, fragment: str) -> bool:
        return any(fragment in line for line in self.app_log.read_text(errors="replace").splitlines())


@pytest.fixture(scope="module")
def alert_hook():
    """The security team's alert webhook, for the module's stack."""
    with WebhookReceiver() as hook:
        yield hook


@pytest.fixture(scope="module")
def stack(tmp_path_factory, alert_hook) -> Stack:
    hook = alert_hook
    tmp = tmp_path_factory.mktemp("gateway-nginx")
    auth_port, app_port, port, redirect_port = free_port(), free_port(), free_port(), free_port()
    auth_origin = f"http://{AUTH_HOST}:{auth_port}"
    config = tmp / "smishguard.toml"
    config.write_text(POLICY + f'\n[response]\nalert_webhook = "{hook.url}"\n', encoding="utf-8")
    env = gateway_env(tmp, auth_origin=auth_origin, auth_host=AUTH_HOST, config=config)
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "ann@corp.test", "--name", "Ann Agent", "--group", "customer-data")
    smishguard(env, "employees", "add", "bob@corp.test", "--name", "Bob", "--group", "support")
    smishguard(
        env,
        "employees",
        "add",
        "cy@corp.test",
        "--name",
        "Cy Bulk",
        "--group",
        "customer-data",
        "--group",
        "bulk-readers",
    )
    token = json.loads(smishguard(env, "employees", "invite", "ann@corp.test", "--json").stdout)["token"]
    bob, cy = (
        django_eval(
            env,
            "from smishguard.accounts import services, sessions\n"
            f"print(sessions.create(services.get_employee('{email}'), request=None)[0])\n",
        ).strip()
        for email in ("bob@corp.test", "cy@corp.test")
    )
    app_log = tmp / "app.log"
    common = {"auth_host": AUTH_HOST, "check_port": auth_port, "app_port": app_port}
    untrusted_port, unknown_port, down_port = free_port(), free_port(), free_port()
    with (
        gunicorn(env, workers=2, log_dir=tmp, port=auth_port) as server,
        customer_console(
            app_port, origin=f"http://{APP_HOST}:{port}", smishguard_origin=auth_origin, log=app_log, show_headers=True
        ),
        gateway_nginx(tmp / "nginx", port=port, redirect_port=redirect_port, app_host=APP_HOST, **common),
        gateway_nginx(
            tmp / "nginx-untrusted",
            port=untrusted_port,
            redirect_port=free_port(),
            app_host=APP_HOST,
            check_from="127.0.0.2",
            **common,
        ),
        gateway_nginx(
            tmp / "nginx-down",
            port=down_port,
            redirect_port=free_port(),
            app_host=APP_HOST,
            **{**common, "check_port": free_port()},
        ),
        gateway_nginx(
            tmp / "nginx-unknown", port=unknown_port, redirect_port=free_port(), app_host="nowhere.corp.test", **common
        ),
    ):
        key = SoftKey(origin=auth_origin, rp_id="corp.test")
        browser = AuthHost(auth_port, auth_origin)
        browser.enrol(key, token)
        status, options = browser.api("/api/webauthn/login/options", {"email": "ann@corp.test"})
        assert status == 200, options
        status, body = browser.api("/api/webauthn/login/verify", key.assertion(options))
        assert status == 200, body
        yield Stack(
            env=env,
            port=port,
            auth_origin=auth_origin,
            app_log=app_log,
            check_log=server.access_log,
            untrusted_port=untrusted_port,
            unknown_port=unknown_port,
            down_port=down_port,
            nginx_log=tmp / "nginx" / "gateway.access.log",
            ann=browser.cookies["sg_session"],
            bob=bob,
            cy=cy,
            hook=hook,
            key=key,
            browser=browser,
        )


def assert_readable_refusal(answer: Answer, reason: str, title: str) -> None:
    """A 403 page that says why, in words, with the reason code (nginx turned the check's header into it)."""
    assert answer.status == 403, (answer.status, answer.headers)
    assert answer.header("X-Smishguard-Reason") == reason
    assert answer.header("Content-Type") == "text/html; charset=utf-8"
    assert f"<h1 id=title>{title}</h1>" in answer.body
    assert f"<code id=reason>{reason}</code>" in answer.body
    assert "<p id=advice>" in answer.body


def test_no_session_is_sent_to_the_sign_in_page_with_rd(stack):
    answer = request(stack.port, "/customers/1042?tab=notes")
    assert answer.status == 302
    assert answer.header("X-Smishguard-Reason") == "signed_out"
    at = urlsplit(answer.header("Location"))
    assert f"{at.scheme}://{at.netloc}{at.path}" == stack.auth_origin + "/signin"
    assert parse_qs(at.query) == {"rd": [f"http://{APP_HOST}:{stack.port}/customers/1042?tab=notes"], "rm": ["GET"]}
    assert not stack.app_saw("/customers/1042")
    # A POST (to a rule with no methods) is sent there too, with its method (the sign-in page will not replay it).
    answer = request(stack.port, "/customers", method="POST")
    assert answer.status == 302
    assert parse_qs(urlsplit(answer.header("Location")).query)["rm"] == ["POST"]
    # Spoofed identity headers do not sign anyone in.
    answer = request(stack.port, "/customers/1042", headers=(("Remote-User", "ann@corp.test"),))
    assert answer.status == 302


def test_the_app_receives_the_identity_from_the_check_only(stack):
    page = request(stack.port, "/customers/1042", session=stack.ann)
    assert page.status == 200
    assert "<h1>" in page.body
    assert 'data-customer="1042"' in page.body
    # The app verified smishguard's signed assertion (X-Smishguard-Assertion against the JWKS) and says who it is.
    assert "<span id=who-state>Verified</span> <strong id=who>ann@corp.test</strong>" in page.body

    spoofed = (
        ("Remote-User", "mallory@corp.test"),
        ("remote-user", "mallory2@corp.test"),
        ("REMOTE-EMAIL", "mallory@corp.test"),
        ("Remote_User", "mallory3@corp.test"),
        ("Remote_Groups", "security-team"),
        ("Remote-Groups", "security-team"),
        ("Remote-Groups", "admins"),
        ("Remote-Name", "Mallory"),
        ("X-Smishguard-Assertion", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0."),
        ("x-smishguard-assertion", "forged"),
        ("X_Smishguard_Assertion", "forged"),
        ("X-Original-URL", f"http://{APP_HOST}/customers/1042"),
        ("X-Rewrite-URL", "/admin"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-For", "10.9.9.9"),
        ("X-HTTP-Method-Override", "DELETE"),
    )
    got = request(
        stack.port, "/debug/headers", session=stack.ann, cookie="theme=dark; sg_session_hint=1", headers=spoofed
    ).json()
    headers = got["headers"]
    names = [name.lower() for name, _ in headers]
    for name in IDENTITY:
        assert names.count(name) <= 1, (name, headers)
    assert not [n for n, _ in headers if "_" in n and n.lower() != "sg_session_hint"], headers
    received = {name.lower(): value for name, value in headers}
    assert received["remote-user"] == "ann@corp.test"
    assert received["remote-email"] == "ann@corp.test"
    assert received["remote-name"] == "Ann Agent"
    assert received["remote-groups"] == "customer-data"
    assert received["host"] == f"{APP_HOST}:{stack.port}"
    assert received["x-forwarded-for"] == "127.0.0.1"
    assert "mallory" not in json.dumps(headers).lower()
    assert "forged" not in json.dumps(headers)
    # Exactly one X-Smishguard-Assertion, the check's (the forged ones are gone), which the app verified.
    assert names.count("x-smishguard-assertion") == 1
    assert got["who"]["verified"] is True
    assert (got["who"]["email"], got["who"]["groups"]) == ("ann@corp.test", ["customer-data"])
    assert got["who"]["amr"] == ["hwk", "user"]
    for gone in ("x-original-url", "x-rewrite-url", "x-forwarded-host", "x-http-method-override"):
        assert gone not in received, headers
    # The session cookie never reaches the app; the app's own cookies do.
    assert "sg_session=" not in received["cookie"]
    assert "theme=dark" in received["cookie"]
    assert "sg_session_hint=1" in received["cookie"]
    assert got["who"]["remote_user_unverified"] == "ann@corp.test"  # the header the app was also given


def test_two_session_cookies_or_odd_spacing_never_reach_the_app(stack):
    cookies = [
        f"sg_session={stack.ann}",
        f"a=1; sg_session={stack.ann}; b=2; sg_session={stack.ann}",
        f"sg_session={stack.ann};sg_session={stack.ann};c=3",
        f"x=1;  sg_session  ={stack.ann}",
    ]
    for cookie in cookies:
        got = request(stack.port, "/debug/headers", cookie=cookie).json()
        received = {name.lower(): value for name, value in got["headers"]}
        assert "sg_session" not in received.get("cookie", ""), (cookie, received.get("cookie"))
        assert received["remote-user"] == "ann@corp.test"
    # Several Cookie headers (as HTTP/2 sends them): joined by nginx, and still without the session.
    got = request(
        stack.port, "/debug/headers", headers=(("Cookie", f"sg_session={stack.ann}"), ("Cookie", "theme=dark"))
    ).json()
    received = [(name.lower(), value) for name, value in got["headers"]]
    assert [v for n, v in received if n == "cookie"] == ["theme=dark"]


def test_the_check_is_told_this_servers_name_whatever_host_the_client_wrote(stack):
    # other.corp.test admits any signed-in employee; customers.corp.test's records need customer-data.  Bob may
    # not read a record, however he names the host.
    for target, host in (
        ("/customers/1042", APP_HOST),
        (f"http://{APP_HOST}/customers/1042", "other.corp.test"),  # the request line's host picks the server
        ("/customers/1042", "CUSTOMERS.corp.test."),
    ):
        answer = request(stack.port, target, host=host, session=stack.bob)
        assert_readable_refusal(answer, "forbidden", "You may not open this page")
    # A host no server here names: refused by nginx before anything is asked or proxied.
    assert request(stack.port, "/customers/1042", host="other.corp.test", session=stack.bob).status == 421
    assert request(stack.port, "/customers/1042", host=f"{AUTH_HOST}", session=stack.ann).status == 421
    # The check's own location is not for clients.
    assert request(stack.port, "/internal/smishguard/authz", session=stack.ann).status == 404


def test_crafted_paths_are_refused_and_never_reach_the_app(stack):
    # Bob may open /static/ (any signed-in employee) but no customer record.
    assert request(stack.port, "/static/console.css", session=stack.bob).status == 200
    for path, reason in (
        ("/static/../customers/1043", "forbidden"),  # dot segments: judged as /customers/1043
        ("/static/%2e%2e/customers/1043", "forbidden"),
        ("/static//..//customers/1043", "forbidden"),
        ("/customers%2F1043", "encoded_slash"),
        ("/static/..%2Fcustomers/1043", "encoded_slash"),
        ("/static/%252e%252e/customers/1043", "double_encoding"),
        ("/static%252F..%252Fcustomers/1043", "double_encoding"),
        ("/static/%5c..%5ccustomers/1043", "encoded_backslash"),
        ("/static/%ff/customers/1043", "invalid_utf8"),
    ):
        answer = request(stack.port, path, session=stack.bob)
        if reason == "forbidden":
            assert_readable_refusal(answer, reason, "You may not open this page")
        else:
            assert_readable_refusal(answer, reason, "This address cannot be opened")
        assert "gateway refuses to pass on" in answer.body or reason == "forbidden"
    # NUL: nginx refuses it itself (400), before anything is asked.
    assert request(stack.port, "/static/%00/customers/1043", session=stack.bob).status == 400
    # An allowed path in the query string does not make a refused path allowed.
    for path in ("/admin?next=/static/console.css", "/customers/1043?/static/", "/export?x=/customers/"):
        answer = request(stack.port, path, session=stack.bob)
        assert_readable_refusal(answer, "forbidden", "You may not open this page")
    assert not stack.app_saw("1043")


def test_refusals_by_group_method_and_network(stack):
    # Group: Bob is not in customer-data.
    assert_readable_refusal(
        request(stack.port, "/customers/1044", session=stack.bob), "forbidden", "You may not open this page"
    )
    # Method: the record rule is GET and HEAD only.
    assert request(stack.port, "/customers/1044", method="HEAD", session=stack.ann).status == 200
    for method in ("POST", "DELETE", "PUT"):
        assert_readable_refusal(
            request(stack.port, "/customers/1044", method=method, session=stack.ann),
            "forbidden",
            "You may not open this page",
        )
    # Network: /branch/ only from 127.0.0.3 (nginx's X-Forwarded-For names the client to smishguard).
    assert_readable_refusal(
        request(stack.port, "/branch/report", session=stack.ann), "forbidden", "You may not open this page"
    )
    assert not stack.app_saw("/branch/report")
    reached = request(stack.port, "/branch/report", session=stack.ann, source="127.0.0.3")
    assert reached.status == 404  # through the gateway: the app itself has no such page
    assert "There is no such page." in reached.body
    wait_until(lambda: stack.app_saw("GET /branch/report"), "the app logging the request it served")
    # A spoofed X-Forwarded-For does not move the client into the network.
    answer = request(stack.port, "/branch/other", session=stack.ann, headers=(("X-Forwarded-For", "127.0.0.3"),))
    assert_readable_refusal(answer, "forbidden", "You may not open this page")


def test_an_nginx_outside_the_trusted_proxies_is_refused(stack):
    answer = request(stack.untrusted_port, "/customers/1045", session=stack.ann)
    assert_readable_refusal(answer, "untrusted_proxy", "The gateway does not accept this server")
    assert not stack.app_saw("1045")
    # Asked directly from 127.0.0.2, with every header describing a request: nothing of it is read.
    lines = [
        "GET /api/authz/auth-request HTTP/1.1",
        f"Host: {AUTH_HOST}",
        "Connection: close",
        "X-Original-Method: GET",
        f"X-Original-URL: http://{APP_HOST}/customers/1045",
        f"Cookie: sg_session={stack.ann}",
    ]
    port = int(urlsplit(stack.auth_origin).port)
    answer = send(port, ("\r\n".join(lines) + "\r\n\r\n").encode(), source="127.0.0.2")
    assert answer.status == 401
    assert answer.header("X-Smishguard-Reason") == "untrusted_proxy"
    assert answer.header("Location") is None
    assert answer.header("Remote-User") is None


def test_a_host_no_rule_names_gets_a_readable_refusal(stack):
    answer = request(stack.unknown_port, "/customers/1046", host="nowhere.corp.test", session=stack.ann)
    assert_readable_refusal(answer, "unknown_host", "This site is not set up in the gateway")
    assert "Tell IT" in answer.body


def test_a_check_that_does_not_answer_gets_a_readable_page_and_nothing_through(stack):
    answer = request(stack.down_port, "/customers/1049", session=stack.ann)
    assert answer.status == 503
    assert answer.header("X-Smishguard-Reason") == "unavailable"
    assert "<h1 id=title>The access check did not answer</h1>" in answer.body
    assert not stack.app_saw("1049")


def test_the_access_log_has_the_raw_path_without_the_query_string_and_the_reason(stack):
    request(stack.port, "/customers%2F1050?token=secret-in-query", session=stack.bob)
    request(stack.port, "/customers/1051?token=secret-in-query", session=stack.ann)

    def lines() -> list[str]:
        return stack.nginx_log.read_text(errors="replace").splitlines()

    wait_until(
        lambda: any("1050" in line for line in lines()) and any("1051" in line for line in lines()),
        "both requests in nginx's access log",
    )
    text = "\n".join(lines())
    assert "secret-in-query" not in text
    refused = next(line for line in lines() if "1050" in line)
    assert '"GET /customers%2F1050 HTTP/1.1" 403' in refused
    assert "reason=encoded_slash" in refused
    admitted = next(line for line in lines() if "1051" in line)
    assert 'user="ann@corp.test"' in admitted


def test_step_up_sends_to_the_sign_in_page_in_step_up_mode_and_one_touch_lets_through(stack):
    django_eval(
        stack.env,
        "from datetime import timedelta\nfrom django.utils import timezone\n"
        "from smishguard.accounts.models import Session\n"
        "Session.objects.filter(employee__email='ann@corp.test').update("
        "last_assertion_at=timezone.now() - timedelta(hours=1))\n",
    )
    original = f"http://{APP_HOST}:{stack.port}/customers/1047/export"
    answer = request(stack.port, "/customers/1047/export", session=stack.ann)
    assert answer.status == 302
    assert answer.header("X-Smishguard-Reason") == "step_up"
    query = parse_qs(urlsplit(answer.header("Location")).query)
    assert query == {"rd": [original], "rm": ["GET"], "stepup": ["1"]}
    assert not stack.app_saw("/customers/1047/export")
    # The record page (a signed_in rule) does not ask for it.
    assert request(stack.port, "/customers/1047", session=stack.ann).status == 200

    # One touch of Ann's key, on smishguard's step-up API (what the sign-in page in step-up mode does).
    status, options = stack.browser.api("/api/webauthn/stepup/options", {})
    assert status == 200, options
    status, body = stack.browser.api("/api/webauthn/stepup/verify", {**stack.key.assertion(options), "next": original})
    assert status == 200, body
    assert body["redirect"] == original
    answer = request(stack.port, "/customers/1047/export", session=stack.ann)
    assert answer.status == 200
    assert answer.header("Content-Type") == "text/csv"
    assert answer.body.startswith('id,name,company,email,phone,city\n"1047",')


def test_a_bulk_read_is_contained_at_the_sixth_customer_and_the_team_alerted(stack):
    """Cy may read at most 5 distinct customers ([gateway.containment.groups.bulk-readers]): the 6th read through
    nginx is refused with the readable page, every session of Cy's is signed out at once, the security team's
    webhook gets the alert (delivered by the worker), and the breach scope (`smishguard incident scope`) and the
    access record say Cy read exactly what this test read."""
    since = datetime.now(UTC).isoformat()
    for n in range(5):
        assert request(stack.port, f"/customers/{1100 + n}", session=stack.cy).status == 200
    assert request(stack.port, "/customers/1100", session=stack.cy).status == 200  # a repeat does not count
    sixth = request(stack.port, "/customers/1105", session=stack.cy)
    assert_readable_refusal(sixth, "bulk_read_contained", "Your access to customer records is paused")
    assert not stack.app_saw("/customers/1105")
    # Signed out at once: the very next request goes to the sign-in page.
    assert request(stack.port, "/customers/1100", session=stack.cy).status == 302
    smishguard(stack.env, "worker", "--until-idle", "--timeout", "120")
    wait_until(lambda: any(body.get("event") == "bulk_read_contained" for body, _ in stack.hook.received), "alert")
    [alert] = [body for body, _ in stack.hook.received if body.get("event") == "bulk_read_contained"]
    assert alert["employee"]["email"] == "cy@corp.test"
    assert alert["customers"] == 6
    exported = smishguard(stack.env, "gateway", "access", "export", "--user", "cy@corp.test").stdout.splitlines()
    rows = [json.loads(line) for line in exported]
    admitted = sorted({row["customer"] for row in rows if row["decision"] == "allow"})
    assert admitted == [str(1100 + n) for n in range(5)]
    assert {row["host"] for row in rows} == {APP_HOST}
    assert [(row["customer"], row["reason"]) for row in rows if row["decision"] != "allow"] == [
        ("1105", "bulk_read_contained")
    ]
    scope = json.loads(
        smishguard(
            stack.env, "incident", "scope", "--user", "cy@corp.test", "--since", since, "--format", "json"
        ).stdout
    )
    assert scope["users"] == ["cy@corp.test"]
    assert (scope["total_customers"], scope["total_reads"]) == (5, 6)  # customer 1100 read twice
    assert sorted((c["host"], c["customer"], c["reads"]) for c in scope["customers"]) == [
        (APP_HOST, str(1100 + n), 2 if n == 0 else 1) for n in range(5)
    ]
    assert scope["refused"]["total"] == 1
    assert [(c["customer"], c["attempts"]) for c in scope["refused"]["customers"]] == [("1105", 1)]


def workers(log: Path, status: int, since: int) -> set[str]:
    pids = set()
    for line in log.read_text().splitlines()[since:]:
        pid, code, _method, path = line.split()
        if path == "/api/authz/auth-request" and int(code) == status:
            pids.add(pid)
    return pids


def test_revocation_refuses_the_very_next_request_in_every_worker(stack):
    # Last in the module: it ends Ann's session.
    with ThreadPoolExecutor(max_workers=6) as pool:

        def burst(n: int) -> list[int]:
            return list(pool.map(lambda _: request(stack.port, "/customers/1048", session=stack.ann).status, range(n)))

        for _ in range(50):
            assert set(burst(12)) == {200}
            if len(workers(stack.check_log, 200, 0)) >= 2:
                break
        assert len(workers(stack.check_log, 200, 0)) == 2, "both workers should have admitted Ann"
        mark = len(stack.check_log.read_text().splitlines())

        result = smishguard(stack.env, "sessions", "revoke", "--user", "ann@corp.test")
        assert "revoked 1 session(s)" in result.stdout

        answer = request(stack.port, "/customers/1048", session=stack.ann)
        assert (answer.status, answer.header("X-Smishguard-Reason")) == (302, "signed_out")
        for _ in range(50):
            assert set(burst(12)) == {302}
            if len(workers(stack.check_log, 401, mark)) >= 2:
                break
        assert len(workers(stack.check_log, 401, mark)) == 2, "both workers should have refused Ann"
    # Bob's session is untouched (his refusal is his group's, not a sign-in).
    assert request(stack.port, "/static/console.css", session=stack.bob).status == 200


def test_the_shipped_files_load_together_with_tls_in_nginx(tmp_path):
    """deploy/nginx.conf (smishguard's own host) and deploy/nginx-gateway.conf as shipped (TLS on 443, the
    redirect on 80; only paths and ports changed) load side by side: no name defined twice."""
    https_port, http_port = free_port(), free_port()
    smishguard_site = site_config(tmp_path, https_port=https_port, http_port=http_port, app_ports=[8000])
    cert, key = self_signed(tmp_path)
    gateway = (ROOT / "deploy" / "nginx-gateway.conf").read_text(encoding="utf-8")
    for old, new in (
        ("/var/log/nginx/", f"{tmp_path}/"),
        ("/etc/ssl/smishguard/customers/fullchain.pem", str(cert)),
        ("/etc/ssl/smishguard/customers/privkey.pem", str(key)),
        ("listen 443 ", f"listen 127.0.0.1:{https_port} "),
        ("listen 80 ", f"listen 127.0.0.1:{http_port} "),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
    ):
        assert old in gateway, old
        gateway = gateway.replace(old, new)
    (tmp_path / "smishguard.conf").write_text(smishguard_site, encoding="utf-8")
    (tmp_path / "gateway.conf").write_text(gateway, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  include {tmp_path}/smishguard.conf;\n  include {tmp_path}/gateway.conf;\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    # The plain-http form the tests and the demo run is the same file with the TLS lines left out.
    assert "proxy_pass http://customer_console;" in gateway_config(
        tmp_path, port=1, redirect_port=2, auth_host="a.test", app_host="b.test", check_port=3, app_port=4
    )
