"""Login CSRF and cookie-authenticated JSON endpoints: application/json and a same-origin request, CSRF on
sign-out, a new CSRF token at sign-in.  Refusals are 4xx JSON errors and set no session cookie."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from softkey import SoftKey

from smishguard.accounts import sessions
from smishguard.accounts.services import add_employee, invite

pytestmark = pytest.mark.django_db

ORIGIN = settings.SMISHGUARD.origin
JSON = "application/json"


def _enrolled(client: Client) -> SoftKey:
    employee = add_employee(email="ada@example.com", name="Ada")
    token = invite(employee).token
    key = SoftKey()
    options = client.post("/api/webauthn/register/options", json.dumps({"token": token}), JSON, HTTP_ORIGIN=ORIGIN)
    body = {**key.register(options.json()), "token": token}
    verified = client.post("/api/webauthn/register/verify", json.dumps(body), JSON, HTTP_ORIGIN=ORIGIN)
    assert verified.status_code == 201, verified.content
    return key


def _assertion(client: Client, key: SoftKey) -> str:
    options = client.post("/api/webauthn/login/options", json.dumps({"email": "ada@example.com"}), JSON)
    return json.dumps(key.assertion(options.json()))


def _error(response) -> str:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]["code"]


def test_login_verify_with_a_text_plain_body_is_refused_and_sets_no_session():
    client = Client()
    key = _enrolled(client)
    response = client.post("/api/webauthn/login/verify", _assertion(client, key), "text/plain", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 415
    assert _error(response) == "unsupported_media_type"
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert sessions.live().count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": ORIGIN + ".evil.example"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {},  # neither header: not a browser request from our own page
        {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "same-origin"},
    ],
)
def test_login_verify_from_another_origin_is_refused_and_sets_no_session(headers):
    client = Client()
    key = _enrolled(client)
    response = client.post("/api/webauthn/login/verify", _assertion(client, key), JSON, **headers)
    assert response.status_code == 403
    assert _error(response) == "cross_origin_request"
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert sessions.live().count() == 0


@pytest.mark.parametrize("headers", [{"HTTP_ORIGIN": ORIGIN}, {"HTTP_SEC_FETCH_SITE": "same-origin"}])
def test_login_verify_from_our_own_page_signs_in(headers):
    client = Client()
    key = _enrolled(client)
    response = client.post("/api/webauthn/login/verify", _assertion(client, key), JSON, **headers)
    assert response.status_code == 200, response.content
    assert settings.SESSION_COOKIE_NAME in response.cookies


def test_sign_in_rotates_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.get("/signin")
    before = client.cookies[settings.CSRF_COOKIE_NAME].value
    key = _enrolled(client)
    response = client.post("/api/webauthn/login/verify", _assertion(client, key), JSON, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200, response.content
    assert settings.CSRF_COOKIE_NAME in response.cookies
    after = response.cookies[settings.CSRF_COOKIE_NAME].value
    assert after
    assert after != before


def _signed_in(enforce: bool = True) -> Client:
    client = Client(enforce_csrf_checks=enforce)
    client.get("/signin")
    key = _enrolled(client)
    response = client.post("/api/webauthn/login/verify", _assertion(client, key), JSON, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200, response.content
    return client


def test_api_signout_without_the_csrf_token_is_refused():
    client = _signed_in()
    response = client.post("/api/session/signout", "{}", JSON, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 403
    assert _error(response) in {"csrf_failed", "permission_denied"}
    assert sessions.live().count() == 1


@pytest.mark.parametrize(
    ("content_type", "headers", "status"),
    [
        ("text/plain", {"HTTP_ORIGIN": ORIGIN}, 415),
        (JSON, {"HTTP_ORIGIN": "https://evil.example"}, 403),
        (JSON, {"HTTP_SEC_FETCH_SITE": "cross-site"}, 403),
    ],
)
def test_api_signout_from_a_form_or_another_site_is_refused(content_type, headers, status):
    client = _signed_in()
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/api/session/signout", "{}", content_type, HTTP_X_CSRFTOKEN=csrf, **headers)
    assert response.status_code == status
    assert sessions.live().count() == 1


def test_api_signout_with_the_csrf_token_from_our_page_signs_out():
    client = _signed_in()
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/api/session/signout", "{}", JSON, HTTP_ORIGIN=ORIGIN, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content
    assert sessions.live().count() == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/webauthn/register/options", "{}"),
        ("patch", "/api/webauthn/keys/{key}", '{"name": "x"}'),
        ("delete", "/api/webauthn/keys/{key}", ""),
    ],
)
def test_cookie_authenticated_key_endpoints_refuse_another_origin(method, path, body):
    client = _signed_in()
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    key_id = client.get("/api/webauthn/keys").json()["keys"][0]["id"]
    response = getattr(client, method)(
        path.format(key=key_id), body, JSON, HTTP_X_CSRFTOKEN=csrf, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    assert _error(response) == "cross_origin_request"
    assert client.get("/api/webauthn/keys").json()["keys"][0]["name"] != "x"
