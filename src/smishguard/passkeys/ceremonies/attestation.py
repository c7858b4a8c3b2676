"""Registration (WebAuthn Level 3 §7.1): a new key's attestation, checked step by step in the order of the spec
and then against the policy and the trust store; py_webauthn verifies the attestation statement itself.

One function per step, keyword-only arguments, one narrow exception per failure (py_webauthn's own style):
client data -> attestation object -> authenticator data -> attested credential -> model policy -> attestation
statement and its trust -> the key to store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from webauthn import verify_registration_response
from webauthn.helpers import aaguid_to_string, parse_attestation_object
from webauthn.helpers.exceptions import InvalidRegistrationResponse, WebAuthnException
from webauthn.helpers.structs import AttestationFormat, AttestationObject, AuthenticatorData

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys.aaguids import bundled_name
from smishguard.passkeys.ceremonies.checks import check_client_data, check_rp_id_hash, check_user, origins
from smishguard.passkeys.ceremonies.results import RegistrationResponse, VerifiedKey
from smishguard.passkeys.ceremonies.trust import EMPTY_TRUST, TrustStore
from smishguard.passkeys.errors import (
    AttestationUntrusted,
    BackupEligibleRefused,
    MalformedCredential,
    ModelNotAllowed,
    ModelRevoked,
    RegistrationInvalid,
)

log = logging.getLogger("smishguard.passkeys")

# The FIDO extension in an attestation certificate that names the authenticator model.
AAGUID_EXTENSION_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
# Formats whose chain py_webauthn checks against roots it bundles (Apple, Google) even when we give none.
_FORMATS_WITH_BUILTIN_ROOTS = frozenset(
    {AttestationFormat.APPLE, AttestationFormat.ANDROID_KEY, AttestationFormat.ANDROID_SAFETYNET}
)
# What py_webauthn raises for a statement it cannot verify (beyond InvalidRegistrationResponse).
_LIBRARY_ERRORS = (WebAuthnException, ValueError, TypeError, KeyError)


@dataclass(frozen=True)
class Attested:
    """What the attestation object says about the new key, once its authenticator data passed."""

    auth: AuthenticatorData
    credential_id: bytes
    public_key: bytes
    aaguid: str  # as text
    aaguid_bytes: bytes
    fmt: AttestationFormat
    x5c: tuple[bytes, ...]  # the attestation certificate chain, leaf first (empty for none/self)


def verify_registration(
    *,
    response: RegistrationResponse,
    expected_challenge: bytes,
    rp_id: str,
    origin: str | Sequence[str],
    policy: WebAuthnPolicy,
    trust: TrustStore = EMPTY_TRUST,
) -> VerifiedKey:
    """Verify a registration against the configuration and the policy; raises one narrow error per failure."""
    check_client_data(
        response.client_data, expected_type="webauthn.create", challenge=expected_challenge, origin=origin
    )
    att = parse_attestation(response=response)
    check_authenticator_data(auth=att.auth_data, rp_id=rp_id, policy=policy)
    attested = attested_credential(att=att, response=response)
    cert_aaguid = check_model(attested=attested, policy=policy, trust=trust)
    verified = verify_statement(
        response=response,
        attested=attested,
        cert_aaguid=cert_aaguid,
        expected_challenge=expected_challenge,
        rp_id=rp_id,
        origin=origin,
        policy=policy,
        trust=trust,
    )
    return verified_key(response=response, attested=attested, verified=verified, trust=trust)


def parse_attestation(*, response: RegistrationResponse) -> AttestationObject:
    """The attestationObject's CBOR; raises MalformedCredential."""
    try:
        return parse_attestation_object(response.credential.response.attestation_object)
    except Exception:  # noqa: BLE001 - any failure to parse attacker-controlled CBOR is malformed input
        raise MalformedCredential("attestationObject is not valid CBOR of the expected shape") from None


def check_authenticator_data(*, auth: AuthenticatorData, rp_id: str, policy: WebAuthnPolicy) -> None:
    """The RP ID hash, the user flags, and a backup-eligible (synced) key when the policy refuses those."""
    check_rp_id_hash(auth.rp_id_hash, rp_id)
    check_user(auth.flags, policy)
    if policy.refuse_backup_eligible and auth.flags.be:
        raise BackupEligibleRefused()


def attested_credential(*, att: AttestationObject, response: RegistrationResponse) -> Attested:
    """The credential the authenticator attests to: present, and the one the response names."""
    auth = att.auth_data
    acd = auth.attested_credential_data
    if acd is None or not acd.credential_id or not acd.credential_public_key:
        raise MalformedCredential("the attestation carries no credential")
    if acd.credential_id != response.credential_id:
        raise MalformedCredential("the attested credential id differs from rawId")
    return Attested(
        auth=auth,
        credential_id=acd.credential_id,
        public_key=acd.credential_public_key,
        aaguid=aaguid_to_string(acd.aaguid),
        aaguid_bytes=acd.aaguid,
        fmt=att.fmt,
        x5c=tuple(att.att_stmt.x5c or ()),
    )


def leaf_aaguid(der: bytes) -> bytes | None:
    """The AAGUID in an attestation certificate's FIDO extension, or None when it has none."""
    try:
        cert = x509.load_der_x509_certificate(der)
        ext = cert.extensions.get_extension_for_oid(AAGUID_EXTENSION_OID)
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        raise AttestationUntrusted("the attestation certificate cannot be parsed") from None
    value = getattr(ext.value, "value", b"")
    if len(value) == 18 and value[:2] == b"\x04\x10":
        return value[2:]
    raise AttestationUntrusted("the attestation certificate's AAGUID extension is malformed")


def check_model(*, attested: Attested, policy: WebAuthnPolicy, trust: TrustStore) -> bytes | None:
    """The model against the MDS statuses and the allow-list; returns the AAGUID the attestation certificate
    names (None when it names none).  With an allow-list, a model must prove itself with a certificate chain."""
    aaguid, fmt, x5c = attested.aaguid, attested.fmt, attested.x5c
    status = trust.refusal(aaguid, list(x5c))
    if status is not None:
        raise ModelRevoked(f"the FIDO Metadata Service lists this model as {status}", aaguid=aaguid, status=status)
    allowed = _allowed(policy)
    if allowed and aaguid not in allowed:
        raise ModelNotAllowed(aaguid=aaguid)
    if allowed and (fmt == AttestationFormat.NONE or not x5c):
        raise AttestationUntrusted(
            "this organisation accepts only keys whose attestation chains to a trusted root; "
            "self-attestation and no attestation are refused",
            aaguid=aaguid,
            format=str(fmt),
        )
    if not x5c:
        return None
    cert_aaguid = leaf_aaguid(x5c[0])
    if cert_aaguid is not None and cert_aaguid != attested.aaguid_bytes:
        raise AttestationUntrusted("the attestation certificate names another model", aaguid=aaguid)
    return cert_aaguid


def _allowed(policy: WebAuthnPolicy) -> set[str]:
    return {a.lower() for a in policy.allowed_aaguids}


def _library_verify(
    *,
    response: RegistrationResponse,
    challenge: bytes,
    rp_id: str,
    origin: str | Sequence[str],
    fmt: AttestationFormat,
    roots: Sequence[bytes],
) -> None:
    verify_registration_response(
        credential=response.credential,
        expected_challenge=challenge,
        expected_rp_id=rp_id,
        expected_origin=list(origins(origin)),
        require_user_verification=False,  # checked above, with its own exception
        pem_root_certs_bytes_by_fmt={fmt: list(roots)} if roots else None,
    )


def verify_statement(
    *,
    response: RegistrationResponse,
    attested: Attested,
    cert_aaguid: bytes | None,
    expected_challenge: bytes,
    rp_id: str,
    origin: str | Sequence[str],
    policy: WebAuthnPolicy,
    trust: TrustStore,
) -> bool:
    """Verify the attestation statement (py_webauthn); True when it also proves the model: a chain to the MDS
    roots of this model, or to a configured root with the model named in the certificate, or to a bundled
    (Apple, Google) root.  With an allow-list, a statement that proves nothing is refused."""
    aaguid, fmt, x5c = attested.aaguid, attested.fmt, attested.x5c
    check = {"response": response, "challenge": expected_challenge, "rp_id": rp_id, "origin": origin, "fmt": fmt}
    verified = False
    anchored_to_model = False
    if x5c:
        for roots, to_model in ((trust.model_roots(aaguid), True), (trust.extra_roots, False)):
            if not roots:
                continue
            try:
                _library_verify(**check, roots=roots)
            except InvalidRegistrationResponse as exc:
                log.info(
                    "attestation of %s does not chain to %s roots: %s", aaguid, "MDS" if to_model else "extra", exc
                )
                continue
            except _LIBRARY_ERRORS as exc:
                raise RegistrationInvalid(f"the registration does not verify: {exc}") from None
            verified, anchored_to_model = True, to_model
            break
    checked = verified  # the library has verified the attestation statement
    if verified and cert_aaguid is None and not anchored_to_model:
        # A chain to a general root proves a genuine authenticator but not which model it is.
        verified = False
    if _allowed(policy) and not verified:
        raise AttestationUntrusted("the attestation does not chain to a trusted root for this model", aaguid=aaguid)
    if not checked:
        try:
            _library_verify(**check, roots=())
        except _LIBRARY_ERRORS as exc:
            raise RegistrationInvalid(f"the registration does not verify: {exc}") from None
        verified = bool(x5c) and fmt in _FORMATS_WITH_BUILTIN_ROOTS and (cert_aaguid is not None)
    return verified


def verified_key(
    *, response: RegistrationResponse, attested: Attested, verified: bool, trust: TrustStore
) -> VerifiedKey:
    """The key to store, with its model's name ("... (unverified)" when the attestation did not prove it)."""
    aaguid, fmt, auth = attested.aaguid, attested.fmt, attested.auth
    name = trust.model_name(aaguid) or bundled_name(aaguid)
    model = (
        (name or f"Attested authenticator {aaguid}") if verified else (f"{name} (unverified)" if name else "unverified")
    )
    return VerifiedKey(
        credential_id=attested.credential_id,
        public_key=attested.public_key,
        sign_count=auth.sign_count,
        aaguid=aaguid,
        attestation_format=str(fmt.value if hasattr(fmt, "value") else fmt),
        attestation_verified=verified,
        model=model[:200],
        backup_eligible=bool(auth.flags.be),
        backed_up=bool(auth.flags.bs),
        user_verified=bool(auth.flags.uv),
        transports=response.transports,
    )
