"""Issue 14: ``GET /api/authz/auth-request``, the check in nginx's dialect, through Django's test client.

X-Original-Method and X-Original-URL are read only from a peer in ``[gateway] trusted_proxies``; the session is
looked up on every request (a revocation counts at once); the answers are 200 with the Remote-* headers, 401 with
a Location to the sign-in page (``rd``, ``rm``; ``stepup=1`` in step-up mode), or 403, each refusal with its
X-Smishguard-Reason.  In SQLite and in production mode alike (the test client, the test database)."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from gateway_checks import AUTH_REQUEST, ask, signed_in, use_policy

from smishguard.accounts import sessions
from smishguard.accounts.models import Session
from smishguard.accounts.services import add_employee
from smishguard.audit import Action
from smishguard.audit.models import Event

CHECK = AUTH_REQUEST

POLICY = """
[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/admin"]
policy = "deny"

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
subject = ["group:support"]
policy = "signed_in"

[[gateway.rules]]
domain = "vault.example.com"
subject = ["group:support"]
policy = "step_up"
reauth_max_age = 300
"""


@pytest.fixture(autouse=True)
def gateway(settings):
    use_policy(settings, POLICY)


def test_no_session_is_asked_to_sign_in_with_a_location_holding_rd_and_rm(db, settings):
    url = "https://customers.example.com/customers/42?tab=notes"
    response = ask(Client(), url, method="POST")
    assert response.status_code == 401
    assert response["X-Smishguard-Reason"] == "signed_out"
    assert response.content == b""
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == settings.SMISHGUARD.origin
    assert location.path == reverse("passkeys:signin")
    assert parse_qs(location.query) == {"rd": [url], "rm": ["POST"]}


def test_an_employee_in_the_rules_group_is_admitted_with_the_remote_headers(bob):
    client, _ = signed_in(bob)
    response = ask(client, "https://customers.example.com/customers/42")
    assert response.status_code == 200
    assert response.content == b""
    assert response["Remote-User"] == "bob@example.com"
    assert response["Remote-Email"] == "bob@example.com"
    assert response["Remote-Name"] == "Bob Builder"
    assert response["Remote-Groups"] == "security,support"
    assert "X-Smishguard-Reason" not in response
    head = client.head(
        CHECK,
        HTTP_X_ORIGINAL_METHOD="HEAD",
        HTTP_X_ORIGINAL_URL="https://customers.example.com/customers/42",
    )
    assert head.status_code == 200


def _writes(queries) -> list[str]:
    verbs = [q["sql"].lstrip().split(None, 1)[0].upper() for q in queries]
    return [verb for verb in verbs if verb in ("INSERT", "UPDATE", "DELETE")]


def test_an_admitted_check_writes_nothing_but_a_customer_routes_access_row(bob):
    client, _ = signed_in(bob)
    events = Event.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert ask(client, "https://vault.example.com/secrets/1").status_code == 200  # no customer group
    assert _writes(queries) == []
    assert ask(client, "https://customers.example.com/customers/41").status_code == 200  # the employee's first
    with CaptureQueriesContext(connection) as queries:
        assert ask(client, "https://customers.example.com/customers/42").status_code == 200
    # The access record (gateway.access): one INSERT, and the customer's CustomerRead row for containment's count
    # (an upsert: INSERT ... ON CONFLICT DO UPDATE); no other write (docs/gateway.md).
    assert _writes(queries) == ["INSERT", "INSERT"]
    assert "ON CONFLICT" in [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")][1]
    assert Event.objects.count() == events


def test_an_employee_outside_the_rules_group_is_forbidden(carol):
    client, _ = signed_in(carol)
    response = ask(client, "https://customers.example.com/customers/42")
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == "forbidden"
    assert "Location" not in response
    assert "Remote-User" not in response


def test_a_deny_rule_is_forbidden_even_to_the_group(bob):
    client, _ = signed_in(bob)
    response = ask(client, "https://customers.example.com/admin/users")
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == "forbidden"


def test_a_step_up_rule_with_a_stale_key_touch_asks_for_the_key_and_a_fresh_one_is_admitted(bob, settings):
    client, session = signed_in(bob)
    url = "https://vault.example.com/secrets/1"
    assert ask(client, url).status_code == 200
    Session.objects.filter(pk=session.pk).update(last_assertion_at=timezone.now() - timedelta(seconds=301))
    response = ask(client, url)
    assert response.status_code == 401
    assert response["X-Smishguard-Reason"] == "step_up"
    location = urlsplit(response["Location"])
    assert location.path == reverse("passkeys:signin")
    assert parse_qs(location.query) == {"rd": [url], "rm": ["GET"], "stepup": ["1"]}
    Session.objects.filter(pk=session.pk).update(last_assertion_at=timezone.now())
    assert ask(client, url).status_code == 200


def test_a_revoked_session_is_refused_on_the_very_next_request(bob):
    client, session = signed_in(bob)
    url = "https://customers.example.com/customers/42"
    assert ask(client, url).status_code == 200
    assert sessions.revoke(Session.objects.filter(pk=session.pk), reason="signed out") == 1
    response = ask(client, url)
    assert response.status_code == 401
    assert response["X-Smishguard-Reason"] == "signed_out"
    assert "Remote-User" not in response


def test_a_peer_outside_the_gateways_trusted_proxies_is_refused_and_audited_once_per_window(bob):
    client, _ = signed_in(bob)
    url = "https://customers.example.com/customers/42"
    answers = [ask(client, url, REMOTE_ADDR="127.0.0.2", HTTP_X_FORWARDED_FOR="127.0.0.1") for _ in range(2)]
    for response in answers:
        assert response.status_code == 401
        assert response["X-Smishguard-Reason"] == "untrusted_proxy"
        assert "Location" not in response
        assert "Remote-User" not in response
    [event] = Event.objects.filter(action=Action.GATEWAY_CHECK_UNTRUSTED_PROXY.value)
    assert event.detail["reason"] == "untrusted_proxy"
    assert event.detail["peer"] == "127.0.0.2"
    assert event.detail["earlier_refusals"] == 0
    # The same request from the trusted proxy is answered.
    assert ask(client, url, REMOTE_ADDR="127.0.0.1").status_code == 200


# (URL, status, reason or None): refused as sent, or matched on the normalised path without the query string.
URLS = [
    pytest.param("https://customers.example.com/customers%2F42", 403, "encoded_slash", id="encoded-slash"),
    pytest.param("https://customers.example.com/customers%252F42", 403, "double_encoding", id="double-encoding"),
    pytest.param("https://customers.example.com/customers/%2e%2e/admin", 403, "forbidden", id="encoded-dot-segments"),
    pytest.param("https://customers.example.com/admin/../customers/42", 200, None, id="dot-segments-to-allowed"),
    pytest.param("https://customers.example.com/x/..//admin", 403, "forbidden", id="dot-segments-to-denied"),
    pytest.param("https://customers.example.com//customers//42", 200, None, id="repeated-slashes"),
    pytest.param("https://customers.example.com/admin?next=/customers/42", 403, "forbidden", id="allowed-in-query"),
    pytest.param("https://customers.example.com/other?/customers/42", 403, "forbidden", id="allowed-in-bare-query"),
    pytest.param("https://customers.example.com/customers\\42", 403, "backslash", id="backslash"),
    pytest.param("https://customers.example.com/customers/%00", 403, "nul", id="nul"),
    pytest.param("https://unknown.example.com/customers/42", 403, "unknown_host", id="unknown-host"),
    pytest.param("/customers/42", 403, "bad_url", id="relative-url"),
]


@pytest.mark.parametrize(("url", "status", "reason"), URLS)
def test_urls_are_refused_or_matched_on_the_normalised_path(bob, url, status, reason):
    client, _ = signed_in(bob)
    response = ask(client, url)
    assert response.status_code == status
    if reason is None:
        assert "X-Smishguard-Reason" not in response
        assert response["Remote-User"] == "bob@example.com"
    else:
        assert response["X-Smishguard-Reason"] == reason
        assert "Remote-User" not in response


def test_an_unknown_host_is_refused_signed_out_too(db):
    response = ask(Client(), "https://elsewhere.example.org/")
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == "unknown_host"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_X_ORIGINAL_URL": "https://customers.example.com/customers/42"}, id="no-method"),
        pytest.param({"HTTP_X_ORIGINAL_METHOD": "GET"}, id="no-url"),
        pytest.param({}, id="neither"),
    ],
)
def test_a_missing_header_is_refused(bob, headers):
    client, _ = signed_in(bob)
    response = client.get(CHECK, **headers)
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == "missing_header"


def test_a_bad_method_header_is_refused_and_the_check_takes_only_get_and_head(bob):
    client, _ = signed_in(bob)
    response = ask(client, "https://customers.example.com/customers/42", method="get")
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == "bad_method"
    client.handler.enforce_csrf_checks = True  # as a real client: CSRF would refuse a POST first
    posted = client.post(
        CHECK,
        HTTP_X_ORIGINAL_METHOD="GET",
        HTTP_X_ORIGINAL_URL="https://customers.example.com/customers/42",
    )
    assert posted.status_code == 405
    assert posted["Allow"] == "GET, HEAD"
    assert posted["X-Smishguard-Reason"] == "bad_method"


def test_many_checks_are_not_rate_limited(bob, settings):
    client, _ = signed_in(bob)
    statuses = {ask(client, "https://customers.example.com/customers/42").status_code for _ in range(40)}
    assert statuses == {200}


def test_the_checks_are_a_route_group_of_their_own_in_the_metrics():
    from smishguard.metrics import route_group

    assert route_group(CHECK) == "gateway"
    assert route_group("/api/authzx") == "api"


def test_a_name_outside_latin_1_is_sent_mime_encoded(db):
    from email.header import decode_header

    lukasz = add_employee(email="lukasz@example.com", name="Łukasz Żółw", groups=["support"])
    client, _ = signed_in(lukasz)
    response = ask(client, "https://customers.example.com/customers/7")
    assert response.status_code == 200
    [(raw, charset)] = decode_header(response["Remote-Name"])
    assert raw.decode(charset) == "Łukasz Żółw"


def test_control_characters_in_a_name_reach_the_app_as_spaces(db):
    """A newline in a header value would split it (a header of the employee's making): every C0 control character
    and DEL goes to the app as a space, the rest of the name as it is."""
    from smishguard.gateway.check import header_text

    assert header_text("Eve\r\nRemote-User: ada@example.com") == "Eve  Remote-User: ada@example.com"
    assert header_text("a\x00b\tc\x1fd\x7fe\x80f") == "a b c d e\x80f"  # (0x80 is not a C0 character)
    eve = add_employee(email="eve@example.com", name="Eve\nEvil", groups=["support"])
    client, _ = signed_in(eve)
    response = ask(client, "https://customers.example.com/customers/7")
    assert response.status_code == 200
    assert response["Remote-Name"] == "Eve Evil"


def test_the_public_server_of_deploy_nginx_conf_does_not_pass_the_checks_on():
    from pathlib import Path

    site = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "    location /api/authz/ {\n        return 404;\n    }" in site


def test_the_check_takes_the_short_way_past_the_page_middleware(bob):
    """/api/authz/* goes straight to its view (gateway.middleware): none of the pages' middleware runs on it —
    X-Frame-Options (the last middleware) is on a page and on the JSON API, never on a check — while an unknown
    path under /api/authz/ still gets the JSON 404 of the rest of the chain."""
    client, _ = signed_in(bob)
    answer = ask(client, "https://customers.example.com/customers/42")
    assert answer.status_code == 200
    assert "X-Frame-Options" not in answer
    assert "X-Frame-Options" in client.get("/api/me")
    missing = client.get("/api/authz/no-such-dialect")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")


def test_the_url_nginx_sends_is_read_as_utf8_and_bytes_that_are_not_are_refused(bob, settings):
    """nginx puts the request target's bytes in X-Original-URL as they came; a WSGI server hands them over one
    character per byte (PEP 3333).  They are read as UTF-8 (as the forward-auth and ext_authz dialects do), so a
    rule on /café matches the é a browser sent; bytes that are not UTF-8 are refused, never read as Latin-1."""
    policy = (
        POLICY
        + '\n[[gateway.rules]]\ndomain = "cafe.example.com"\nresources = ["^/caf\\u00e9$"]\npolicy = "signed_in"\n'
    )
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(policy))
    client, _ = signed_in(bob)
    as_sent = "https://cafe.example.com/caf\u00e9".encode().decode("latin-1")  # what gunicorn passes on
    assert ask(client, as_sent).status_code == 200
    refused = ask(client, "https://cafe.example.com/caf\xff")
    assert refused.status_code == 403
    assert refused["X-Smishguard-Reason"] == "invalid_utf8"
