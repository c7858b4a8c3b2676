"""RFC 6962 log entries: MerkleTreeLeaf and static-CT TileLeaf parsed into ``LogEntry`` results.

A leaf is either an X.509 entry (the whole certificate) or a precertificate entry (the issuer's key hash and
the TBSCertificate, poison extension already removed by the log). Names come from the subject CN and the
SAN dNSNames, normalised by :mod:`.names`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from .errors import MalformedEntry
from .names import normalize_names
from .tiles import TILE_WIDTH
from .wire import TLSReader, wrap_tbs_certificate

EntryKind = Literal["x509", "precert"]

# What cryptography raises for a certificate it cannot read: ValueError, plus these Exception subclasses.
_CERT_ERRORS = (ValueError, x509.InvalidVersion, x509.DuplicateExtension, x509.UnsupportedGeneralNameType)

_X509_ENTRY = 0
_PRECERT_ENTRY = 1


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One certificate or precertificate seen in a log, reduced to what the watcher needs."""

    index: int
    timestamp: datetime
    kind: EntryKind
    names: tuple[str, ...]
    issuer: str
    not_before: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "timestamp": self.timestamp.isoformat(),
            "kind": self.kind,
            "names": list(self.names),
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat() if self.not_before else None,
        }


@dataclass(frozen=True, slots=True)
class EntryError:
    """An entry that could not be parsed; the entries around it are still read."""

    index: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "error": self.message}


@dataclass(frozen=True, slots=True)
class ParsedEntries:
    """The entries parsed from one response or tile, with the ones that failed beside them."""

    entries: tuple[LogEntry, ...]
    errors: tuple[EntryError, ...]

    @property
    def count(self) -> int:
        return len(self.entries) + len(self.errors)


def _ms_to_datetime(ms: int) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedEntry(f"timestamp {ms} is out of range") from exc


def _load_certificate(der: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except _CERT_ERRORS as exc:
        raise MalformedEntry(f"{what} is not a DER X.509 certificate: {exc}") from exc


def _name_string(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:  # pragma: no cover - cryptography validates names at load
        return ""


@lru_cache(maxsize=4096)
def _issuer_from_chain_cert(der: bytes) -> str | None:
    """Subject of the first chain certificate (the issuer); cached, issuers repeat across entries."""
    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except _CERT_ERRORS:
        return None


def describe_certificate(cert: x509.Certificate, *, issuer: str | None = None) -> tuple[tuple[str, ...], str, datetime]:
    """Return (names, issuer, not_before) of ``cert``: CN then SAN dNSNames, normalised and de-duplicated.

    ``issuer``, when the caller already knows it (from the entry's chain), is returned as given.
    """
    try:
        raw: list[str] = [
            value
            for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if isinstance(value := attr.value, str)
        ]
        try:
            san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        except x509.ExtensionNotFound:
            pass
        else:
            raw.extend(san.get_values_for_type(x509.DNSName))  # type: ignore[attr-defined]
        if issuer is None:
            issuer = _name_string(cert.issuer)
        not_before = cert.not_valid_before_utc
    except _CERT_ERRORS as exc:  # malformed or duplicate extensions, bad name encodings
        raise MalformedEntry(f"certificate fields could not be read: {exc}") from exc
    return normalize_names(raw), issuer, not_before


def _read_timestamped_entry(reader: TLSReader) -> tuple[int, int, bytes]:
    """Read a TimestampedEntry; return (timestamp ms, entry type, certificate DER or TBS DER)."""
    timestamp = reader.uint(8, "timestamp")
    entry_type = reader.uint(2, "entry type")
    if entry_type == _X509_ENTRY:
        body = reader.opaque(3, "ASN.1Cert")
    elif entry_type == _PRECERT_ENTRY:
        reader.fixed(32, "issuer_key_hash")
        body = reader.opaque(3, "TBSCertificate")
    else:
        raise MalformedEntry(f"unknown LogEntryType {entry_type}")
    if not body:
        raise MalformedEntry("empty certificate in entry")
    reader.opaque(2, "CtExtensions")
    return timestamp, entry_type, body


def _first_chain_issuer(extra_data: bytes) -> str | None:
    """Issuer name from an X509ChainEntry certificate_chain (get-entries ``extra_data``), if any."""
    if not extra_data:
        return None
    reader = TLSReader(extra_data)
    chain = reader.sub(3, "certificate_chain")
    if chain.remaining == 0:
        return None
    return _issuer_from_chain_cert(chain.opaque(3, "chain certificate"))


def _build_entry(index: int, timestamp: int, entry_type: int, body: bytes, chain_issuer: str | None) -> LogEntry:
    if entry_type == _X509_ENTRY:
        cert = _load_certificate(body, "X.509 entry")
        kind: EntryKind = "x509"
    else:
        cert = _load_certificate(wrap_tbs_certificate(body), "precertificate TBSCertificate")
        kind = "precert"
        chain_issuer = None  # the TBS issuer is the final issuer; a chain may start at a precert signer
    names, issuer, not_before = describe_certificate(cert, issuer=chain_issuer or None)
    return LogEntry(
        index=index,
        timestamp=_ms_to_datetime(timestamp),
        kind=kind,
        names=names,
        issuer=issuer,
        not_before=not_before,
    )


def parse_leaf(leaf_input: bytes, extra_data: bytes = b"", *, index: int) -> LogEntry:
    """Parse one RFC 6962 ``get-entries`` entry (raw bytes, base64 already decoded).

    Raises ``MalformedEntry`` on any structural or certificate error.
    """
    reader = TLSReader(leaf_input)
    version = reader.uint(1, "MerkleTreeLeaf version")
    if version != 0:
        raise MalformedEntry(f"unsupported MerkleTreeLeaf version {version}")
    leaf_type = reader.uint(1, "MerkleLeafType")
    if leaf_type != 0:
        raise MalformedEntry(f"unsupported MerkleLeafType {leaf_type}")
    timestamp, entry_type, body = _read_timestamped_entry(reader)
    reader.expect_end("MerkleTreeLeaf")
    chain_issuer = None
    if entry_type == _X509_ENTRY and extra_data:
        try:
            chain_issuer = _first_chain_issuer(extra_data)
        except MalformedEntry:
            chain_issuer = None  # a damaged chain does not hide the certificate's own names
    return _build_entry(index, timestamp, entry_type, body, chain_issuer)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedEntry(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEntry(f"{what} is not valid base64") from exc


def parse_get_entries(payload: Mapping[str, Any], *, start: int) -> ParsedEntries:
    """Parse a decoded ``get-entries`` JSON response whose first entry has index ``start``.

    One bad entry becomes an ``EntryError`` and does not stop the others. A response that is not of the
    form ``{"entries": [...]}`` raises ``MalformedEntry``.
    """
    items = payload.get("entries") if isinstance(payload, Mapping) else None
    if not isinstance(items, list):
        raise MalformedEntry('get-entries response has no "entries" list')
    entries: list[LogEntry] = []
    errors: list[EntryError] = []
    for offset, item in enumerate(items):
        index = start + offset
        try:
            if not isinstance(item, Mapping):
                raise MalformedEntry("entry is not a JSON object")
            leaf = _b64(item.get("leaf_input"), "leaf_input")
            extra = _b64(item.get("extra_data", ""), "extra_data")
            entries.append(parse_leaf(leaf, extra, index=index))
        except MalformedEntry as exc:
            errors.append(EntryError(index, str(exc)))
    return ParsedEntries(tuple(entries), tuple(errors))


def parse_data_tile(data: bytes, *, first_index: int, skip: int = 0, limit: int | None = None) -> ParsedEntries:
    """Parse a static-CT data tile (a sequence of TileLeaf) whose first leaf has index ``first_index``.

    ``skip`` leaves are read past without parsing their certificates and at most ``limit`` are returned
    after them. A framing error (the tile cannot be split into leaves) raises ``MalformedEntry``; a
    certificate that cannot be parsed becomes an ``EntryError`` for its index.
    """
    reader = TLSReader(data)
    raw: list[tuple[int, int, int, bytes]] = []
    position = 0
    while reader.remaining:
        if limit is not None and len(raw) >= limit:
            break
        timestamp, entry_type, body = _read_timestamped_entry(reader)
        if entry_type == _PRECERT_ENTRY:
            reader.opaque(3, "pre_certificate")
        fingerprints = reader.opaque(2, "certificate_chain")
        if len(fingerprints) % 32:
            raise MalformedEntry("certificate_chain is not a whole number of SHA-256 fingerprints")
        if position >= skip:
            raw.append((first_index + position, timestamp, entry_type, body))
        position += 1
    if position > TILE_WIDTH:
        raise MalformedEntry(f"data tile holds {position} leaves, more than {TILE_WIDTH}")
    entries: list[LogEntry] = []
    errors: list[EntryError] = []
    for index, timestamp, entry_type, body in raw:
        try:
            entries.append(_build_entry(index, timestamp, entry_type, body, None))
        except MalformedEntry as exc:
            errors.append(EntryError(index, str(exc)))
    return ParsedEntries(tuple(entries), tuple(errors))


__all__ = [
    "EntryError",
    "EntryKind",
    "LogEntry",
    "ParsedEntries",
    "describe_certificate",
    "parse_data_tile",
    "parse_get_entries",
    "parse_leaf",
]
