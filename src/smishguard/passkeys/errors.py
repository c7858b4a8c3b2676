"""One narrow exception per way a WebAuthn ceremony or a key operation can fail.

``code`` is stable (API clients and audit events match on it); ``status`` is the HTTP status the API edge
answers with.  Bad input (what the client sent cannot be parsed) is also a ``ValueError``.
"""

from __future__ import annotations

from smishguard.errors import Conflict, NotFound, SmishguardError


class WebAuthnError(SmishguardError):
    """The WebAuthn ceremony failed."""

    code = "webauthn_error"
    status = 400


# -- bad input -------------------------------------------------------------------------------------------


class MalformedCredential(WebAuthnError, ValueError):
    """The credential is malformed (bad JSON, base64url or CBOR, or a missing field)."""

    code = "malformed_credential"


class RegistrationInvalid(WebAuthnError, ValueError):
    """The registration response does not verify (bad attestation signature or structure)."""

    code = "registration_invalid"


class CredentialExists(Conflict):
    """This security key is already registered."""

    code = "credential_exists"


# -- challenges ------------------------------------------------------------------------------------------


class ChallengeNotFound(WebAuthnError):
    """The challenge is unknown: start the ceremony again."""

    code = "challenge_not_found"


class ChallengeReplayed(WebAuthnError):
    """The challenge has already been used: start the ceremony again."""

    code = "challenge_replayed"


class ChallengeExpired(WebAuthnError):
    """The challenge has expired: start the ceremony again."""

    code = "challenge_expired"


# -- what the browser and the authenticator say ----------------------------------------------------------


class OriginMismatch(WebAuthnError):
    """The response was made for another origin (a lookalike site?)."""

    code = "origin_mismatch"
    status = 403

    def __init__(self, message: str | None = None, *, origin_seen: str, **detail: object) -> None:
        super().__init__(message, origin_seen=origin_seen, **detail)
        self.origin_seen = origin_seen


class RPIDMismatch(WebAuthnError):
    """The authenticator signed for another relying party (RP ID hash mismatch)."""

    code = "rp_id_mismatch"
    status = 403


class UserPresenceMissing(WebAuthnError):
    """The authenticator did not report user presence."""

    code = "user_presence_missing"
    status = 403


class UserVerificationMissing(WebAuthnError):
    """The authenticator did not verify the user (PIN or biometric), which the policy requires."""

    code = "user_verification_missing"
    status = 403


# -- enrolment policy ------------------------------------------------------------------------------------


class PolicyRefused(WebAuthnError):
    """The security key does not meet the organisation's policy."""

    code = "policy_refused"
    status = 403


class ModelNotAllowed(PolicyRefused):
    """This authenticator model is not on the organisation's allow-list."""

    code = "model_not_allowed"


class BackupEligibleRefused(PolicyRefused):
    """Synced (backup-eligible) passkeys are not allowed: use a hardware security key."""

    code = "backup_eligible_refused"


class ModelRevoked(PolicyRefused):
    """The FIDO Metadata Service lists this authenticator model as revoked or compromised."""

    code = "model_revoked"


class AttestationUntrusted(PolicyRefused):
    """The key's attestation does not chain to a trusted root for its model."""

    code = "attestation_untrusted"


# -- sign-in ---------------------------------------------------------------------------------------------


class SignInRefused(WebAuthnError):
    """Sign-in refused."""

    code = "signin_refused"
    status = 401


class UnknownCredential(SignInRefused):
    """This security key is not registered."""

    code = "unknown_credential"


class CredentialRevoked(SignInRefused):
    """This security key has been removed or revoked."""

    code = "credential_revoked"


class KeyFlagged(SignInRefused):
    """This security key was flagged as possibly cloned; ask your security team."""

    code = "key_flagged"


class SignatureInvalid(SignInRefused):
    """The assertion's signature does not verify."""

    code = "signature_invalid"


class CounterRegressed(SignInRefused):
    """The key's signature counter went backwards: the key may have been cloned and is now flagged."""

    code = "counter_regressed"

    def __init__(self, message: str | None = None, *, stored: int, seen: int) -> None:
        super().__init__(message, stored=stored, seen=seen)
        self.stored = stored
        self.seen = seen


class BackupStateInvalid(SignInRefused):
    """The key's backup eligibility changed since it was registered."""

    code = "backup_state_invalid"


# -- configuration ---------------------------------------------------------------------------------------


class TrustStoreError(SmishguardError):
    """The configured MDS3 BLOB or attestation root list cannot be read or verified."""

    code = "trust_store_unavailable"
    status = 503


# -- key management --------------------------------------------------------------------------------------


class KeyNotFound(NotFound):
    """No such security key."""

    code = "key_not_found"


class InvalidKeyName(SmishguardError, ValueError):
    """A key name must be 1 to 100 printable characters."""

    code = "invalid_key_name"


class LastKey(Conflict):
    """You cannot remove your only security key: add a backup key first."""

    code = "last_key"
