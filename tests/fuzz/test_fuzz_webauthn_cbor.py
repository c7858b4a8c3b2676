"""Property tests over the CBOR a key sends: the attestationObject (with its authenticator data and COSE key) at
registration, the authenticator data at sign-in, and the COSE public key stored for a key.  Arbitrary bytes and
mutations of a valid soft key's (tests/support/softkey.py) end in a result or in one of the ceremony's narrow
errors (a subclass of passkeys.errors.WebAuthnError), never in any other exception."""

from __future__ import annotations

import pytest
from fuzzing import FUZZ, mutated
from hypothesis import example, given, settings
from hypothesis import strategies as st
from softkey import SoftKey, b64url, unb64url

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys.ceremonies import (
    parse_authentication_response,
    parse_registration_response,
    verify_authentication,
    verify_registration,
)
from smishguard.passkeys.errors import WebAuthnError

pytestmark = pytest.mark.once

EXAMPLES = 150  # max_examples: hypothesis tries this many (fewer only if the strategy has fewer)
RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
CHALLENGE = bytes(range(32))
POLICY = WebAuthnPolicy(user_verification="preferred", attestation="direct")
CREATION = {
    "rp": {"id": RP_ID, "name": "smishguard"},
    "user": {"id": b64url(b"user-1")},
    "challenge": b64url(CHALLENGE),
}
REQUEST = {"rpId": RP_ID, "challenge": b64url(CHALLENGE)}


def _narrow(exc: Exception) -> None:
    assert isinstance(exc, WebAuthnError), repr(exc)
    assert type(exc) is not WebAuthnError, repr(exc)  # one of its narrow subclasses


# One soft key of each attestation format, registered once (their valid answers are what the mutations start from).
KEYS = {fmt: SoftKey(attestation=fmt, credential_id=bytes([7]) * 32) for fmt in ("none", "packed-self")}
REGISTRATIONS = {fmt: key.register(CREATION, origin=ORIGIN) for fmt, key in KEYS.items()}


def _register(registration: dict, attestation_object: bytes, *, valid: bool) -> None:
    body = {**registration, "response": {**registration["response"], "attestationObject": b64url(attestation_object)}}
    try:
        verified = verify_registration(
            response=parse_registration_response(body),
            expected_challenge=CHALLENGE,
            rp_id=RP_ID,
            origin=ORIGIN,
            policy=POLICY,
        )
    except Exception as exc:
        if valid:
            raise  # the soft key's own answer verifies
        _narrow(exc)
    else:
        assert verified.credential_id == bytes([7]) * 32


@given(fmt=st.sampled_from(sorted(KEYS)), data=st.data())
@example(fmt="none", data=None)
@settings(FUZZ, max_examples=EXAMPLES)
def test_an_attestation_object_of_any_bytes_verifies_or_raises_a_narrow_error(fmt, data):
    valid = unb64url(REGISTRATIONS[fmt]["response"]["attestationObject"])
    attestation_object = valid if data is None else data.draw(mutated(valid))
    _register(REGISTRATIONS[fmt], attestation_object, valid=data is None)


def _assertion(key: SoftKey) -> dict:
    return key.assertion(REQUEST, origin=ORIGIN, sign_count=5)


@given(authenticator_data=st.binary(max_size=300) | st.just(b"") | st.builds(bytes, st.lists(st.integers(0, 255))))
@settings(FUZZ, max_examples=EXAMPLES)
def test_authenticator_data_of_any_bytes_signs_in_or_raises_a_narrow_error(authenticator_data):
    key = KEYS["none"]
    body = _assertion(key)
    body["response"]["authenticatorData"] = b64url(authenticator_data)
    try:
        verify_authentication(
            response=parse_authentication_response(body),
            expected_challenge=CHALLENGE,
            rp_id=RP_ID,
            origin=ORIGIN,
            policy=POLICY,
            public_key=key.cose_public_key(),
            stored_sign_count=0,
            backup_eligible=False,
        )
    except Exception as exc:  # noqa: BLE001 - the property: which exception it is
        _narrow(exc)


@given(data=st.data())
@example(data=None)
@settings(FUZZ, max_examples=EXAMPLES)
def test_a_stored_cose_key_of_any_bytes_verifies_or_raises_a_narrow_error(data):
    key = KEYS["packed-self"]
    valid = key.cose_public_key()
    public_key = valid if data is None else data.draw(mutated(valid))
    body = _assertion(key)
    try:
        verified = verify_authentication(
            response=parse_authentication_response(body),
            expected_challenge=CHALLENGE,
            rp_id=RP_ID,
            origin=ORIGIN,
            policy=POLICY,
            public_key=public_key,
            stored_sign_count=0,
            backup_eligible=False,
        )
    except Exception as exc:
        if data is None:
            raise  # the soft key's own key verifies
        _narrow(exc)
    else:
        assert verified.sign_count == 5
