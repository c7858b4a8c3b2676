"""Where a sign-in may return to: ONE function decides, for every caller (the sign-in page, login/verify)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from softkey import SoftKey

from smishguard.accounts.redirects import safe_return_url
from smishguard.accounts.services import add_employee, invite

ORIGIN = settings.SMISHGUARD.origin  # http://localhost:8000 in the tests

REFUSED = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "http://evil.example/console/",
    "https:evil.example",
    "https:/evil.example",
    "//evil.example/%2F..",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%5C/evil.example",
    "/%255C/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "http://localhost:8000@evil.example/",
    "https://evil.example\\@localhost:8000/",
    "http://evil.example#@localhost:8000/",
    "\x00/console/",
    "/console/\x00",
    "\u2028/evil.example",
    "ftp://localhost:8000/",
    "",
    " ",
]

ALLOWED = [
    "/",
    "/console/",
    "/console/employees?q=ada&page=2",
    "/portal/keys#new",
    f"{ORIGIN}/console/",
]


@pytest.mark.parametrize("candidate", REFUSED)
def test_refused(candidate):
    request = RequestFactory().get("/signin")
    assert safe_return_url(candidate, request=request, default="/home") == "/home"


@pytest.mark.parametrize("candidate", ALLOWED)
def test_allowed(candidate):
    request = RequestFactory().get("/signin")
    assert safe_return_url(candidate, request=request, default="/home") == candidate


def test_none_and_non_strings_give_the_default():
    request = RequestFactory().get("/signin")
    assert safe_return_url(None, request=request, default="/d") == "/d"
    assert safe_return_url(["/console/"], request=request, default="/d") == "/d"  # type: ignore[arg-type]


def test_a_registered_host_is_allowed_and_others_are_not(settings):
    """The gateway (later) registers its protected hosts with the same function."""
    from smishguard.accounts import redirects

    redirects.register_return_hosts(lambda: {"app.example.com"})
    try:
        request = RequestFactory().get("/signin")
        assert safe_return_url("https://app.example.com/x", request=request, default="/") == "https://app.example.com/x"
        assert safe_return_url("https://evil.example/x", request=request, default="/") == "/"
    finally:
        redirects.unregister_return_hosts_for_tests()


# --- every caller uses it ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "candidate", ["/\t/evil.example", "/%09/evil.example", "//evil.example", "https://evil.example"]
)
def test_the_signin_page_does_not_carry_a_bad_next(candidate):
    page = Client().get("/signin", {"next": candidate})
    assert page.status_code == 200
    assert "evil.example" not in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "candidate", ["/\t/evil.example", "/%09/evil.example", "/%2F/evil.example", "//evil.example", "java\tscript:x"]
)
def test_login_verify_does_not_return_to_a_bad_next(candidate):
    client = Client()
    employee = add_employee(email="ada@example.com", name="Ada")
    token = invite(employee).token
    key = SoftKey()
    headers = {"content_type": "application/json", "HTTP_ORIGIN": ORIGIN}
    options = client.post("/api/webauthn/register/options", json.dumps({"token": token}), **headers)
    body = {**key.register(options.json()), "token": token}
    assert client.post("/api/webauthn/register/verify", json.dumps(body), **headers).status_code == 201
    options = client.post("/api/webauthn/login/options", json.dumps({"email": "ada@example.com"}), **headers)
    body = {**key.assertion(options.json()), "next": candidate}
    response = client.post("/api/webauthn/login/verify", json.dumps(body), **headers)
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == "/"


@pytest.mark.django_db
def test_login_verify_keeps_a_good_next():
    client = Client()
    employee = add_employee(email="ada@example.com", name="Ada")
    token = invite(employee).token
    key = SoftKey()
    headers = {"content_type": "application/json", "HTTP_ORIGIN": ORIGIN}
    options = client.post("/api/webauthn/register/options", json.dumps({"token": token}), **headers)
    body = {**key.register(options.json()), "token": token}
    assert client.post("/api/webauthn/register/verify", json.dumps(body), **headers).status_code == 201
    options = client.post("/api/webauthn/login/options", json.dumps({"email": "ada@example.com"}), **headers)
    body = {**key.assertion(options.json()), "next": "/portal/keys?x=1"}
    response = client.post("/api/webauthn/login/verify", json.dumps(body), **headers)
    assert response.json()["redirect"] == "/portal/keys?x=1"
