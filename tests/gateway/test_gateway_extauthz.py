"""Issue 14: ``/api/authz/ext-authz/<path>``, the check in Envoy's HTTP ext_authz dialect.

What Envoy's ext_authz HTTP service sends (envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto): the
original request's method; ``path_prefix`` followed by the original ``:path`` (query string included); ``Host``
(the original authority), ``Content-Length: 0`` and ``Authorization`` always, other client headers only as
``allowed_headers`` lists them (the shipped snippet: ``Cookie``, ``Accept``, ``X-Requested-With``,
``X-Forwarded-For``); ``headers_to_add`` (``X-Forwarded-Proto: %REQ(:SCHEME)%``).  The path is read from the raw
request target (gunicorn's ``RAW_URI``): PATH_INFO is already percent-decoded, so ``%2F`` would look like ``/``.

The first tests use Django's test client with ``RAW_URI`` set as gunicorn sets it (the test client, like
``runserver``, gives none: that is refused); the last ones send raw HTTP to a real ``smishguard serve``.
In SQLite and production mode alike."""

from __future__ import annotations

import dataclasses
import json
import socket
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from gateway_checks import DIALECTS_POLICY, signed_in, use_policy
from servers import Database, clean_env, django_eval, free_port, serve, smishguard, stop, wait_for

from smishguard.accounts import sessions
from smishguard.accounts.models import Session
from smishguard.audit import Action
from smishguard.audit.models import Event

PREFIX = "/api/authz/ext-authz"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def gateway(settings):
    use_policy(settings, DIALECTS_POLICY)


@pytest.fixture
def bob(bob, gateway):
    """tests/gateway/conftest.py's Bob, under this file's policy (tests that ask the real server need neither)."""
    return bob


@pytest.fixture
def carol(carol, gateway):
    return carol


def envoy(
    client: Client,
    target: str,
    method: str = "GET",
    *,
    host: str = "customers.example.com",
    accept: str = BROWSER_ACCEPT,
    raw: bool = True,
    **extra,
):
    """What Envoy's ext_authz asks for ``method https://host target``, from 127.0.0.1, as gunicorn gives it."""
    path = PREFIX + target
    headers = {
        "HTTP_HOST": host,
        "HTTP_ACCEPT": accept,
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_FOR": "192.0.2.10",
        "HTTP_X_ENVOY_EXPECTED_RQ_TIMEOUT_MS": "250",
        "REMOTE_ADDR": "127.0.0.1",
    }
    if raw:
        headers["RAW_URI"] = path
    headers.update(extra)
    return client.generic(method, path, **headers)


def test_an_employee_in_the_rules_group_is_admitted_with_the_identity_headers(bob):
    client, _ = signed_in(bob)
    for method in ("GET", "HEAD"):
        response = envoy(client, "/customers/42?tab=notes", method)
        assert response.status_code == 200
        assert response["Remote-User"] == "bob@example.com"
        assert response["Remote-Email"] == "bob@example.com"
        assert response["Remote-Name"] == "Bob Builder"
        assert response["Remote-Groups"] == "security,support"
        assert "X-Smishguard-Reason" not in response


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(("GET", BROWSER_ACCEPT, {}, 302), id="browser-get"),
        pytest.param(("HEAD", BROWSER_ACCEPT, {}, 302), id="browser-head"),
        pytest.param(("OPTIONS", BROWSER_ACCEPT, {}, 302), id="browser-options"),
        pytest.param(("POST", BROWSER_ACCEPT, {}, 303), id="browser-post"),
        pytest.param(("PUT", BROWSER_ACCEPT, {}, 303), id="browser-put"),
        pytest.param(("GET", BROWSER_ACCEPT, {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}, 401), id="xhr"),
        pytest.param(("GET", "application/json", {}, 401), id="api-client"),
        pytest.param(("DELETE", "*/*", {}, 401), id="curl-delete"),
    ],
)
def test_signed_out_a_browser_is_redirected_to_sign_in_and_anything_else_gets_401(db, gateway, settings, case):
    method, accept, extra, status = case
    client = Client()
    client.handler.enforce_csrf_checks = True
    response = envoy(client, "/secrets/1?tab=notes", method, host="vault.example.com", accept=accept, **extra)
    assert response.status_code == status
    assert response["X-Smishguard-Reason"] == "signed_out"
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == settings.SMISHGUARD.origin
    assert location.path == reverse("passkeys:signin")
    assert parse_qs(location.query) == {"rd": ["https://vault.example.com/secrets/1?tab=notes"], "rm": [method]}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "CONNECT"])
def test_any_method_is_checked_never_the_csrf_page_nor_a_500(bob, method):
    client, _ = signed_in(bob)
    client.handler.enforce_csrf_checks = True
    response = envoy(client, "/customers/42", method)
    assert response.status_code == 403  # the rule is for GET and HEAD
    assert response["X-Smishguard-Reason"] == "forbidden"
    assert b"CSRF" not in response.content
    allowed = envoy(client, "/secrets/1", method, host="vault.example.com")
    assert allowed.status_code == 200
    assert allowed["Remote-User"] == "bob@example.com"


def test_a_step_up_rule_with_a_stale_key_touch_asks_for_the_key(bob):
    client, session = signed_in(bob)
    Session.objects.filter(pk=session.pk).update(last_assertion_at=timezone.now() - timedelta(seconds=301))
    page = envoy(client, "/secrets/1", host="vault.example.com")
    assert page.status_code == 302
    assert page["X-Smishguard-Reason"] == "step_up"
    assert parse_qs(urlsplit(page["Location"]).query)["stepup"] == ["1"]
    api = envoy(client, "/secrets/1", "POST", host="vault.example.com", accept="application/json")
    assert (api.status_code, api["X-Smishguard-Reason"]) == (401, "step_up")
    Session.objects.filter(pk=session.pk).update(last_assertion_at=timezone.now())
    assert envoy(client, "/secrets/1", host="vault.example.com").status_code == 200


def test_refused_by_group_method_and_network(bob, carol, settings):
    bobs, _ = signed_in(bob)
    carols, _ = signed_in(carol)
    group = envoy(carols, "/customers/42")
    assert (group.status_code, group["X-Smishguard-Reason"]) == (403, "forbidden")
    method = envoy(bobs, "/customers/42", "DELETE")
    assert (method.status_code, method["X-Smishguard-Reason"]) == (403, "forbidden")
    outside = envoy(bobs, "/", host="intranet.example.com", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert (outside.status_code, outside["X-Smishguard-Reason"]) == (403, "forbidden")  # XFF not believed
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, trusted_proxies=("127.0.0.1/32",))
    assert envoy(bobs, "/", host="intranet.example.com", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    elsewhere = envoy(bobs, "/", host="intranet.example.com", HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert (elsewhere.status_code, elsewhere["X-Smishguard-Reason"]) == (403, "forbidden")


def test_a_revoked_session_is_refused_on_the_very_next_check(bob):
    client, session = signed_in(bob)
    assert envoy(client, "/customers/42").status_code == 200
    assert sessions.revoke(Session.objects.filter(pk=session.pk), reason="signed out") == 1
    response = envoy(client, "/customers/42", accept="application/json")
    assert (response.status_code, response["X-Smishguard-Reason"]) == (401, "signed_out")
    assert "Remote-User" not in response


def test_a_peer_outside_the_gateways_trusted_proxies_gets_401_and_one_audit_event(bob):
    client, _ = signed_in(bob)
    for method in ("GET", "POST"):
        response = envoy(client, "/customers/42", method, REMOTE_ADDR="127.0.0.2")
        assert (response.status_code, response["X-Smishguard-Reason"]) == (401, "untrusted_proxy")
        assert "Location" not in response
        assert "Remote-User" not in response
    [event] = Event.objects.filter(action=Action.GATEWAY_CHECK_UNTRUSTED_PROXY.value)
    assert event.detail["dialect"] == "ext-authz"
    assert event.detail["peer"] == "127.0.0.2"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        pytest.param({"raw": False}, "raw_uri_unavailable", id="no-raw-uri"),
        pytest.param({"HTTP_X_FORWARDED_PROTO": ""}, "missing_header", id="no-proto"),
        pytest.param({"HTTP_X_FORWARDED_PROTO": "https, http"}, "bad_url", id="proto-twice"),
        pytest.param({"host": "customers.example.com, admin.example.com"}, "bad_host", id="host-twice"),
        pytest.param({"host": "customers.example.com?"}, "bad_host", id="host-with-query"),
        pytest.param({"host": "bob@customers.example.com"}, "bad_host", id="host-userinfo"),
        pytest.param({"RAW_URI": PREFIX + "%2Fcustomers/42"}, "bad_url", id="encoded-slash-in-the-prefix"),
        pytest.param({"RAW_URI": "/api/authz/%65xt-authz/customers/42"}, "bad_url", id="encoded-prefix"),
        pytest.param({"RAW_URI": "http://127.0.0.1" + PREFIX + "/customers/42"}, "bad_url", id="absolute-form"),
    ],
)
def test_what_cannot_be_read_one_way_is_refused(bob, extra, reason):
    client, _ = signed_in(bob)
    response = envoy(client, "/customers/42", **extra)
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == reason
    assert "Remote-User" not in response


def test_the_bare_prefix_is_refused(bob):
    client, _ = signed_in(bob)
    response = client.get(PREFIX, HTTP_HOST="customers.example.com", HTTP_X_FORWARDED_PROTO="https", RAW_URI=PREFIX)
    assert (response.status_code, response["X-Smishguard-Reason"]) == (403, "bad_url")


# (original path as Envoy sends it, status, reason or None)
TARGETS = [
    pytest.param("/customers%2F42", 403, "encoded_slash", id="encoded-slash"),
    pytest.param("/customers/..%2Fadmin", 403, "encoded_slash", id="encoded-slash-after-dots"),
    pytest.param("/customers%5C42", 403, "encoded_backslash", id="encoded-backslash"),
    pytest.param("/customers%252F42", 403, "double_encoding", id="double-encoding"),
    pytest.param("/customers/%252e%252e/admin", 403, "double_encoding", id="double-encoded-dots"),
    pytest.param("/customers/%2e%2e/admin", 403, "forbidden", id="encoded-dot-segments"),
    pytest.param("/customers/../admin", 403, "forbidden", id="dot-segments-to-denied"),
    pytest.param("/admin/../customers/42", 200, None, id="dot-segments-to-allowed"),
    pytest.param("//customers//42", 200, None, id="repeated-slashes"),
    pytest.param("/admin?next=/customers/42", 403, "forbidden", id="allowed-in-query"),
    pytest.param("/other?/customers/42", 403, "forbidden", id="allowed-in-bare-query"),
    pytest.param("/customers/%00", 403, "nul", id="encoded-nul"),
    pytest.param("/customers/%ff", 403, "invalid_utf8", id="invalid-utf8"),
]


@pytest.mark.parametrize(("target", "status", "reason"), TARGETS)
def test_paths_are_refused_or_matched_on_the_normalised_path(bob, target, status, reason):
    client, _ = signed_in(bob)
    response = envoy(client, target)
    assert response.status_code == status
    if reason is None:
        assert response["Remote-User"] == "bob@example.com"
    else:
        assert response["X-Smishguard-Reason"] == reason
        assert "Remote-User" not in response


def test_an_unknown_host_is_refused(bob):
    client, _ = signed_in(bob)
    response = envoy(client, "/customers/42", host="elsewhere.example.org")
    assert (response.status_code, response["X-Smishguard-Reason"]) == (403, "unknown_host")


# --- through a real `smishguard serve` (gunicorn), raw HTTP, as Envoy (and Caddy) would send it -------------------

SERVED_POLICY = """
[gateway]
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/admin"]
policy = "deny"

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["GET", "HEAD"]
subject = ["group:support"]
policy = "signed_in"
"""


def raw_http(port: int, request: str, *, source: str = "127.0.0.1") -> tuple[int, dict[str, str]]:
    """Send ``request`` (the request line and headers, as written) from ``source``; (status, headers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as conn:
        conn.sendall(request.encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), headers


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """smishguard serve on a database of its own, Bob (support) with a live session; (port, token, env)."""
    root = tmp_path_factory.mktemp("extauthz")
    config = root / "smishguard.toml"
    config.write_text(SERVED_POLICY)
    env = clean_env(root / "var", SMISHGUARD_CONFIG=str(config))
    smishguard(env, "migrate")
    smishguard(env, "employees", "add", "bob@example.com", "--name", "Bob", "--group", "support")
    token = django_eval(
        env,
        "import json\n"
        "from smishguard.accounts import sessions\n"
        "from smishguard.accounts.models import Employee\n"
        "token, _ = sessions.create(Employee.objects.get(email='bob@example.com'), request=None)\n"
        "print(json.dumps(token))\n",
    )
    port = free_port()
    process = serve(env, port, workers=1, log=root / "serve.log")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield port, json.loads(token), env
    finally:
        stop(process)


def envoy_request(target: str, token: str, method: str = "GET", *, host: str = "customers.example.com") -> str:
    return (
        f"{method} {PREFIX}{target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n"
        f"Cookie: sg_session={token}\r\nAccept: application/json\r\nX-Forwarded-Proto: https\r\n"
        "X-Forwarded-For: 192.0.2.10\r\nConnection: close\r\n\r\n"
    )


# (original path, status, reason or None), sent as raw bytes: gunicorn decodes PATH_INFO, the check reads RAW_URI.
SERVED = [
    pytest.param("/customers/42", 200, None, id="allowed"),
    pytest.param("/customers/42?tab=notes", 200, None, id="allowed-with-query"),
    pytest.param("/customers%2F42", 403, "encoded_slash", id="encoded-slash"),
    pytest.param("/customers/..%2Fadmin", 403, "encoded_slash", id="encoded-slash-after-dots"),
    pytest.param("/customers/%2e%2e/admin", 403, "forbidden", id="encoded-dot-segments"),
    pytest.param("/customers/../admin", 403, "forbidden", id="dot-segments"),
    pytest.param("/customers%252F42", 403, "double_encoding", id="double-encoding"),
    pytest.param("/customers/%252e%252e/admin", 403, "double_encoding", id="double-encoded-dots"),
    pytest.param("/admin?next=/customers/42", 403, "forbidden", id="allowed-in-query"),
    pytest.param("/admin?/customers/42", 403, "forbidden", id="allowed-in-bare-query"),
]


@pytest.mark.parametrize(("target", "status", "reason"), SERVED)
def test_through_smishguard_serve_raw_paths_are_read_as_sent(served, target, status, reason):
    port, token, _ = served
    answer, headers = raw_http(port, envoy_request(target, token))
    assert answer == status
    if reason is None:
        assert headers["remote-user"] == "bob@example.com"
    else:
        assert headers["x-smishguard-reason"] == reason
        assert "remote-user" not in headers


def test_through_smishguard_serve_the_prefix_itself_encoded_is_refused_and_any_method_is_answered(served):
    port, token, _ = served
    encoded, headers = raw_http(port, envoy_request("/customers/42", token).replace("ext-authz/", "ext-authz%2F", 1))
    assert (encoded, headers["x-smishguard-reason"]) == (403, "bad_url")
    for method in ("POST", "DELETE", "PROPFIND"):
        status, headers = raw_http(port, envoy_request("/customers/42", token, method))
        assert (status, headers["x-smishguard-reason"]) == (403, "forbidden")


def test_through_smishguard_serve_caddys_forward_auth_with_the_apps_host(served):
    """Caddy's forward_auth keeps the app's Host; smishguard's ALLOWED_HOSTS need not name it."""
    port, token, _ = served

    def caddy(uri: str) -> tuple[int, dict[str, str]]:
        return raw_http(
            port,
            "GET /api/authz/forward-auth HTTP/1.1\r\nHost: customers.example.com\r\n"
            f"Cookie: sg_session={token}\r\nAccept: application/json\r\nX-Forwarded-Method: GET\r\n"
            f"X-Forwarded-Proto: https\r\nX-Forwarded-Host: customers.example.com\r\nX-Forwarded-Uri: {uri}\r\n"
            "X-Forwarded-For: 192.0.2.10\r\nConnection: close\r\n\r\n",
        )

    status, headers = caddy("/customers/42")
    assert (status, headers["remote-user"]) == (200, "bob@example.com")
    status, headers = caddy("/customers%2F42")
    assert (status, headers["x-smishguard-reason"]) == (403, "encoded_slash")


def test_through_smishguard_serve_a_peer_outside_trusted_proxies_gets_401_and_one_audit_event(served):
    port, token, env = served
    for _ in range(2):
        status, headers = raw_http(port, envoy_request("/customers/42", token), source="127.0.0.2")
        assert (status, headers["x-smishguard-reason"]) == (401, "untrusted_proxy")
        assert "remote-user" not in headers
    with Database(env) as db:
        rows = db.execute(
            "SELECT detail FROM audit_event WHERE action = ?", (Action.GATEWAY_CHECK_UNTRUSTED_PROXY.value,)
        ).fetchall()
    details = [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]
    assert [(d["dialect"], d["peer"]) for d in details] == [("ext-authz", "127.0.0.2")]
