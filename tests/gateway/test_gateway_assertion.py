"""Issue 14: ``X-Smishguard-Assertion`` on every admitted check, verified as an app verifies it: PyJWT against the
JWKS fetched from ``/.well-known/smishguard/jwks.json`` (through Django's test client).  Every claim; amr ``hwk`` /
``swk`` and ``user`` (from a real sign-in and step-up with the software authenticator); a wrong audience and an
expired token refused; ``smishguard gateway rotate-key``; the private key never stored in clear; a changed
SECRET_KEY gives no 500.  In SQLite and in production mode alike (the test client, the test database); the race
of two processes over the first key and over a rotation is in test_gateway_assertion_race.py."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import tomllib
from datetime import timedelta

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from softkey import SoftKey

from smishguard import cli, doctor
from smishguard.accounts import sessions
from smishguard.accounts.models import Session
from smishguard.accounts.services import add_employee, invite
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.gateway import keys
from smishguard.gateway.models import SigningKey
from smishguard.passkeys.models import Credential

CHECK = "/api/authz/auth-request"
JWKS = "/.well-known/smishguard/jwks.json"
APP = "https://customers.example.com"

POLICY = """
[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32"]

[[gateway.rules]]
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
subject = ["group:support"]
policy = "signed_in"
"""


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(POLICY))
    keys.forget()
    yield
    keys.forget()  # a key rotated (and rolled back) here must not sign in the next test


def employee(email: str = "bob@example.com", *, backup_eligible: bool = False):
    person = add_employee(email=email, name="Bob Builder", groups=["support", "security"])
    credential = Credential.objects.create(
        employee=person, credential_id=os.urandom(16), public_key=b"-", backup_eligible=backup_eligible
    )
    return person, credential


def signed_in(person, credential=None, *, user_verified: bool = True) -> tuple[Client, Session]:
    token, session = sessions.create(person, request=None, credential=credential, user_verified=user_verified)
    client = Client()
    client.cookies["sg_session"] = token
    return client, session


def ask(client: Client, url: str = f"{APP}/customers/42"):
    response = client.get(CHECK, HTTP_X_ORIGINAL_METHOD="GET", HTTP_X_ORIGINAL_URL=url)
    assert response.status_code == 200, response.headers
    return response


def jwks() -> dict:
    response = Client().get(JWKS)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "max-age=60" in response["Cache-Control"]
    return response.json()


def verify(token: str, *, audience: str = APP) -> dict:
    """What an app does: the key named by the token's kid, from the JWKS; ES256 only; its own origin as aud."""
    keyset = jwt.PyJWKSet.from_dict(jwks())
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(
        token,
        keyset[kid].key,
        algorithms=["ES256"],
        audience=audience,
        issuer=django_settings.SMISHGUARD.origin,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )


def test_the_assertion_verifies_against_the_jwks_and_carries_every_claim(db):
    bob, key = employee()
    client, session = signed_in(bob, key)
    response = ask(client)
    token = response["X-Smishguard-Assertion"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == SigningKey.objects.get(current=True).kid
    claims = verify(token)
    assert claims["iss"] == django_settings.SMISHGUARD.origin
    assert claims["aud"] == APP
    assert claims["sub"] == str(bob.pk)
    assert claims["email"] == "bob@example.com"
    assert claims["name"] == "Bob Builder"
    assert claims["groups"] == ["security", "support"]
    assert claims["amr"] == ["hwk", "user"]
    assert claims["auth_time"] == int(session.last_assertion_at.timestamp())
    assert 0 < claims["exp"] - claims["iat"] <= 60
    assert abs(claims["iat"] - timezone.now().timestamp()) < 120
    # The Remote-* headers say the same.
    assert response["Remote-User"] == claims["email"]
    assert response["Remote-Groups"] == ",".join(claims["groups"])


@pytest.mark.parametrize(
    ("url", "aud"),
    [
        ("https://customers.example.com/customers/1", "https://customers.example.com"),
        ("https://Customers.Example.com.:443/customers/1?x=1", "https://customers.example.com"),
        ("http://customers.example.com:8080/customers/1", "http://customers.example.com:8080"),
        ("http://customers.example.com:80/customers/1", "http://customers.example.com"),
    ],
)
def test_aud_is_the_checked_apps_origin(db, url, aud):
    bob, key = employee()
    client, _ = signed_in(bob, key)
    token = ask(client, url)["X-Smishguard-Assertion"]
    assert verify(token, audience=aud)["aud"] == aud


@pytest.mark.parametrize(
    ("backup_eligible", "user_verified", "amr"),
    [(False, True, ["hwk", "user"]), (True, True, ["swk", "user"]), (False, False, ["hwk"]), (True, False, ["swk"])],
)
def test_amr_says_hardware_or_synced_key_and_user_verification(db, backup_eligible, user_verified, amr):
    bob, key = employee(backup_eligible=backup_eligible)
    client, _ = signed_in(bob, key, user_verified=user_verified)
    assert verify(ask(client)["X-Smishguard-Assertion"])["amr"] == amr


def test_a_session_whose_key_was_removed_names_no_key_method(db):
    bob, _ = employee()
    client, _ = signed_in(bob, None)
    assert verify(ask(client)["X-Smishguard-Assertion"])["amr"] == ["user"]


def test_a_verifier_with_another_audience_or_after_exp_refuses(db):
    bob, key = employee()
    client, _ = signed_in(bob, key)
    token = ask(client)["X-Smishguard-Assertion"]
    assert verify(token)["email"] == "bob@example.com"
    with pytest.raises(jwt.InvalidAudienceError):
        verify(token, audience="https://other.example.com")
    with pytest.raises(jwt.InvalidAudienceError):
        verify(token, audience="http://customers.example.com")  # another scheme is another origin
    with time_machine.travel(timezone.now() + timedelta(seconds=61)), pytest.raises(jwt.ExpiredSignatureError):
        verify(token)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        verify(forged)


# --------------------------------------------------------------------------------------------------------
# User verification recorded on the session: a real sign-in and step-up with the software authenticator
# --------------------------------------------------------------------------------------------------------


def post(client: Client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def enrol_and_sign_in(key: SoftKey, email: str = "ada@example.com") -> Client:
    person = add_employee(email=email, name="Ada", groups=["support"])
    browser = Client(HTTP_ORIGIN=django_settings.SMISHGUARD.origin)
    token = invite(person).token
    options = post(browser, "/api/webauthn/register/options", {"token": token})
    assert options.status_code == 200, options.content
    registered = post(browser, "/api/webauthn/register/verify", {**key.register(options.json()), "token": token})
    assert registered.status_code == 201, registered.content
    browser = Client(HTTP_ORIGIN=django_settings.SMISHGUARD.origin)
    options = post(browser, "/api/webauthn/login/options", {"email": email})
    assert options.status_code == 200, options.content
    signed = post(browser, "/api/webauthn/login/verify", key.assertion(options.json()))
    assert signed.status_code == 200, signed.content
    return browser


def session_of(browser: Client) -> Session:
    return sessions.resolve(browser.cookies[django_settings.SESSION_COOKIE_NAME].value)


@pytest.fixture
def uv_preferred(settings):
    webauthn = dataclasses.replace(settings.SMISHGUARD.webauthn, user_verification="preferred")
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, webauthn=webauthn)


def test_a_sign_in_with_user_verification_is_recorded_and_gives_hwk_user(db):
    browser = enrol_and_sign_in(SoftKey(uv=True))
    assert session_of(browser).user_verified is True
    assert verify(ask(browser)["X-Smishguard-Assertion"])["amr"] == ["hwk", "user"]


def test_a_synced_passkey_gives_swk(db):
    browser = enrol_and_sign_in(SoftKey(be=True, bs=True))
    assert session_of(browser).credential.backup_eligible is True
    assert verify(ask(browser)["X-Smishguard-Assertion"])["amr"] == ["swk", "user"]


def test_a_sign_in_without_user_verification_leaves_out_user_until_a_verified_step_up(db, uv_preferred):
    key = SoftKey(uv=False)
    browser = enrol_and_sign_in(key)
    session = session_of(browser)
    assert session.user_verified is False
    assert verify(ask(browser)["X-Smishguard-Assertion"])["amr"] == ["hwk"]

    options = post(browser, "/api/webauthn/stepup/options", {})
    assert options.status_code == 200, options.content
    stepped = post(browser, "/api/webauthn/stepup/verify", key.assertion(options.json(), uv=True))
    assert stepped.status_code == 200, stepped.content
    session.refresh_from_db()
    assert session.user_verified is True
    claims = verify(ask(browser)["X-Smishguard-Assertion"])
    assert claims["amr"] == ["hwk", "user"]
    assert claims["auth_time"] == int(session.last_assertion_at.timestamp())

    options = post(browser, "/api/webauthn/stepup/options", {})
    assert post(browser, "/api/webauthn/stepup/verify", key.assertion(options.json(), uv=False)).status_code == 200
    session.refresh_from_db()
    assert session.user_verified is False  # "user" is about the last key assertion, not any earlier one


# --------------------------------------------------------------------------------------------------------
# Rotation
# --------------------------------------------------------------------------------------------------------


def rotate(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["gateway", "rotate-key", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_rotate_key_signs_with_the_new_key_and_keeps_the_old_one_published(db, capsys):
    bob, key = employee()
    client, _ = signed_in(bob, key)
    before = ask(client)["X-Smishguard-Assertion"]
    old_kid = jwt.get_unverified_header(before)["kid"]

    code, out, err = rotate(capsys, "--json")
    assert (code, err) == (0, "")
    rotated = json.loads(out)
    assert rotated["kid"] != old_kid
    assert rotated["retired"] == [old_kid]

    after = ask(client)["X-Smishguard-Assertion"]
    assert jwt.get_unverified_header(after)["kid"] == rotated["kid"]
    published = {k["kid"] for k in jwks()["keys"]}
    assert published == {old_kid, rotated["kid"]}
    assert verify(before)["email"] == "bob@example.com"  # signed before the rotation, still verifies
    assert verify(after)["email"] == "bob@example.com"

    old = SigningKey.objects.get(kid=old_kid)
    assert not old.current
    assert old.retired_at is not None
    assert bytes(old.private_key) == b""  # a retired key never signs again: its private key is gone
    event = Event.objects.get(action=Action.GATEWAY_KEY_ROTATED.value)
    assert event.detail["kid"] == rotated["kid"]
    assert event.detail["retired"] == [old_kid]
    assert "private" not in json.dumps(event.detail)

    # Long after every assertion it signed has expired, the old key leaves the JWKS.
    later = timezone.now() + timedelta(seconds=keys.PUBLISH_RETIRED_SECONDS + 1)
    with time_machine.travel(later):
        assert {k["kid"] for k in jwks()["keys"]} == {rotated["kid"]}
    assert keys.PUBLISH_RETIRED_SECONDS >= 2 * 60


def test_rotate_key_prints_the_new_kid(db, capsys):
    code, out, err = rotate(capsys)
    assert (code, err) == (0, "")
    assert out.strip() == SigningKey.objects.get(current=True).kid
    assert "PRIVATE" not in out


@pytest.mark.parametrize("argv", [["--bogus"], ["extra"], ["--json=yes"]])
def test_rotate_key_bad_input_is_one_readable_line_and_exit_2(db, capsys, argv):
    current = SigningKey.objects.get(current=True).kid
    with pytest.raises(SystemExit) as exited:
        cli.main(["gateway", "rotate-key", *argv])
    assert exited.value.code == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert ": error:" in err
    assert argv[0].split("=")[0] in err
    assert SigningKey.objects.get(current=True).kid == current


# --------------------------------------------------------------------------------------------------------
# Storage: the private key only encrypted; a changed SECRET_KEY
# --------------------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_row_holds_no_private_key_in_clear_and_the_jwks_only_public_parts(db):
    signer = keys.signer()
    assert signer is not None
    row = SigningKey.objects.get(kid=signer.kid)
    stored = bytes(row.private_key) + json.dumps(row.public_jwk).encode()
    private = signer.private_key
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    d = private.private_numbers().private_value.to_bytes(32, "big")
    assert b"PRIVATE KEY" not in stored
    assert pem not in stored
    assert der not in stored
    assert d not in stored
    assert b64url(d).encode() not in stored
    assert "d" not in row.public_jwk
    for published in jwks()["keys"]:
        assert set(published) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert b64url(d) not in Client().get(JWKS).content.decode()


def test_a_changed_secret_key_gives_no_500_no_assertion_and_doctor_says_why(db, settings, capsys, caplog):
    bob, key = employee()
    client, _ = signed_in(bob, key)
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-" + "x" * 50
    keys.forget()
    with caplog.at_level(logging.ERROR, logger="smishguard.gateway.keys"):
        response = client.get(CHECK, HTTP_X_ORIGINAL_METHOD="GET", HTTP_X_ORIGINAL_URL=f"{APP}/customers/42")
    assert response.status_code == 200
    assert response["Remote-User"] == "bob@example.com"  # the decision stands; the app that verifies refuses
    assert "X-Smishguard-Assertion" not in response
    assert any("cannot be decrypted" in r.getMessage() for r in caplog.records)
    assert old_secret not in caplog.text
    assert jwks()["keys"]  # the public keys are still served

    report = doctor.Report()
    doctor.gateway_signing_key(report)
    assert "cannot be decrypted" in report.unsafe["gateway_key"]
    assert "rotate-key" in report.unsafe["gateway_key"]

    # The old secret among SECRET_KEY_FALLBACKS: the key decrypts again.
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    keys.forget()
    assert verify(ask(client)["X-Smishguard-Assertion"])["email"] == "bob@example.com"

    # Without it, rotate-key is the way out: a new key under the new secret.
    settings.SECRET_KEY_FALLBACKS = []
    code, _, _ = rotate(capsys)
    assert code == 0
    assert verify(ask(client)["X-Smishguard-Assertion"])["email"] == "bob@example.com"
    report = doctor.Report()
    doctor.gateway_signing_key(report)
    assert "gateway_key" not in report.unsafe


def test_a_steady_state_check_asks_the_database_nothing_about_the_key(db):
    bob, key = employee()
    client, _ = signed_in(bob, key)
    ask(client)  # the key read and decrypted once
    with CaptureQueriesContext(connection) as queries:
        ask(client)
    table = SigningKey._meta.db_table
    assert not [q for q in queries if table in q["sql"]]
    # The session's key (hwk or swk) comes with the session's own look-up, joined: no query of its own.
    credentials, sessions_table = Credential._meta.db_table, Session._meta.db_table
    assert all(sessions_table in q["sql"] for q in queries if credentials in q["sql"])


# --------------------------------------------------------------------------------------------------------
# One current key: the constraint that settles a race, and the key made on first need
# --------------------------------------------------------------------------------------------------------


def test_the_database_refuses_a_second_current_key(db):
    assert SigningKey.objects.filter(current=True).count() == 1  # made by `smishguard migrate`
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(**keys.new_key_fields(timezone.now()))
    assert SigningKey.objects.filter(current=True).count() == 1


def test_with_no_key_the_first_need_makes_one_and_then_reuses_it(db):
    SigningKey.objects.all().delete()
    keys.forget()
    bob, key = employee()
    client, _ = signed_in(bob, key)
    token = ask(client)["X-Smishguard-Assertion"]
    assert SigningKey.objects.count() == 1
    assert keys.create_first().kid == jwt.get_unverified_header(token)["kid"]
    assert verify(token)["email"] == "bob@example.com"
    assert SigningKey.objects.count() == 1
