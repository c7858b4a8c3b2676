"""Options for the browser: PublicKeyCredentialCreationOptionsJSON and PublicKeyCredentialRequestOptionsJSON,
made by py_webauthn from the policy."""

from __future__ import annotations

from collections.abc import Sequence

from webauthn import generate_authentication_options, generate_registration_options
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys.ceremonies.results import CeremonyOptions


def _uv(policy: WebAuthnPolicy) -> UserVerificationRequirement:
    try:
        return UserVerificationRequirement(policy.user_verification)
    except ValueError:
        return UserVerificationRequirement.REQUIRED


def _descriptors(credentials: Sequence[tuple[bytes, Sequence[str]]]) -> list[PublicKeyCredentialDescriptor]:
    out = []
    for cred_id, transports in credentials:
        known = []
        for t in transports:
            try:
                known.append(AuthenticatorTransport(t))
            except ValueError:
                continue
        out.append(PublicKeyCredentialDescriptor(id=cred_id, transports=known or None))
    return out


def registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_id: bytes,
    user_name: str,
    user_display_name: str,
    policy: WebAuthnPolicy,
    exclude_credentials: Sequence[tuple[bytes, Sequence[str]]] = (),
    challenge: bytes | None = None,
) -> CeremonyOptions:
    """PublicKeyCredentialCreationOptionsJSON for one employee."""
    try:
        attestation = AttestationConveyancePreference(policy.attestation)
    except ValueError:
        attestation = AttestationConveyancePreference.DIRECT
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_id,
        user_name=user_name,
        user_display_name=user_display_name,
        challenge=challenge,
        timeout=policy.challenge_ttl_seconds * 1000,
        attestation=attestation,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=_uv(policy),
        ),
        exclude_credentials=_descriptors(exclude_credentials),
    )
    return CeremonyOptions(challenge=options.challenge, options=options_to_json_dict(options))


def authentication_options(
    *,
    rp_id: str,
    policy: WebAuthnPolicy,
    allow_credentials: Sequence[tuple[bytes, Sequence[str]]] = (),
    challenge: bytes | None = None,
) -> CeremonyOptions:
    """PublicKeyCredentialRequestOptionsJSON; an empty allow list asks for a discoverable credential."""
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=policy.challenge_ttl_seconds * 1000,
        allow_credentials=_descriptors(allow_credentials),
        user_verification=_uv(policy),
    )
    return CeremonyOptions(challenge=options.challenge, options=options_to_json_dict(options))
