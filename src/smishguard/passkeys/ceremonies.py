"""The one module that talks to py_webauthn and python-fido2's MDS3 support.

Everything here is pure: bytes and policies in, frozen results out, no database.  Each check runs in the
order of the WebAuthn Level 3 spec (§7.1 registration, §7.2 authentication) and raises one narrow exception
from :mod:`smishguard.passkeys.errors`; py_webauthn's own exceptions are turned into ours here, once.
py_webauthn is still called for what it does best (attestation statement formats, signatures); our checks
before it give each failure its own name and carry what the caller needs to record (the origin seen).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fido2.mds3 import AuthenticatorStatus, MdsAttestationVerifier, MetadataBlobPayloadEntry, parse_blob
from fido2.webauthn import Aaguid
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    aaguid_to_string,
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_attestation_object,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
    WebAuthnException,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AttestationFormat,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from smishguard.config import WebAuthnPolicy
from smishguard.errors import SmishguardError
from smishguard.passkeys.aaguids import ZERO_AAGUID, bundled_name
from smishguard.passkeys.errors import (
    AttestationUntrusted,
    BackupEligibleRefused,
    BackupStateInvalid,
    ChallengeNotFound,
    CounterRegressed,
    MalformedCredential,
    ModelNotAllowed,
    ModelRevoked,
    OriginMismatch,
    RegistrationInvalid,
    RPIDMismatch,
    SignatureInvalid,
    UserPresenceMissing,
    UserVerificationMissing,
)

log = logging.getLogger("smishguard.passkeys")

# The FIDO extension in an attestation certificate that names the authenticator model.
AAGUID_EXTENSION_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
# Formats whose chain py_webauthn checks against roots it bundles (Apple, Google) even when we give none.
_FORMATS_WITH_BUILTIN_ROOTS = frozenset(
    {AttestationFormat.APPLE, AttestationFormat.ANDROID_KEY, AttestationFormat.ANDROID_SAFETYNET}
)
# MDS3 statuses that make a model unacceptable at enrolment.
REFUSED_STATUSES = frozenset(
    {
        AuthenticatorStatus.REVOKED,
        AuthenticatorStatus.USER_VERIFICATION_BYPASS,
        AuthenticatorStatus.USER_KEY_REMOTE_COMPROMISE,
        AuthenticatorStatus.USER_KEY_PHYSICAL_COMPROMISE,
    }
)
MAX_CREDENTIAL_ID = 1023  # WebAuthn: credential ids are at most 1023 bytes
MAX_ORIGIN_SHOWN = 200
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


class TrustStoreError(SmishguardError):
    """The configured MDS3 BLOB or attestation root list cannot be read or verified."""

    code = "trust_store_unavailable"
    status = 503


# --------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CeremonyOptions:
    """Options for the browser, in the W3C WebAuthn Level 3 JSON form, and the challenge they carry."""

    challenge: bytes
    options: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.options)


@dataclass(frozen=True)
class ClientData:
    type: str
    challenge: bytes
    origin: str
    cross_origin: bool = False
    top_origin: str | None = None


@dataclass(frozen=True)
class RegistrationResponse:
    """A parsed RegistrationResponseJSON (not yet verified)."""

    credential_id: bytes
    client_data: ClientData
    transports: tuple[str, ...]
    credential: Any = field(repr=False, compare=False)  # py_webauthn's RegistrationCredential


@dataclass(frozen=True)
class AuthenticationResponse:
    """A parsed AuthenticationResponseJSON (not yet verified)."""

    credential_id: bytes
    user_handle: bytes | None
    client_data: ClientData
    credential: Any = field(repr=False, compare=False)  # py_webauthn's AuthenticationCredential


@dataclass(frozen=True)
class VerifiedKey:
    """A registration that passed every check and the policy: what to store."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    attestation_format: str
    attestation_verified: bool
    model: str
    backup_eligible: bool
    backed_up: bool
    user_verified: bool
    transports: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "credential_id": bytes_to_base64url(self.credential_id),
            "aaguid": self.aaguid,
            "model": self.model,
            "attestation_format": self.attestation_format,
            "attestation_verified": self.attestation_verified,
            "backup_eligible": self.backup_eligible,
            "backed_up": self.backed_up,
        }


@dataclass(frozen=True)
class VerifiedAssertion:
    credential_id: bytes
    sign_count: int
    user_verified: bool
    backed_up: bool


# --------------------------------------------------------------------------------------------------------
# Trust: the MDS3 BLOB and configured attestation roots
# --------------------------------------------------------------------------------------------------------


def _der_to_pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)


def _read_certs(path: str) -> list[x509.Certificate]:
    try:
        data = open(path, "rb").read()  # noqa: SIM115 - small file read once per change
    except OSError as exc:
        raise TrustStoreError(f"cannot read certificate file {path}: {exc}") from exc
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise TrustStoreError(f"{path} holds no valid X.509 certificate: {exc}") from exc


@dataclass(frozen=True)
class TrustStore:
    """Attestation trust: MDS3 entries by AAGUID (through fido2's verifier) and extra configured roots."""

    verifier: MdsAttestationVerifier | None = None
    extra_roots: tuple[bytes, ...] = ()  # PEM

    def entry(self, aaguid: str) -> MetadataBlobPayloadEntry | None:
        if self.verifier is None or aaguid == ZERO_AAGUID:
            return None
        try:
            return self.verifier.find_entry_by_aaguid(Aaguid.parse(aaguid))
        except ValueError:
            return None

    def model_name(self, aaguid: str) -> str | None:
        entry = self.entry(aaguid)
        if entry is not None and entry.metadata_statement is not None:
            return entry.metadata_statement.description
        return None

    def model_roots(self, aaguid: str) -> tuple[bytes, ...]:
        """PEM roots the MDS gives for this model."""
        entry = self.entry(aaguid)
        if entry is None or entry.metadata_statement is None:
            return ()
        return tuple(_der_to_pem(der) for der in entry.metadata_statement.attestation_root_certificates)

    def refusal(self, aaguid: str, chain: Sequence[bytes]) -> str | None:
        """The MDS status that makes this model (or this attestation certificate) unacceptable, if any."""
        entry = self.entry(aaguid)
        if entry is None:
            return None
        for report in entry.status_reports:
            if report.status in REFUSED_STATUSES:
                return str(report.status.value)
            if report.status == AuthenticatorStatus.ATTESTATION_KEY_COMPROMISE and (
                report.certificate is None or report.certificate in chain
            ):
                return str(report.status.value)
        return None


EMPTY_TRUST = TrustStore()
_trust_cache: dict[tuple[Any, ...], TrustStore] = {}
_trust_lock = threading.Lock()


def _mtime(path: str | None) -> float | None:
    if not path:
        return None
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def load_trust(policy: WebAuthnPolicy) -> TrustStore:
    """The trust store for a policy, read once and again whenever a configured file changes."""
    if not policy.mds_blob_path and not policy.extra_root_certs_path:
        return EMPTY_TRUST
    key = (
        policy.mds_blob_path,
        _mtime(policy.mds_blob_path),
        policy.mds_root_cert_path,
        _mtime(policy.mds_root_cert_path),
        policy.extra_root_certs_path,
        _mtime(policy.extra_root_certs_path),
    )
    with _trust_lock:
        cached = _trust_cache.get(key)
        if cached is not None:
            return cached
    store = _build_trust(policy)
    with _trust_lock:
        _trust_cache.clear()
        _trust_cache[key] = store
    return store


def _build_trust(policy: WebAuthnPolicy) -> TrustStore:
    verifier = None
    if policy.mds_blob_path:
        if not policy.mds_root_cert_path:
            raise TrustStoreError("mds_blob_path is set but mds_root_cert_path is not: the BLOB cannot be verified")
        root = _read_certs(policy.mds_root_cert_path)[0].public_bytes(Encoding.DER)
        try:
            blob = open(policy.mds_blob_path, "rb").read().strip()  # noqa: SIM115
        except OSError as exc:
            raise TrustStoreError(f"cannot read the MDS3 BLOB {policy.mds_blob_path}: {exc}") from exc
        try:
            payload = parse_blob(blob, root)
        except Exception as exc:
            raise TrustStoreError(f"the MDS3 BLOB {policy.mds_blob_path} does not verify: {exc}") from exc
        # No entry filter: revoked entries must stay visible so that we can refuse them by name.
        verifier = MdsAttestationVerifier(payload, entry_filter=None)
    extra: tuple[bytes, ...] = ()
    if policy.extra_root_certs_path:
        extra = tuple(c.public_bytes(Encoding.PEM) for c in _read_certs(policy.extra_root_certs_path))
    return TrustStore(verifier=verifier, extra_roots=extra)


# --------------------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------
# Parsing what the browser sent
# --------------------------------------------------------------------------------------------------------


def _as_mapping(data: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise MalformedCredential("the credential is not valid JSON") from None
    if not isinstance(data, Mapping):
        raise MalformedCredential("the credential must be a JSON object")
    return dict(data)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedCredential(f"{what} must be a base64url string")
    if not _BASE64URL.fullmatch(value):
        raise MalformedCredential(f"{what} is not valid base64url")
    try:
        return base64url_to_bytes(value)
    except (ValueError, TypeError):
        raise MalformedCredential(f"{what} is not valid base64url") from None


def client_data_from(client_data_json: bytes) -> ClientData:
    """Parse clientDataJSON; raises MalformedCredential."""
    try:
        parsed = parse_client_data_json(client_data_json)
        raw = json.loads(client_data_json)
    except Exception:  # noqa: BLE001 - any failure to parse attacker-controlled bytes is malformed input
        raise MalformedCredential("clientDataJSON is malformed") from None
    if not isinstance(parsed.origin, str) or not isinstance(parsed.type, str):
        raise MalformedCredential("clientDataJSON has a non-string origin or type")
    top = raw.get("topOrigin")
    return ClientData(
        type=str(parsed.type.value if hasattr(parsed.type, "value") else parsed.type),
        challenge=bytes(parsed.challenge),
        origin=parsed.origin,
        cross_origin=bool(raw.get("crossOrigin", False)),
        top_origin=top if isinstance(top, str) else None,
    )


def _common_checks(data: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    raw_id = _b64(data.get("rawId"), "rawId")
    if data.get("id") != bytes_to_base64url(raw_id) and _b64(data.get("id"), "id") != raw_id:
        raise MalformedCredential("id and rawId differ")
    if not raw_id or len(raw_id) > MAX_CREDENTIAL_ID:
        raise MalformedCredential("the credential id is empty or too long")
    if data.get("type") != "public-key":
        raise MalformedCredential('type must be "public-key"')
    response = data.get("response")
    if not isinstance(response, Mapping):
        raise MalformedCredential("response must be an object")
    return raw_id, dict(response)


def parse_registration_response(data: Mapping[str, Any] | str | bytes) -> RegistrationResponse:
    """RegistrationResponseJSON → RegistrationResponse; raises MalformedCredential."""
    data = _as_mapping(data)
    raw_id, response = _common_checks(data)
    client_data_json = _b64(response.get("clientDataJSON"), "response.clientDataJSON")
    _b64(response.get("attestationObject"), "response.attestationObject")
    transports = response.get("transports") or []
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise MalformedCredential("response.transports must be a list of strings")
    clean = {k: data[k] for k in ("id", "rawId", "type", "authenticatorAttachment") if k in data}
    clean["id"] = bytes_to_base64url(raw_id)
    clean["response"] = response
    try:
        credential = parse_registration_credential_json(clean)
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise MalformedCredential(f"the registration response is malformed: {exc}") from None
    return RegistrationResponse(
        credential_id=raw_id,
        client_data=client_data_from(client_data_json),
        transports=tuple(t for t in transports[:10] if len(t) <= 32),
        credential=credential,
    )


def parse_authentication_response(data: Mapping[str, Any] | str | bytes) -> AuthenticationResponse:
    """AuthenticationResponseJSON → AuthenticationResponse; raises MalformedCredential."""
    data = _as_mapping(data)
    raw_id, response = _common_checks(data)
    client_data_json = _b64(response.get("clientDataJSON"), "response.clientDataJSON")
    _b64(response.get("authenticatorData"), "response.authenticatorData")
    _b64(response.get("signature"), "response.signature")
    user_handle = None
    if response.get("userHandle") not in (None, ""):
        user_handle = _b64(response.get("userHandle"), "response.userHandle")
    clean = {k: data[k] for k in ("id", "rawId", "type", "authenticatorAttachment") if k in data}
    clean["id"] = bytes_to_base64url(raw_id)
    clean["response"] = {k: v for k, v in response.items() if k != "userHandle" or v}
    try:
        credential = parse_authentication_credential_json(clean)
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise MalformedCredential(f"the authentication response is malformed: {exc}") from None
    return AuthenticationResponse(
        credential_id=raw_id,
        user_handle=user_handle,
        client_data=client_data_from(client_data_json),
        credential=credential,
    )


# --------------------------------------------------------------------------------------------------------
# Checks shared by both ceremonies
# --------------------------------------------------------------------------------------------------------


def _origins(origin: str | Sequence[str]) -> tuple[str, ...]:
    return (origin,) if isinstance(origin, str) else tuple(origin)


def _check_client_data(cd: ClientData, *, expected_type: str, challenge: bytes, origin: str | Sequence[str]) -> None:
    if cd.type != expected_type:
        raise MalformedCredential(f"clientDataJSON.type is {cd.type[:40]!r}, expected {expected_type!r}")
    if not hmac.compare_digest(cd.challenge, challenge):
        raise ChallengeNotFound("the response answers another challenge")
    if cd.origin not in _origins(origin):
        raise OriginMismatch(
            f"the response was made for {cd.origin[:MAX_ORIGIN_SHOWN]}, not this site",
            origin_seen=cd.origin[:MAX_ORIGIN_SHOWN],
        )
    if cd.cross_origin:
        seen = (cd.top_origin or cd.origin)[:MAX_ORIGIN_SHOWN]
        raise OriginMismatch(f"the response was made inside a frame on {seen}", origin_seen=seen)


def _check_rp_id_hash(rp_id_hash: bytes, rp_id: str) -> None:
    if not hmac.compare_digest(rp_id_hash, hashlib.sha256(rp_id.encode()).digest()):
        raise RPIDMismatch(f"the authenticator signed for another relying party than {rp_id}")


def _check_user(flags: Any, policy: WebAuthnPolicy) -> None:
    if not flags.up:
        raise UserPresenceMissing()
    if policy.user_verification == "required" and not flags.uv:
        raise UserVerificationMissing()
    if flags.bs and not flags.be:
        raise MalformedCredential("authenticator data says backed up but not backup eligible")


# --------------------------------------------------------------------------------------------------------
# Registration (§7.1)
# --------------------------------------------------------------------------------------------------------


def _leaf_aaguid(der: bytes) -> bytes | None:
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


def _library_verify_registration(
    response: RegistrationResponse,
    *,
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
        expected_origin=list(_origins(origin)),
        require_user_verification=False,  # checked above, with its own exception
        pem_root_certs_bytes_by_fmt={fmt: list(roots)} if roots else None,
    )


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
    _check_client_data(
        response.client_data, expected_type="webauthn.create", challenge=expected_challenge, origin=origin
    )
    try:
        att = parse_attestation_object(response.credential.response.attestation_object)
    except Exception:  # noqa: BLE001 - any failure to parse attacker-controlled CBOR is malformed input
        raise MalformedCredential("attestationObject is not valid CBOR of the expected shape") from None
    auth = att.auth_data
    _check_rp_id_hash(auth.rp_id_hash, rp_id)
    _check_user(auth.flags, policy)
    if policy.refuse_backup_eligible and auth.flags.be:
        raise BackupEligibleRefused()
    acd = auth.attested_credential_data
    if acd is None or not acd.credential_id or not acd.credential_public_key:
        raise MalformedCredential("the attestation carries no credential")
    if acd.credential_id != response.credential_id:
        raise MalformedCredential("the attested credential id differs from rawId")
    aaguid = aaguid_to_string(acd.aaguid)
    fmt = att.fmt
    x5c = list(att.att_stmt.x5c or [])

    status = trust.refusal(aaguid, x5c)
    if status is not None:
        raise ModelRevoked(f"the FIDO Metadata Service lists this model as {status}", aaguid=aaguid, status=status)
    allowed = {a.lower() for a in policy.allowed_aaguids}
    if allowed and aaguid not in allowed:
        raise ModelNotAllowed(aaguid=aaguid)
    if allowed and (fmt == AttestationFormat.NONE or not x5c):
        raise AttestationUntrusted(
            "this organisation accepts only keys whose attestation chains to a trusted root; "
            "self-attestation and no attestation are refused",
            aaguid=aaguid,
            format=str(fmt),
        )
    if x5c:
        cert_aaguid = _leaf_aaguid(x5c[0])
        if cert_aaguid is not None and cert_aaguid != acd.aaguid:
            raise AttestationUntrusted("the attestation certificate names another model", aaguid=aaguid)
    else:
        cert_aaguid = None

    model_roots = trust.model_roots(aaguid)
    verified = False
    anchored_to_model = False
    if x5c:
        for roots, to_model in ((model_roots, True), (trust.extra_roots, False)):
            if not roots:
                continue
            try:
                _library_verify_registration(
                    response, challenge=expected_challenge, rp_id=rp_id, origin=origin, fmt=fmt, roots=roots
                )
            except InvalidRegistrationResponse as exc:
                log.info(
                    "attestation of %s does not chain to %s roots: %s", aaguid, "MDS" if to_model else "extra", exc
                )
                continue
            except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
                raise RegistrationInvalid(f"the registration does not verify: {exc}") from None
            verified, anchored_to_model = True, to_model
            break
    checked = verified  # the library has verified the attestation statement
    if verified and cert_aaguid is None and not anchored_to_model:
        # A chain to a general root proves a genuine authenticator but not which model it is.
        verified = False
    if allowed and not verified:
        raise AttestationUntrusted("the attestation does not chain to a trusted root for this model", aaguid=aaguid)
    if not checked:
        try:
            _library_verify_registration(
                response, challenge=expected_challenge, rp_id=rp_id, origin=origin, fmt=fmt, roots=()
            )
        except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
            raise RegistrationInvalid(f"the registration does not verify: {exc}") from None
        verified = bool(x5c) and fmt in _FORMATS_WITH_BUILTIN_ROOTS and (cert_aaguid is not None)

    name = trust.model_name(aaguid) or bundled_name(aaguid)
    model = (
        (name or f"Attested authenticator {aaguid}") if verified else (f"{name} (unverified)" if name else "unverified")
    )
    return VerifiedKey(
        credential_id=acd.credential_id,
        public_key=acd.credential_public_key,
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


# --------------------------------------------------------------------------------------------------------
# Authentication (§7.2)
# --------------------------------------------------------------------------------------------------------


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
    _check_client_data(response.client_data, expected_type="webauthn.get", challenge=expected_challenge, origin=origin)
    try:
        auth = parse_authenticator_data(response.credential.response.authenticator_data)
    except Exception:  # noqa: BLE001 - any failure to parse attacker-controlled bytes is malformed input
        raise MalformedCredential("authenticatorData is malformed") from None
    _check_rp_id_hash(auth.rp_id_hash, rp_id)
    _check_user(auth.flags, policy)
    if bool(auth.flags.be) != bool(backup_eligible):
        raise BackupStateInvalid()
    if policy.refuse_backup_eligible and auth.flags.be:
        raise BackupEligibleRefused()
    try:
        verify_authentication_response(
            credential=response.credential,
            expected_challenge=expected_challenge,
            expected_rp_id=rp_id,
            expected_origin=list(_origins(origin)),
            credential_public_key=public_key,
            credential_current_sign_count=0,  # the counter is checked below, after the signature
            require_user_verification=False,
        )
    except (InvalidAuthenticationResponse, WebAuthnException, ValueError, TypeError, KeyError) as exc:
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


def to_base64url(data: bytes) -> str:
    return bytes_to_base64url(data)


def from_base64url(value: str) -> bytes:
    """Decode base64url; raises MalformedCredential."""
    return _b64(value, "value")
