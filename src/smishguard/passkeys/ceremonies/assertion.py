"""Authentication (WebAuthn Level 3 §7.2): an assertion by a stored key, checked in the order of the spec;
py_webauthn verifies the signature."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from webauthn import verify_authentication_response
from webauthn.helpers import parse_authenticator_data
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, WebAuthnException

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys.ceremonies.checks import check_client_data, check_rp_id_hash, check_user, origins
from smishguard.passkeys.ceremonies.results import AuthenticationResponse, VerifiedAssertion
from smishguard.passkeys.errors import (
    BackupEligibleRefused,
    BackupStateInvalid,
    CounterRegressed,
    MalformedCredential,
    SignatureInvalid,
)

log = logging.getLogger("smishguard.passkeys")


def verify_authentication(
    *,
    response: AuthenticationResponse,
    expected_challenge: bytes,
    rp_id: str,
    origin: str | Sequence[str],
    policy: WebAuthnPolicy,
    public_key: bytes,
    stored_sign_count: int,
    backup_eligible: bool,
) -> VerifiedAssertion:
    """Verify an assertion for a stored key.  CounterRegressed is raised only after the signature verifies,
    so nobody without the key can get it flagged."""
    check_client_data(response.client_data, expected_type="webauthn.get", challenge=expected_challenge, origin=origin)
    try:
        auth = parse_authenticator_data(response.credential.response.authenticator_data)
    except Exception:  # noqa: BLE001 - any failure to parse attacker-controlled bytes is malformed input
        raise MalformedCredential("authenticatorData is malformed") from None
    check_rp_id_hash(auth.rp_id_hash, rp_id)
    check_user(auth.flags, policy)
    if bool(auth.flags.be) != bool(backup_eligible):
        raise BackupStateInvalid()
    if policy.refuse_backup_eligible and auth.flags.be:
        raise BackupEligibleRefused()
    try:
        verify_authentication_response(
            credential=response.credential,
            expected_challenge=expected_challenge,
            expected_rp_id=rp_id,
            expected_origin=list(origins(origin)),
            credential_public_key=public_key,
            credential_current_sign_count=0,  # the counter is checked below, after the signature
            require_user_verification=False,
        )
    # IndexError, KeyError: py_webauthn reading a COSE public key it cannot decode (a damaged stored key)
    except (InvalidAuthenticationResponse, WebAuthnException, ValueError, TypeError, KeyError, IndexError) as exc:
        log.info("assertion signature check failed: %s", exc)
        raise SignatureInvalid() from None
    seen = auth.sign_count
    if (seen > 0 or stored_sign_count > 0) and seen <= stored_sign_count:
        raise CounterRegressed(stored=stored_sign_count, seen=seen)
    return VerifiedAssertion(
        credential_id=response.credential_id,
        sign_count=seen,
        user_verified=bool(auth.flags.uv),
        backed_up=bool(auth.flags.bs),
    )
