"""passkeys.ceremonies.assertion: the sign-in checks (no database)."""

from __future__ import annotations

import pytest
from ceremony_helpers import ORIGIN, RP_ID, register
from softkey import SoftKey

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys import ceremonies as c
from smishguard.passkeys import errors


def assertion_result(key, verified, *, policy=None, stored=None, backup_eligible=False, **kwargs):
    options = c.authentication_options(rp_id=RP_ID, policy=policy or WebAuthnPolicy())
    response = c.parse_authentication_response(key.assertion(options.to_dict(), **kwargs))
    return c.verify_authentication(
        response=response,
        expected_challenge=options.challenge,
        rp_id=RP_ID,
        origin=ORIGIN,
        policy=policy or WebAuthnPolicy(),
        public_key=verified.public_key,
        stored_sign_count=verified.sign_count if stored is None else stored,
        backup_eligible=backup_eligible,
    )


@pytest.fixture
def key_and_record():
    key = SoftKey(rp_id=RP_ID, origin=ORIGIN)
    return key, register(key)


def test_good_assertion(key_and_record):
    key, record = key_and_record
    result = assertion_result(key, record)
    assert (result.sign_count, result.user_verified, result.backed_up) == (1, True, False)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"origin": "https://login-corp.test"}, errors.OriginMismatch),
        ({"origin": "https://login.example.com:8443"}, errors.OriginMismatch),
        ({"rp_id": "login.example.com"}, errors.RPIDMismatch),
        ({"uv": False}, errors.UserVerificationMissing),
        ({"up": False}, errors.UserPresenceMissing),
        ({"bs": True}, errors.MalformedCredential),
        ({"kind": "webauthn.create"}, errors.MalformedCredential),
        ({"corrupt": "signature"}, errors.SignatureInvalid),
        ({"corrupt": "authenticator_data"}, errors.MalformedCredential),
        ({"sign_count": 0, "stored": 4}, errors.CounterRegressed),
    ],
)
def test_assertion_refusals(key_and_record, kwargs, error):
    key, record = key_and_record
    stored = kwargs.pop("stored", None)
    with pytest.raises(error):
        assertion_result(key, record, stored=stored, **kwargs)


def test_origin_mismatch_carries_the_origin_seen(key_and_record):
    key, record = key_and_record
    with pytest.raises(errors.OriginMismatch) as caught:
        assertion_result(key, record, origin="https://login-corp.test")
    assert caught.value.origin_seen == "https://login-corp.test"
    assert caught.value.detail == {"origin_seen": "https://login-corp.test"}
