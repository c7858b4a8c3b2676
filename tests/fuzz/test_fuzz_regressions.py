"""Crashes the fuzzing tests found, each kept as a plain test of its own (and as an ``@example`` beside the
property that found it).  These run in both modes: they are ordinary tests, not fuzzing."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from passkeys_api import LOGIN_OPTIONS, LOGIN_VERIFY, REGISTER_OPTIONS, REGISTER_VERIFY

pytestmark = pytest.mark.django_db

# Deeper than Python's JSON parser can go (it raises RecursionError, not ValueError, at about 1,000 levels).
DEEP_ARRAY = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"rawId":' * 5000 + b'"x"' + b"}" * 5000


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ORIGIN=django_settings.SMISHGUARD.origin)


@pytest.mark.parametrize("url", [LOGIN_OPTIONS, LOGIN_VERIFY, REGISTER_OPTIONS, REGISTER_VERIFY])
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_deeper_than_the_parser_goes_is_a_400_not_a_500(client, url, body):
    # Found by test_fuzz_webauthn_json: the sign-in rate limit's look at the body (accounts.throttle) let the
    # parser's RecursionError through, a 500 on login/options and login/verify.
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "malformed_json"


def test_the_credential_parser_calls_deep_json_malformed():
    from smishguard.passkeys.ceremonies import parse_authentication_response, parse_registration_response
    from smishguard.passkeys.errors import MalformedCredential

    for parse in (parse_authentication_response, parse_registration_response):
        for body in (DEEP_ARRAY, DEEP_OBJECT, DEEP_ARRAY.decode()):
            with pytest.raises(MalformedCredential):
                parse(body)


def test_a_step_up_with_deep_json_is_a_400(client):
    from smishguard.accounts import sessions
    from smishguard.accounts.services import add_employee

    cookie, _ = sessions.create(add_employee(email="ada@example.com", name="Ada Lovelace"), request=None)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    # (Django's test client does not enforce the CSRF token: the body is what is tested here.)
    response = client.post("/api/webauthn/stepup/verify", data=DEEP_ARRAY, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "malformed_credential"


@pytest.mark.parametrize(
    "stored", [b"", b"\x00", b"\xa0", b"\xa1\x01\x02"], ids=["empty", "zero", "empty-map", "kty-only"]
)
def test_a_damaged_stored_public_key_fails_the_signature_check(stored):
    # Found by test_fuzz_webauthn_cbor: py_webauthn raises IndexError (and KeyError) for a COSE key it cannot
    # read; the assertion check let them through instead of its narrow SignatureInvalid.
    from softkey import SoftKey, b64url

    from smishguard.config import WebAuthnPolicy
    from smishguard.passkeys.ceremonies import parse_authentication_response, verify_authentication
    from smishguard.passkeys.errors import SignatureInvalid

    key = SoftKey(credential_id=b"k" * 32)
    challenge = b"c" * 32
    body = key.assertion({"rpId": "localhost", "challenge": b64url(challenge)}, origin="http://localhost:8000")
    with pytest.raises(SignatureInvalid):
        verify_authentication(
            response=parse_authentication_response(body),
            expected_challenge=challenge,
            rp_id="localhost",
            origin="http://localhost:8000",
            policy=WebAuthnPolicy(),
            public_key=stored,
            stored_sign_count=0,
            backup_eligible=False,
        )


def test_the_schema_documents_the_step_up_verify_body():
    # Found by schemathesis (test_fuzz_openapi): step-up verify reads its AuthenticationResponseJSON itself, and
    # the schema said the operation takes no body, so nothing generated from the schema could reach the check.
    from smishguard.api import api

    operation = api.get_openapi_schema(path_prefix="/api")["paths"]["/api/webauthn/stepup/verify"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"id", "rawId", "type", "response"} <= set(schema["required"])
    response = schema["properties"]["response"]
    assert {"clientDataJSON", "authenticatorData", "signature"} <= set(response["required"])
    assert "$ref" not in str(schema)  # written out whole: a "#/$defs/..." reference would point nowhere


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (LOGIN_OPTIONS, {"email": "ada\u0000@example.com"}),
        (REGISTER_OPTIONS, {"token": "\u0000"}),
        (LOGIN_VERIFY, {"id": "a", "rawId": "a", "type": "public-key", "response": {"clientDataJSON": "\u0000"}}),
    ],
)
def test_a_nul_character_in_a_json_body_is_a_400_in_both_modes(client, url, body):
    # Found by schemathesis in production mode: login/options with an email holding U+0000 was a 500, as
    # PostgreSQL's text columns cannot hold it (SQLite took it).  Every JSON body of the API now refuses it alike.
    import json

    response = client.post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "nul_character"


def test_an_escaped_backslash_before_u0000_is_no_nul_character(client):
    import json

    response = client.post(
        LOGIN_OPTIONS, data=json.dumps({"email": "a\\u0000b@example.com"}), content_type="application/json"
    )
    assert response.status_code == 200, response.content[:300]


def test_a_nul_character_in_an_api_token_body_is_a_400():
    import json

    from smishguard.accounts import tokens

    _, secret = tokens.issue("scanner", scopes=["scan"])
    response = Client().post(
        "/api/scan",
        data=json.dumps({"text": "hi\u0000 there"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "nul_character"


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [("get", LOGIN_OPTIONS, "POST"), ("put", "/api/me", "GET"), ("delete", "/api/scan", "POST")],
)
def test_a_method_an_api_path_does_not_take_is_a_405_json_error_with_allow(client, method, url, allowed):
    # Found by test_fuzz_openapi's neighbours: django-ninja answers 405 with a plain-text body, where every other
    # error under /api/ is a JSON error.
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == allowed
    assert method.upper() in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "method"), [("/api/webauthn/stepup/options", "post"), ("/api/session/signout", "post")]
)
def test_an_operation_that_takes_no_fields_still_documents_its_json_body(path, method):
    # schemathesis found that these say "no request body" while same_origin_json refuses a POST that is not
    # application/json (what a cross-site form cannot send): the schema now says a JSON object is sent.
    from smishguard.api import api

    operation = api.get_openapi_schema(path_prefix="/api")["paths"][path][method]
    body = operation["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["type"] == "object"


def test_an_account_holding_a_nul_character_is_limited_and_audited_without_a_500(client, settings):
    # login/options counts the email it names before the view refuses its NUL character (400 nul_character); past
    # the account's limit the refusal is audited with the account as its subject label, which PostgreSQL's text
    # columns cannot hold with a NUL in it.  The audit trail keeps it with U+FFFD in the NUL's place.
    import dataclasses

    from smishguard.audit import Action
    from smishguard.audit.models import Event
    from smishguard.config import RateLimits

    loose = {f.name: "100000/m" for f in dataclasses.fields(RateLimits) if f.name.endswith(("_address", "_account"))}
    limits = RateLimits(**{**loose, "signin_account": "1/m"})
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, rate_limits=limits)
    email = "nul\x00body@example.com"
    first = client.post(LOGIN_OPTIONS, {"email": email}, content_type="application/json")
    assert first.status_code == 400
    assert first.json()["error"]["code"] == "nul_character"
    second = client.post(LOGIN_OPTIONS, {"email": email}, content_type="application/json")
    assert second.status_code == 429, second.content[:300]
    event = Event.objects.get(action=Action.REQUEST_RATE_LIMITED)
    assert event.subject_label == "nul\ufffdbody@example.com"
