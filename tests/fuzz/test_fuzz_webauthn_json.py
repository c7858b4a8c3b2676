"""Property tests over the WebAuthn JSON bodies of /api/webauthn/login/* and /register/*: any body (JSON of any
shape, wrong types, deep nesting, broken base64url, bytes that are not UTF-8) gets a 4xx JSON error, never a 5xx,
and writes nothing but the refusal's audit row; a valid ceremony with one member changed either still succeeds
whole (a session or key, and its audit row) or is refused with nothing written."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from fuzzing import FUZZ, mutation, raw_bodies, rolled_back
from hypothesis import example, given, settings
from passkeys_api import LOGIN_OPTIONS, LOGIN_VERIFY, REGISTER_OPTIONS, REGISTER_VERIFY
from softkey import SoftKey

from smishguard.accounts.models import Session
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.passkeys.models import Credential

pytestmark = [pytest.mark.once, pytest.mark.django_db]

EXAMPLES = 30  # max_examples: hypothesis tries this many (fewer only if the strategy has fewer)
REFUSALS = {
    Action.SIGNIN_FAILED.value,
    Action.KEY_REGISTRATION_REFUSED.value,
    Action.POLICY_REFUSED.value,
    Action.REQUEST_RATE_LIMITED.value,
}
ENDPOINTS = (LOGIN_OPTIONS, LOGIN_VERIFY, REGISTER_OPTIONS, REGISTER_VERIFY)
OPTIONS = (LOGIN_OPTIONS, REGISTER_OPTIONS)
ASSERTION_PATHS = (
    (),
    ("id",),
    ("rawId",),
    ("type",),
    ("response",),
    ("response", "clientDataJSON"),
    ("response", "authenticatorData"),
    ("response", "signature"),
    ("response", "userHandle"),
    ("authenticatorAttachment",),
    ("clientExtensionResults",),
    ("next",),
)
REGISTRATION_PATHS = (
    (),
    ("id",),
    ("rawId",),
    ("type",),
    ("response",),
    ("response", "clientDataJSON"),
    ("response", "attestationObject"),
    ("response", "transports"),
    ("authenticatorAttachment",),
    ("token",),
    ("name",),
)


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ORIGIN=django_settings.SMISHGUARD.origin)


def post(client: Client, url: str, body: bytes | str | dict) -> object:
    import json

    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


@pytest.fixture
def enrolled(db, client):
    """Ada, with one soft key enrolled through the API, and Bob, invited; returns (Ada's key, Bob's link token)."""
    from smishguard.accounts.services import add_employee, invite

    ada = add_employee(email="ada@example.com", name="Ada Lovelace")
    token = invite(ada).token
    key = SoftKey()
    options = post(client, REGISTER_OPTIONS, {"token": token})
    response = post(client, REGISTER_VERIFY, {**key.register(options.json()), "token": token})
    assert response.status_code == 201, response.content
    bob = add_employee(email="bob@example.com", name="Bob Babbage")
    return key, invite(bob).token


def _state() -> tuple[int, int, int]:
    return Session.objects.count(), Credential.objects.count(), Event.objects.count()


def _new_actions(events_before: int) -> set[str]:
    return set(Event.objects.order_by("pk").values_list("action", flat=True)[events_before:])


def _json_error(response) -> str:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]["code"]


@given(body=raw_bodies)
@example(body=b"[" * 5000 + b"]" * 5000)  # deeper than the JSON parser's recursion limit
@example(body=b'{"a":' * 5000 + b"1" + b"}" * 5000)
@example(body=b"\xff\xfe{}")
@settings(FUZZ, max_examples=EXAMPLES)
def test_any_body_gets_a_4xx_json_error_and_writes_only_the_refusal(enrolled, client, body):
    sessions, credentials, events = _state()
    for url in ENDPOINTS:
        with rolled_back():
            response = post(client, url, body)
            if url in OPTIONS and response.status_code == 200:
                assert "challenge" in response.json()  # e.g. {} or {"email": "..."}: a ceremony's start
            else:
                assert 400 <= response.status_code < 500, (url, response.status_code, response.content[:300])
                assert _json_error(response)
            assert _new_actions(events) <= REFUSALS
            assert (Session.objects.count(), Credential.objects.count()) == (sessions, credentials)


@given(change=mutation(ASSERTION_PATHS))
@settings(FUZZ, max_examples=EXAMPLES)
def test_a_changed_assertion_signs_in_whole_or_not_at_all(enrolled, client, change):
    key, _ = enrolled
    sessions, _, _ = _state()
    with rolled_back():
        options = post(client, LOGIN_OPTIONS, {"email": "ada@example.com"}).json()
        _, _, events = _state()
        response = post(client, LOGIN_VERIFY, change(key.assertion(options)))
        if response.status_code == 200:
            assert Session.objects.count() == sessions + 1
            assert Action.SIGNIN_SUCCEEDED.value in _new_actions(events)
        else:
            assert 400 <= response.status_code < 500, (change.description, response.status_code, response.content)
            assert _json_error(response)
            assert Session.objects.count() == sessions
            assert _new_actions(events) <= REFUSALS


@given(change=mutation(REGISTRATION_PATHS))
@settings(FUZZ, max_examples=EXAMPLES)
def test_a_changed_registration_stores_the_key_whole_or_not_at_all(enrolled, client, change):
    _, token = enrolled
    _, credentials, _ = _state()
    with rolled_back():
        options = post(client, REGISTER_OPTIONS, {"token": token}).json()
        _, _, events = _state()
        response = post(client, REGISTER_VERIFY, change({**SoftKey().register(options), "token": token}))
        if response.status_code == 201:
            assert Credential.objects.count() == credentials + 1
            assert Action.KEY_REGISTERED.value in _new_actions(events)
        else:
            assert 400 <= response.status_code < 500, (change.description, response.status_code, response.content)
            assert _json_error(response)
            assert Credential.objects.count() == credentials
            assert _new_actions(events) <= REFUSALS
