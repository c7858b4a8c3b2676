"""Tree heads, verified with the log's key before anyone moves forward on them.

* RFC 6962 §3.5 / §4.3 ``get-sth``: ``tree_head_signature`` is a TLS ``digitally-signed`` struct over
  ``TreeHeadSignature{version v1, signature_type tree_hash, timestamp, tree_size, sha256_root_hash}``.
* c2sp.org/static-ct-api checkpoints: a signed note (c2sp.org/signed-note, c2sp.org/tlog-checkpoint) whose
  log signature is an ``RFC6962NoteSignature`` = ``uint64 timestamp || digitally-signed TreeHeadSignature``,
  key ID = SHA-256(key name || 0x0A || 0x05 || 32-byte LogID)[:4], key name = the origin line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .errors import MalformedEntry, TreeHeadInvalid
from .loglist import LogInfo, PublicKey
from .wire import TLSReader

_HASH_SHA256 = 4
_SIG_RSA = 1
_SIG_ECDSA = 3
_NOTE_TYPE_RFC6962 = 0x05
MAX_CHECKPOINT_BYTES = 64 * 1024
MAX_NOTE_SIGNATURES = 64


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A verified tree head: the log's signed statement of its size and root hash at a time."""

    tree_size: int
    timestamp_ms: int
    root_hash: bytes

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp.isoformat(),
            "root_hash": base64.b64encode(self.root_hash).decode("ascii"),
        }


def tree_head_signature_input(*, timestamp_ms: int, tree_size: int, root_hash: bytes) -> bytes:
    """The bytes a log signs for a tree head (RFC 6962 §3.5 TreeHeadSignature)."""
    if len(root_hash) != 32:
        raise TreeHeadInvalid(f"root hash is {len(root_hash)} bytes, not 32")
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, tree_size) + root_hash


def verify_digitally_signed(key: PublicKey, message: bytes, digitally_signed: bytes) -> None:
    """Verify a TLS ``digitally-signed`` struct (hash alg, signature alg, opaque signature<0..2^16-1>).

    Raises ``TreeHeadInvalid`` when it is malformed, uses another algorithm than the key's, or does not verify.
    """
    try:
        reader = TLSReader(digitally_signed)
        hash_alg = reader.uint(1, "hash algorithm")
        sig_alg = reader.uint(1, "signature algorithm")
        signature = reader.opaque(2, "signature")
        reader.expect_end("digitally-signed struct")
    except MalformedEntry as exc:
        raise TreeHeadInvalid(f"tree head signature is malformed: {exc}") from exc
    if hash_alg != _HASH_SHA256:
        raise TreeHeadInvalid(f"tree head signature uses hash algorithm {hash_alg}, not SHA-256")
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if sig_alg != _SIG_ECDSA:
                raise TreeHeadInvalid(f"signature algorithm {sig_alg} does not match the log's ECDSA key")
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            if sig_alg != _SIG_RSA:
                raise TreeHeadInvalid(f"signature algorithm {sig_alg} does not match the log's RSA key")
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:  # pragma: no cover - load_log_key admits only the two
            raise TreeHeadInvalid("unsupported log key type")
    except InvalidSignature as exc:
        raise TreeHeadInvalid("tree head signature does not verify with the log's key") from exc
    except ValueError as exc:  # e.g. a DER ECDSA signature that does not parse
        raise TreeHeadInvalid(f"tree head signature is malformed: {exc}") from exc


def _b64_field(payload: Mapping[str, Any], name: str) -> bytes:
    value = payload.get(name)
    if not isinstance(value, str):
        raise TreeHeadInvalid(f"get-sth response has no {name} string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TreeHeadInvalid(f"get-sth {name} is not valid base64") from exc


def _uint_field(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
        raise TreeHeadInvalid(f"get-sth response has no valid {name}")
    return value


def verify_sth(payload: Mapping[str, Any], log: LogInfo) -> TreeHead:
    """Verify a decoded RFC 6962 ``get-sth`` response with ``log``'s key and return its ``TreeHead``."""
    if not isinstance(payload, Mapping):
        raise TreeHeadInvalid("get-sth response is not a JSON object")
    tree_size = _uint_field(payload, "tree_size")
    timestamp = _uint_field(payload, "timestamp")
    root_hash = _b64_field(payload, "sha256_root_hash")
    signature = _b64_field(payload, "tree_head_signature")
    message = tree_head_signature_input(timestamp_ms=timestamp, tree_size=tree_size, root_hash=root_hash)
    verify_digitally_signed(log.public_key, message, signature)
    return TreeHead(tree_size=tree_size, timestamp_ms=timestamp, root_hash=root_hash)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line of a signed note: ``— <name> base64(key ID || signature)``."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A parsed (not yet verified) checkpoint: note text fields and its signature lines."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...]
    text: bytes
    signatures: tuple[NoteSignature, ...]


def note_key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """The signed-note key ID: SHA-256(key name || 0x0A || key type byte || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes((key_type,)) + public_key).digest()[:4]


def rfc6962_note_key_id(name: str, log_id: bytes) -> bytes:
    """Key ID of a static-CT log's RFC6962NoteSignature (type 0x05 over the 32-byte LogID)."""
    return note_key_id(name, _NOTE_TYPE_RFC6962, log_id)


def parse_checkpoint(data: bytes | str) -> Checkpoint:
    """Split a checkpoint into note text and signature lines; raises ``TreeHeadInvalid`` when malformed."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise TreeHeadInvalid("checkpoint is larger than 64 KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TreeHeadInvalid("checkpoint is not valid UTF-8") from exc
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise TreeHeadInvalid("checkpoint contains control characters")
    if not text.endswith("\n"):
        raise TreeHeadInvalid("checkpoint does not end with a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise TreeHeadInvalid("checkpoint has no blank line before its signatures")
    body, sig_block = text[: split + 1], text[split + 2 :]
    sig_lines = sig_block[:-1].split("\n") if sig_block else []
    if not sig_lines or sig_lines == [""]:
        raise TreeHeadInvalid("checkpoint has no signature lines")
    if len(sig_lines) > MAX_NOTE_SIGNATURES:
        raise TreeHeadInvalid(f"checkpoint has more than {MAX_NOTE_SIGNATURES} signatures")
    signatures: list[NoteSignature] = []
    for line in sig_lines:
        if not line.startswith("\u2014 "):
            raise TreeHeadInvalid("checkpoint signature line does not start with an em dash")
        parts = line[2:].split(" ")
        if len(parts) != 2 or not parts[0] or "+" in parts[0]:
            raise TreeHeadInvalid("checkpoint signature line is not '— <name> <signature>'")
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TreeHeadInvalid("checkpoint signature is not valid base64") from exc
        if len(blob) < 5:
            raise TreeHeadInvalid("checkpoint signature is too short")
        signatures.append(NoteSignature(name=parts[0], key_id=blob[:4], signature=blob[4:]))
    lines = body[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise TreeHeadInvalid("checkpoint text needs origin, tree size and root hash lines")
    origin, size_line, hash_line = lines[0], lines[1], lines[2]
    if not size_line.isascii() or not size_line.isdigit() or (size_line != "0" and size_line.startswith("0")):
        raise TreeHeadInvalid(f"checkpoint tree size {size_line!r} is not a decimal number")
    tree_size = int(size_line)
    if tree_size >= 2**64:
        raise TreeHeadInvalid("checkpoint tree size is out of range")
    try:
        root_hash = base64.b64decode(hash_line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TreeHeadInvalid("checkpoint root hash is not valid base64") from exc
    if len(root_hash) != 32:
        raise TreeHeadInvalid("checkpoint root hash is not 32 bytes")
    return Checkpoint(
        origin=origin,
        tree_size=tree_size,
        root_hash=root_hash,
        extensions=tuple(lines[3:]),
        text=body.encode("utf-8"),
        signatures=tuple(signatures),
    )


def verify_checkpoint(data: bytes | str, log: LogInfo) -> TreeHead:
    """Verify a static-CT checkpoint with ``log``'s key and return its ``TreeHead``.

    The origin line must be the log's origin (its schema-less submission prefix); the signature whose key
    name and key ID are the log's must verify; signatures from other keys (witnesses) are ignored.
    """
    checkpoint = parse_checkpoint(data)
    origin = log.origin
    if checkpoint.origin != origin:
        raise TreeHeadInvalid(f"checkpoint origin {checkpoint.origin!r} is not the log's {origin!r}")
    if checkpoint.extensions:
        raise TreeHeadInvalid("a checkpoint with an RFC 6962 note signature must not carry extension lines")
    key_id = rfc6962_note_key_id(origin, log.log_id)
    ours = [s for s in checkpoint.signatures if s.name == origin and s.key_id == key_id]
    if not ours:
        raise TreeHeadInvalid("checkpoint carries no signature from the log's key")
    heads = []
    for sig in ours:  # every signature under the log's own name and key ID must verify
        if len(sig.signature) < 8:
            raise TreeHeadInvalid("RFC6962NoteSignature is too short")
        timestamp = int.from_bytes(sig.signature[:8], "big")
        message = tree_head_signature_input(
            timestamp_ms=timestamp, tree_size=checkpoint.tree_size, root_hash=checkpoint.root_hash
        )
        verify_digitally_signed(log.public_key, message, sig.signature[8:])
        heads.append(TreeHead(tree_size=checkpoint.tree_size, timestamp_ms=timestamp, root_hash=checkpoint.root_hash))
    return heads[0]
