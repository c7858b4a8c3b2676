"""The WebAuthn API's edge: malformed input gets a clear 4xx, oversize bodies are refused, the schema lists
the endpoints."""

from __future__ import annotations

import pytest
from passkeys_api import (
    LOGIN_OPTIONS,
    LOGIN_VERIFY,
    REGISTER_OPTIONS,
    REGISTER_VERIFY,
    error_code,
)
from softkey import SoftKey, b64url

from smishguard.accounts.models import Session
from smishguard.passkeys.models import Credential

# --------------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------------


def _good_assertion(api_post, key):
    options = api_post(LOGIN_OPTIONS, {"email": "ada@example.com"}).json()
    return key.assertion(options)


@pytest.mark.parametrize(
    "case",
    [
        (lambda _: "{not json", 400, "malformed_json"),
        (lambda _: "[1, 2]", 400, "invalid_request"),
        (lambda a: {**a, "response": "nope"}, 400, "invalid_request"),
        (lambda a: {**a, "rawId": 12}, 400, "invalid_request"),
        (lambda a: {**a, "rawId": "!!!not base64!!!", "id": "!!!not base64!!!"}, 400, "malformed_credential"),
        (lambda a: {**a, "id": b64url(b"other")}, 400, "malformed_credential"),
        (lambda a: {**a, "type": "password"}, 400, "malformed_credential"),
        (
            lambda a: {**a, "response": {**a["response"], "clientDataJSON": b64url(b"\xff\xfe")}},
            400,
            "malformed_credential",
        ),
        (
            lambda a: {**a, "response": {**a["response"], "authenticatorData": b64url(b"short")}},
            400,
            "malformed_credential",
        ),
        (lambda a: {**a, "response": {**a["response"], "signature": "***"}}, 400, "malformed_credential"),
        (lambda a: {k: v for k, v in a.items() if k != "response"}, 400, "invalid_request"),
    ],
)
def test_malformed_assertions_get_a_clear_4xx(employee, enrolled, api_post, case):
    mutate, status, code = case
    response = api_post(LOGIN_VERIFY, mutate(_good_assertion(api_post, enrolled)))
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert not Session.objects.exists()


def test_malformed_registration_base64_and_cbor(employee, token, api_post):
    options = api_post(REGISTER_OPTIONS, {"token": token}).json()
    body = {**SoftKey().register(options), "token": token}
    body["response"] = {**body["response"], "attestationObject": b64url(b"\x9f\x00\x01")}
    response = api_post(REGISTER_VERIFY, body)
    assert response.status_code == 400
    assert error_code(response) == "malformed_credential"
    assert not Credential.objects.exists()


def test_oversize_body_is_refused(db, api_post):
    response = api_post(LOGIN_VERIFY, '{"x": "' + "a" * (3 * 1024 * 1024) + '"}')
    assert response.status_code == 413
    assert error_code(response) == "body_too_large"


def test_oversize_fields_are_refused(employee, enrolled, api_post):
    assertion = _good_assertion(api_post, enrolled)
    assertion["response"]["clientDataJSON"] = "A" * 10_000
    response = api_post(LOGIN_VERIFY, assertion)
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"


def test_openapi_schema_lists_exactly_the_webauthn_endpoints(db, client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert sorted(p for p in paths if "/webauthn/" in p) == [
        "/api/webauthn/keys",
        "/api/webauthn/keys/{key_id}",
        "/api/webauthn/login/options",
        "/api/webauthn/login/verify",
        "/api/webauthn/register/options",
        "/api/webauthn/register/verify",
        "/api/webauthn/stepup/options",
        "/api/webauthn/stepup/verify",
    ]
