"""What the ceremonies hand back: frozen results with explicit fields (no library types leak out but the
parsed credential the verification steps pass back to py_webauthn)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webauthn.helpers import bytes_to_base64url


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
