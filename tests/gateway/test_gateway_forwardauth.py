"""Issue 14: ``/api/authz/forward-auth``, the check in Traefik's (``forwardAuth``) and Caddy's (``forward_auth``)
dialect, through Django's test client, with requests crafted as each proxy sends them.

Traefik (pkg/middlewares/auth/forward.go): GET (the original method with ``preserveRequestMethod``) to the
configured address, so ``Host`` is smishguard's; every client header copied (``authRequestHeaders`` unset); and
``X-Forwarded-Method``, ``-Proto``, ``-Host``, ``-Uri`` (the original request target, still percent-encoded) and
``-For`` (the client's address) set by Traefik.  Caddy (forward_auth, a reverse_proxy with ``method GET``):
the client's headers with ``Host`` left as the app's, ``X-Forwarded-Method`` and ``-Uri`` set by forward_auth and
``X-Forwarded-For``, ``-Proto``, ``-Host`` by reverse_proxy.  The X-Forwarded-* are read only from a peer in
``[gateway] trusted_proxies``; answers are 200 with the identity, 302/303 (a browser) or 401 (anything else) to
sign in, 403 refusals, each 401/403 with X-Smishguard-Reason.  In SQLite and production mode alike."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from gateway_checks import DIALECTS_POLICY, signed_in, use_policy

from smishguard.accounts import sessions
from smishguard.accounts.models import Session
from smishguard.audit import Action
from smishguard.audit.models import Event

CHECK = "/api/authz/forward-auth"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(autouse=True)
def gateway(settings):
    use_policy(settings, DIALECTS_POLICY)


def traefik(
    client: Client, url: str, method: str = "GET", *, accept: str = BROWSER_ACCEPT, check_method: str = "GET", **extra
):
    """What Traefik's forwardAuth sends for ``method url`` (a browser's Accept unless told), from 127.0.0.1."""
    parts = urlsplit(url)
    headers = {
        "HTTP_HOST": "127.0.0.1:8000",  # the forwardAuth address: smishguard's own host
        "HTTP_ACCEPT": accept,
        "HTTP_USER_AGENT": "Mozilla/5.0",
        "HTTP_X_FORWARDED_FOR": "192.0.2.10",
        "HTTP_X_FORWARDED_METHOD": method,
        "HTTP_X_FORWARDED_PROTO": parts.scheme,
        "HTTP_X_FORWARDED_HOST": parts.netloc,
        "HTTP_X_FORWARDED_URI": url[len(f"{parts.scheme}://{parts.netloc}") :] or "/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    headers.update(extra)
    return client.generic(check_method, CHECK, **headers)


def caddy(client: Client, url: str, method: str = "GET", *, accept: str = BROWSER_ACCEPT, **extra):
    """What Caddy's forward_auth sends: always GET, the app's Host kept, the X-Forwarded-* of reverse_proxy."""
    parts = urlsplit(url)
    headers = {
        "HTTP_HOST": parts.netloc,  # reverse_proxy passes the incoming Host on
        "HTTP_ACCEPT": accept,
        "HTTP_X_FORWARDED_FOR": "192.0.2.10",
        "HTTP_X_FORWARDED_PROTO": parts.scheme,
        "HTTP_X_FORWARDED_HOST": parts.netloc,
        "HTTP_X_FORWARDED_METHOD": method,
        "HTTP_X_FORWARDED_URI": url[len(f"{parts.scheme}://{parts.netloc}") :] or "/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    headers.update(extra)
    return client.get(CHECK, **headers)


PROXIES = [pytest.param(traefik, id="traefik"), pytest.param(caddy, id="caddy")]


@pytest.mark.parametrize("proxy", PROXIES)
def test_an_employee_in_the_rules_group_is_admitted_with_the_identity_headers(bob, proxy):
    client, _ = signed_in(bob)
    response = proxy(client, "https://customers.example.com/customers/42?tab=notes")
    assert response.status_code == 200
    assert response["Remote-User"] == "bob@example.com"
    assert response["Remote-Email"] == "bob@example.com"
    assert response["Remote-Name"] == "Bob Builder"
    assert response["Remote-Groups"] == "security,support"
    assert "X-Smishguard-Reason" not in response
    assert "Location" not in response
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("proxy", PROXIES)
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(("GET", BROWSER_ACCEPT, {}, 302), id="browser-get"),
        pytest.param(("HEAD", BROWSER_ACCEPT, {}, 302), id="browser-head"),
        pytest.param(("OPTIONS", BROWSER_ACCEPT, {}, 302), id="browser-options"),
        pytest.param(("POST", BROWSER_ACCEPT, {}, 303), id="browser-post"),
        pytest.param(("DELETE", "text/html", {}, 303), id="browser-delete"),
        pytest.param(("GET", BROWSER_ACCEPT, {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}, 401), id="xhr"),
        pytest.param(("GET", "application/json", {}, 401), id="api-client"),
        pytest.param(("GET", "*/*", {}, 401), id="curl"),
        pytest.param(("GET", "text/html;q=0, application/json", {}, 401), id="html-refused-by-q0"),
        pytest.param(("POST", "application/json", {}, 401), id="api-post"),
    ],
)
def test_signed_out_a_browser_is_redirected_to_sign_in_and_anything_else_gets_401(db, settings, proxy, case):
    method, accept, extra, status = case
    url = "https://vault.example.com/secrets/1?tab=notes"  # a rule for every method
    response = proxy(Client(), url, method, accept=accept, **extra)
    assert response.status_code == status
    assert response["X-Smishguard-Reason"] == "signed_out"
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == settings.SMISHGUARD.origin
    assert location.path == reverse("passkeys:signin")
    assert parse_qs(location.query) == {"rd": [url], "rm": [method]}
    assert "Remote-User" not in response


def test_a_step_up_rule_with_a_stale_key_touch_redirects_a_browser_and_tells_an_api_client(bob):
    client, session = signed_in(bob)
    url = "https://vault.example.com/secrets/1"
    assert traefik(client, url).status_code == 200
    Session.objects.filter(pk=session.pk).update(last_assertion_at=timezone.now() - timedelta(seconds=301))
    page = traefik(client, url)
    assert page.status_code == 302
    assert page["X-Smishguard-Reason"] == "step_up"
    assert parse_qs(urlsplit(page["Location"]).query) == {"rd": [url], "rm": ["GET"], "stepup": ["1"]}
    api = traefik(client, url, accept="application/json")
    assert api.status_code == 401
    assert api["X-Smishguard-Reason"] == "step_up"
    assert b"step_up" in api.content
    Session.objects.filter(pk=session.pk).update(last_assertion_at=timezone.now())
    assert traefik(client, url).status_code == 200


def test_refused_by_group_method_and_network(bob, carol, settings):
    bobs, _ = signed_in(bob)
    carols, _ = signed_in(carol)
    group = traefik(carols, "https://customers.example.com/customers/42")
    assert (group.status_code, group["X-Smishguard-Reason"]) == (403, "forbidden")
    assert b"You may not open this page." in group.content
    method = traefik(bobs, "https://customers.example.com/customers/42", "DELETE")
    assert (method.status_code, method["X-Smishguard-Reason"]) == (403, "forbidden")
    denied = traefik(bobs, "https://customers.example.com/admin/users")
    assert (denied.status_code, denied["X-Smishguard-Reason"]) == (403, "forbidden")
    # networks: the client address is the general trusted_proxies' (clientaddr.client_ip), never the check's
    # own list.  Not listed there, Traefik's X-Forwarded-For is not believed: the client is Traefik itself.
    intranet = "https://intranet.example.com/"
    outside = traefik(bobs, intranet, HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert (outside.status_code, outside["X-Smishguard-Reason"]) == (403, "forbidden")
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, trusted_proxies=("127.0.0.1/32",))
    assert traefik(bobs, intranet, HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    elsewhere = traefik(bobs, intranet, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert (elsewhere.status_code, elsewhere["X-Smishguard-Reason"]) == (403, "forbidden")
    # and with the proxy in both lists the X-Forwarded-* describing the request are read just the same
    assert traefik(bobs, "https://customers.example.com/customers/42").status_code == 200


@pytest.mark.parametrize("proxy", PROXIES)
def test_a_revoked_session_is_refused_on_the_very_next_check(bob, proxy):
    client, session = signed_in(bob)
    url = "https://customers.example.com/customers/42"
    assert proxy(client, url).status_code == 200
    assert sessions.revoke(Session.objects.filter(pk=session.pk), reason="signed out") == 1
    response = proxy(client, url, accept="application/json")
    assert response.status_code == 401
    assert response["X-Smishguard-Reason"] == "signed_out"
    assert "Remote-User" not in response


def test_a_peer_outside_the_gateways_trusted_proxies_gets_401_and_one_audit_event(bob):
    client, _ = signed_in(bob)
    url = "https://customers.example.com/customers/42"
    answers = [traefik(client, url, REMOTE_ADDR="127.0.0.2", HTTP_X_FORWARDED_FOR="127.0.0.1") for _ in range(3)]
    for response in answers:
        assert response.status_code == 401  # a browser's Accept, and still no redirect: nothing was read
        assert response["X-Smishguard-Reason"] == "untrusted_proxy"
        assert "Location" not in response
        assert "Remote-User" not in response
    [event] = Event.objects.filter(action=Action.GATEWAY_CHECK_UNTRUSTED_PROXY.value)
    assert event.detail["dialect"] == "forward-auth"
    assert event.detail["peer"] == "127.0.0.2"
    assert event.detail["earlier_refusals"] == 0
    assert traefik(client, url).status_code == 200


@pytest.mark.parametrize(
    "missing",
    ["HTTP_X_FORWARDED_METHOD", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_URI"],
)
def test_each_forwarded_header_is_required(bob, missing):
    client, _ = signed_in(bob)
    parts = {
        "HTTP_X_FORWARDED_METHOD": "GET",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "customers.example.com",
        "HTTP_X_FORWARDED_URI": "/customers/42",
    }
    del parts[missing]
    response = client.get(CHECK, HTTP_ACCEPT=BROWSER_ACCEPT, **parts)
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == "missing_header"
    assert "Remote-User" not in response


# Headers a client or a careless proxy could send instead of, or beside, the forwarded ones.
SPOOFS = [
    pytest.param({"HTTP_X_FORWARDED_HOST": "customers.example.com, admin.example.com"}, "bad_host", id="host-twice"),
    pytest.param({"HTTP_X_FORWARDED_HOST": "customers.example.com/admin?"}, "bad_host", id="host-with-path"),
    pytest.param({"HTTP_X_FORWARDED_HOST": "customers.example.com#"}, "bad_host", id="host-with-fragment"),
    pytest.param({"HTTP_X_FORWARDED_HOST": "evil.example@customers.example.com"}, "bad_host", id="host-userinfo"),
    pytest.param({"HTTP_X_FORWARDED_PROTO": "https, http"}, "bad_url", id="proto-twice"),
    pytest.param({"HTTP_X_FORWARDED_PROTO": "javascript"}, "bad_url", id="proto-other"),
    pytest.param({"HTTP_X_FORWARDED_URI": "customers/42"}, "bad_url", id="uri-relative"),
    pytest.param({"HTTP_X_FORWARDED_URI": "@evil.example/customers/42"}, "bad_url", id="uri-userinfo"),
    pytest.param({"HTTP_X_FORWARDED_URI": "https://customers.example.com/customers/42"}, "bad_url", id="uri-absolute"),
    pytest.param({"HTTP_X_FORWARDED_METHOD": "get"}, "bad_method", id="method-lower-case"),
    pytest.param({"HTTP_X_FORWARDED_METHOD": "GET, POST"}, "bad_method", id="method-twice"),
]


@pytest.mark.parametrize(("headers", "reason"), SPOOFS)
def test_ambiguous_forwarded_headers_are_refused(bob, headers, reason):
    client, _ = signed_in(bob)
    response = traefik(client, "https://customers.example.com/customers/42", **headers)
    assert response.status_code == 403
    assert response["X-Smishguard-Reason"] == reason
    assert "Remote-User" not in response


def test_nginx_headers_are_not_read_here_and_identity_headers_sent_to_the_check_change_nothing(carol, db):
    """X-Original-URL (nginx's dialect) is no substitute for the X-Forwarded-*; a client's Remote-User sent along
    (Traefik copies every client header to the check) is not who the check thinks is asking."""
    client, _ = signed_in(carol)
    response = client.get(
        CHECK,
        HTTP_X_ORIGINAL_METHOD="GET",
        HTTP_X_ORIGINAL_URL="https://customers.example.com/customers/42",
    )
    assert (response.status_code, response["X-Smishguard-Reason"]) == (403, "missing_header")
    spoofed = traefik(
        client,
        "https://customers.example.com/customers/42",
        HTTP_REMOTE_USER="bob@example.com",
        HTTP_REMOTE_GROUPS="support",
        HTTP_X_SMISHGUARD_ASSERTION="forged",
    )
    assert (spoofed.status_code, spoofed["X-Smishguard-Reason"]) == (403, "forbidden")
    assert "Remote-User" not in spoofed
    anonymous = traefik(Client(), "https://customers.example.com/customers/42", HTTP_REMOTE_USER="bob@example.com")
    assert anonymous.status_code == 302
    assert anonymous["X-Smishguard-Reason"] == "signed_out"


# (X-Forwarded-Uri, status, reason or None): refused as sent, or matched on the normalised path without the query.
URIS = [
    pytest.param("/customers%2F42", 403, "encoded_slash", id="encoded-slash"),
    pytest.param("/customers%2f42", 403, "encoded_slash", id="encoded-slash-lower-case"),
    pytest.param("/customers%5C42", 403, "encoded_backslash", id="encoded-backslash"),
    pytest.param("/customers%252F42", 403, "double_encoding", id="double-encoding"),
    pytest.param("/customers/%252e%252e/admin", 403, "double_encoding", id="double-encoded-dots"),
    pytest.param("/customers/%2e%2e/admin", 403, "forbidden", id="encoded-dot-segments"),
    pytest.param("/customers/../admin", 403, "forbidden", id="dot-segments-to-denied"),
    pytest.param("/admin/../customers/42", 200, None, id="dot-segments-to-allowed"),
    pytest.param("//customers//42", 200, None, id="repeated-slashes"),
    pytest.param("/admin?next=/customers/42", 403, "forbidden", id="allowed-in-query"),
    pytest.param("/other?/customers/42", 403, "forbidden", id="allowed-in-bare-query"),
    pytest.param("/admin#/customers/42", 403, "forbidden", id="allowed-in-fragment"),
    pytest.param("/customers\\42", 403, "backslash", id="backslash"),
    pytest.param("/customers/%00", 403, "nul", id="encoded-nul"),
    pytest.param("/customers/%ff", 403, "invalid_utf8", id="invalid-utf8"),
]


@pytest.mark.parametrize(("uri", "status", "reason"), URIS)
def test_uris_are_refused_or_matched_on_the_normalised_path(bob, uri, status, reason):
    client, _ = signed_in(bob)
    response = traefik(client, "https://customers.example.com/", HTTP_X_FORWARDED_URI=uri)
    assert response.status_code == status
    if reason is None:
        assert response["Remote-User"] == "bob@example.com"
    else:
        assert response["X-Smishguard-Reason"] == reason
        assert "Remote-User" not in response


def test_an_unknown_host_is_refused_signed_in_or_not(bob):
    client, _ = signed_in(bob)
    for asking in (client, Client()):
        response = traefik(asking, "https://elsewhere.example.org/")
        assert (response.status_code, response["X-Smishguard-Reason"]) == (403, "unknown_host")


@pytest.mark.parametrize("check_method", ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_the_check_takes_the_method_traefik_sends_without_the_csrf_page(bob, check_method):
    """Traefik sends GET, or with ``preserveRequestMethod: true`` the original method (with no CSRF token):
    what is checked is X-Forwarded-Method either way."""
    client, _ = signed_in(bob)
    client.handler.enforce_csrf_checks = True
    response = traefik(client, "https://customers.example.com/customers/42", check_method=check_method)
    assert response.status_code == 200
    assert response["Remote-User"] == "bob@example.com"
    posted = traefik(client, "https://customers.example.com/customers/42", "POST", check_method=check_method)
    assert (posted.status_code, posted["X-Smishguard-Reason"]) == (403, "forbidden")
