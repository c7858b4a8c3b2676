"""Issue 14: the sign-in page takes the gateway's ``rd`` (the original URL) and ``rm`` (its method), as Authelia's.

The page carries ``rd`` in the same ``data-next`` that its script posts to login/verify as ``next``; login/verify
answers ``redirect`` through ``accounts.redirects.safe_return_url``, which allows the hosts the gateway protects.
Only a GET/HEAD original request is returned to; after any other method the browser lands on the default page and
the page says so.  Through Django's test client, in SQLite and in production mode alike."""

from __future__ import annotations

import dataclasses
import html
import re
import tomllib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

LOGIN_OPTIONS = "/api/webauthn/login/options"
LOGIN_VERIFY = "/api/webauthn/login/verify"
STEPUP_OPTIONS = "/api/webauthn/stepup/options"
STEPUP_VERIFY = "/api/webauthn/stepup/verify"
CHECK = "/api/authz/auth-request"
VAULT = "https://vault.example.com/secrets/7?view=full"

POLICY = """
[gateway]
[[gateway.rules]]
domain = "customers.example.com"
policy = "signed_in"

[[gateway.rules]]
domain = "*.apps.example.org"
policy = "signed_in"

[[gateway.rules]]
domain = "vault.example.com"
policy = "step_up"
reauth_max_age = 60
"""

PROTECTED = "https://customers.example.com/customers/42?tab=notes&x=1"


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(POLICY))


def data_next(page) -> str:
    assert page.status_code == 200
    found = re.search(r'data-next="([^"]*)"', page.content.decode())
    assert found is not None
    return html.unescape(found.group(1))


def verify_with_next(api_post, key, next_url: str):
    options = api_post(LOGIN_OPTIONS, {"email": "ada@example.com"})
    assert options.status_code == 200, options.content
    body = {**key.assertion(options.json()), "next": next_url}
    return api_post(LOGIN_VERIFY, body)


@pytest.mark.parametrize("rd", [PROTECTED, "https://wiki.apps.example.org/a/b", "http://customers.example.com/"])
def test_the_page_carries_rd_and_login_verify_returns_there(client, api_post, enrolled, rd):
    next_url = data_next(client.get("/signin", {"rd": rd, "rm": "GET"}))
    assert next_url == rd
    response = verify_with_next(api_post, enrolled, next_url)
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == rd
    assert response.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.mark.parametrize(
    "rd",
    [
        "https://evil.example/",
        "https://customers.example.com.evil.example/",
        "https://customers.example.com@evil.example/",
        "https://evil.example\\@customers.example.com/",
        "https://apps.example.org/",
        "//customers.example.com/",
    ],
)
def test_an_unprotected_rd_is_not_carried_and_login_verify_gives_the_default(client, api_post, enrolled, rd):
    page = client.get("/signin", {"rd": rd})
    assert data_next(page) == "/"
    assert "evil.example" not in page.content.decode()
    # Even posted directly, login/verify answers the usual default (the employee's home page).
    response = verify_with_next(api_post, enrolled, rd)
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == "/"


def test_head_is_returned_to_and_rm_may_be_absent(client, db):
    assert data_next(client.get("/signin", {"rd": PROTECTED, "rm": "HEAD"})) == PROTECTED
    assert data_next(client.get("/signin", {"rd": PROTECTED})) == PROTECTED


@pytest.mark.parametrize(("method", "shown"), [("POST", "POST"), ("delete", "DELETE"), ("<b>x</b>", "form")])
def test_another_method_lands_on_the_default_page_and_the_page_says_so(client, db, method, shown):
    page = client.get("/signin", {"rd": PROTECTED, "rm": method})
    assert data_next(page) == "/"
    text = page.content.decode()
    assert "data-signin-note" in text
    assert f"sending a form ({shown})" in text
    assert "<b>x</b>" not in text


def test_without_rd_next_works_as_before(client, db):
    assert data_next(client.get("/signin", {"next": "/portal/keys"})) == "/portal/keys"
    assert "data-signin-note" not in client.get("/signin", {"next": "/portal/keys"}).content.decode()


def test_a_signed_in_visitor_goes_straight_to_a_protected_rd(client, enrolled, sign_in):
    assert sign_in(enrolled).status_code == 200
    response = client.get("/signin", {"rd": PROTECTED, "rm": "GET"})
    assert response.status_code == 302
    assert response["Location"] == PROTECTED
    response = client.get("/signin", {"rd": "https://evil.example/", "rm": "GET"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_long_rd_up_to_the_functions_limit_is_taken_by_login_verify(api_post, enrolled):
    rd = "https://customers.example.com/search?q=" + "a" * 1900
    response = verify_with_next(api_post, enrolled, rd)
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == rd


# --- step-up: stepup=1 with a signed-in session -----------------------------------------------------------


def ask(client, url: str):
    return client.get(CHECK, HTTP_X_ORIGINAL_METHOD="GET", HTTP_X_ORIGINAL_URL=url)


def test_step_up_mode_asks_for_a_key_touch_then_goes_on_to_rd_and_the_gateway_admits(
    client, api_post, enrolled, sign_in
):
    assert sign_in(enrolled).status_code == 200
    assert ask(client, VAULT).status_code == 200  # the sign-in itself was a fresh touch
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True):
        refused = ask(client, VAULT)
        assert refused.status_code == 401
        assert refused["X-Smishguard-Reason"] == "step_up"
        location = urlsplit(refused["Location"])
        assert parse_qs(location.query)["stepup"] == ["1"]
        page = client.get(location.path, parse_qs(location.query))
        text = page.content.decode()
        assert 'data-webauthn="stepup"' in text
        assert "vault.example.com asks for a fresh touch" in text
        assert data_next(page) == VAULT
        assert '<a class="btn" href="/">Back</a>' in text  # not back to rd, which would ask again
        options = api_post(STEPUP_OPTIONS, {})
        assert options.status_code == 200, options.content
        answer = api_post(STEPUP_VERIFY, {**enrolled.assertion(options.json()), "next": data_next(page)})
        assert answer.status_code == 200, answer.content
        assert answer.json()["redirect"] == VAULT
        admitted = ask(client, VAULT)
        assert admitted.status_code == 200
        assert admitted["Remote-User"] == "ada@example.com"


def test_step_up_verify_gives_the_default_for_an_unprotected_next(api_post, enrolled, sign_in):
    assert sign_in(enrolled).status_code == 200
    options = api_post(STEPUP_OPTIONS, {})
    answer = api_post(STEPUP_VERIFY, {**enrolled.assertion(options.json()), "next": "https://evil.example/"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["redirect"] == "/"


def test_step_up_mode_with_an_unprotected_rd_or_signed_out_is_the_plain_flow(client, enrolled, sign_in):
    signed_out = client.get("/signin", {"rd": VAULT, "rm": "GET", "stepup": "1"})
    assert 'data-webauthn="signin"' in signed_out.content.decode()  # a sign-in is itself a fresh touch
    assert data_next(signed_out) == VAULT
    assert sign_in(enrolled).status_code == 200
    response = client.get("/signin", {"rd": "https://evil.example/", "rm": "GET", "stepup": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/"
