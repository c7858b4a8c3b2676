"""Attestation trust: the FIDO Metadata Service (MDS3) BLOB, through python-fido2, and configured roots.

Read once per change of the configured files; a BLOB that does not verify, or a file that cannot be read, is
a TrustStoreError (enrolment does not go ahead without the check).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fido2.mds3 import AuthenticatorStatus, MdsAttestationVerifier, MetadataBlobPayloadEntry, parse_blob
from fido2.webauthn import Aaguid

from smishguard.config import WebAuthnPolicy
from smishguard.passkeys.aaguids import ZERO_AAGUID
from smishguard.passkeys.errors import TrustStoreError

# MDS3 statuses that make a model unacceptable at enrolment.
REFUSED_STATUSES = frozenset(
    {
        AuthenticatorStatus.REVOKED,
        AuthenticatorStatus.USER_VERIFICATION_BYPASS,
        AuthenticatorStatus.USER_KEY_REMOTE_COMPROMISE,
        AuthenticatorStatus.USER_KEY_PHYSICAL_COMPROMISE,
    }
)


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
