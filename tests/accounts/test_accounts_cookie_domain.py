"""Issue 14: SMISHGUARD_COOKIE_DOMAIN scopes sg_session and the CSRF cookie to a parent domain (the gateway's
sibling app hosts receive the session); unset, both are host-only as before.  Through Django's test client, in
SQLite and in production mode alike; the start-up validation is in tests/test_config_cookie_domain.py."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from softkey import SoftKey

from smishguard.accounts.middleware import clear_session_cookie, set_session_cookie
from smishguard.accounts.services import add_employee, invite


@pytest.fixture
def parent_domain(settings):
    settings.COOKIE_DOMAIN = ".example.com"
    settings.CSRF_COOKIE_DOMAIN = ".example.com"


def sign_in(client: Client):
    employee = add_employee(email="ada@example.com", name="Ada")
    token = invite(employee).token
    key = SoftKey()
    headers = {"content_type": "application/json", "HTTP_ORIGIN": settings.SMISHGUARD.origin}
    options = client.post("/api/webauthn/register/options", json.dumps({"token": token}), **headers)
    body = {**key.register(options.json()), "token": token}
    assert client.post("/api/webauthn/register/verify", json.dumps(body), **headers).status_code == 201
    options = client.post("/api/webauthn/login/options", json.dumps({"email": "ada@example.com"}), **headers)
    response = client.post("/api/webauthn/login/verify", json.dumps(key.assertion(options.json())), **headers)
    assert response.status_code == 200, response.content
    return response


def test_unset_the_cookies_are_host_only(db):
    assert settings.COOKIE_DOMAIN is None  # the tests' environment sets no SMISHGUARD_COOKIE_DOMAIN
    response = sign_in(Client())
    assert response.cookies[settings.SESSION_COOKIE_NAME]["domain"] == ""
    assert response.cookies[settings.CSRF_COOKIE_NAME]["domain"] == ""
    cleared = HttpResponse()
    clear_session_cookie(cleared)
    assert cleared.cookies[settings.SESSION_COOKIE_NAME]["domain"] == ""


def test_set_the_session_and_csrf_cookies_carry_the_domain(db, parent_domain):
    response = sign_in(Client())
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session.value
    assert session["domain"] == ".example.com"
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert response.cookies[settings.CSRF_COOKIE_NAME]["domain"] == ".example.com"


def test_set_the_cookie_is_cleared_on_the_same_domain(parent_domain):
    response = HttpResponse()
    set_session_cookie(response, "token")
    assert response.cookies[settings.SESSION_COOKIE_NAME]["domain"] == ".example.com"
    cleared = HttpResponse()
    clear_session_cookie(cleared)
    morsel = cleared.cookies[settings.SESSION_COOKIE_NAME]
    assert morsel["domain"] == ".example.com"  # a deletion on another domain would leave the cookie in place
    assert morsel["max-age"] == 0


def test_set_signing_out_clears_the_domain_cookie(db, parent_domain):
    client = Client()
    sign_in(client)
    page = client.get("/signout")
    assert page.status_code == 200
    response = client.post("/signout", {"csrfmiddlewaretoken": client.cookies[settings.CSRF_COOKIE_NAME].value})
    assert response.status_code == 302
    morsel = response.cookies[settings.SESSION_COOKIE_NAME]
    assert morsel["domain"] == ".example.com"
    assert morsel.value == ""


def test_the_messages_cookie_stays_host_only(parent_domain):
    assert settings.SESSION_COOKIE_DOMAIN is None  # the messages cookie takes its domain from this one
