"""The one package that talks to py_webauthn and python-fido2's MDS3 support (an import-linter contract in
pyproject.toml keeps every other module of smishguard off both).

Everything here is pure: bytes and policies in, frozen results out, no database.  Each check runs in the
order of the WebAuthn Level 3 spec (§7.1 registration, §7.2 authentication) and raises one narrow exception
from :mod:`smishguard.passkeys.errors`; py_webauthn's own exceptions are turned into ours here, once.
py_webauthn is still called for what it does best (attestation statement formats, signatures); our checks
before it give each failure its own name and carry what the caller needs to record (the origin seen).

One module per step: ``trust`` (MDS3 BLOB, configured roots), ``options`` (what the browser is asked),
``parsing`` (what it sent), ``checks`` (what both ceremonies check), ``attestation`` (registration, §7.1),
``assertion`` (authentication, §7.2); ``results`` holds the frozen types.  The names below are what the rest
of passkeys uses.
"""

from __future__ import annotations

from smishguard.passkeys.ceremonies.assertion import verify_authentication
from smishguard.passkeys.ceremonies.attestation import verify_registration
from smishguard.passkeys.ceremonies.options import authentication_options, registration_options
from smishguard.passkeys.ceremonies.parsing import (
    client_data_from,
    from_base64url,
    parse_authentication_response,
    parse_registration_response,
    to_base64url,
)
from smishguard.passkeys.ceremonies.results import (
    AuthenticationResponse,
    CeremonyOptions,
    ClientData,
    RegistrationResponse,
    VerifiedAssertion,
    VerifiedKey,
)
from smishguard.passkeys.ceremonies.trust import EMPTY_TRUST, TrustStore, load_trust

__all__ = [
    "EMPTY_TRUST",
    "AuthenticationResponse",
    "CeremonyOptions",
    "ClientData",
    "RegistrationResponse",
    "TrustStore",
    "VerifiedAssertion",
    "VerifiedKey",
    "authentication_options",
    "client_data_from",
    "from_base64url",
    "load_trust",
    "parse_authentication_response",
    "parse_registration_response",
    "registration_options",
    "to_base64url",
    "verify_authentication",
    "verify_registration",
]
