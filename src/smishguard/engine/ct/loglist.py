"""The logs to read, from a log list in the form of Chrome's ``log_list.json`` (v3).

``operators[].logs[]`` are RFC 6962 logs (``url``); ``operators[].tiled_logs[]`` are static-CT-API logs
(``submission_url`` and ``monitoring_url``). Each has ``description``, ``log_id`` (base64 SHA-256 of the DER
SubjectPublicKeyInfo) and ``key`` (base64 DER SPKI). The log ID is checked against the key here, once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from . import jsondoc
from .errors import LogListInvalid

LogAPI = Literal["rfc6962", "static"]
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise LogListInvalid(f"{what} is missing or not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LogListInvalid(f"{what} is not valid base64") from exc


def load_log_key(key_der: bytes) -> PublicKey:
    """Load a log's DER SPKI; only ECDSA P-256 and RSA (>= 2048 bits) keys sign CT tree heads."""
    try:
        key = load_der_public_key(key_der)
    except (ValueError, TypeError) as exc:
        raise LogListInvalid(f"log key is not a DER SubjectPublicKeyInfo: {exc}") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise LogListInvalid(f"log key is on {key.curve.name}, CT logs use P-256")
        return key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise LogListInvalid(f"log RSA key has {key.key_size} bits, fewer than 2048")
        return key
    raise LogListInvalid(f"log key type {type(key).__name__} is not ECDSA or RSA")


def _schemaless(url: str) -> str:
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            url = url[len(scheme) :]
            break
    return url.rstrip("/")


def _check_url(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise LogListInvalid(f"{what} is missing or not an http(s) URL")
    return value if value.endswith("/") else value + "/"


@dataclass(frozen=True, slots=True)
class LogInfo:
    """One log from the list: how to reach it and the key its tree heads must be signed with."""

    description: str
    log_id: bytes
    key_der: bytes
    api: LogAPI
    url: str  # where entries are read: the RFC 6962 base URL, or the static-CT monitoring prefix (ends "/")
    submission_url: str  # the RFC 6962 base URL, or the static-CT submission prefix (ends "/")
    operator: str = ""
    state: str = ""
    public_key: PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.log_id) != 32 or hashlib.sha256(self.key_der).digest() != self.log_id:
            raise LogListInvalid(f"log {self.description!r}: log_id is not the SHA-256 of its key")
        object.__setattr__(self, "public_key", load_log_key(self.key_der))

    @classmethod
    def from_key(
        cls, key_der: bytes, *, url: str, description: str = "", api: LogAPI = "rfc6962", submission_url: str = ""
    ) -> LogInfo:
        """A ``LogInfo`` whose log ID is computed from ``key_der`` (for configuration by hand and tests)."""
        url = _check_url(url, "url")
        return cls(
            description=description or url,
            log_id=hashlib.sha256(key_der).digest(),
            key_der=key_der,
            api=api,
            url=url,
            submission_url=_check_url(submission_url, "submission_url") if submission_url else url,
        )

    @property
    def log_id_b64(self) -> str:
        return base64.b64encode(self.log_id).decode("ascii")

    @property
    def origin(self) -> str:
        """The checkpoint origin (and note key name) of a static-CT log: its schema-less submission prefix."""
        return _schemaless(self.submission_url)

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "log_id": self.log_id_b64,
            "api": self.api,
            "url": self.url,
            "submission_url": self.submission_url,
            "operator": self.operator,
            "state": self.state,
        }


def _state_name(log: Mapping[str, Any]) -> str:
    state = log.get("state")
    if isinstance(state, Mapping) and state:
        return str(next(iter(state)))
    return ""


def parse_log_list(document: Mapping[str, Any] | str | bytes) -> tuple[LogInfo, ...]:
    """Every log in a v3 log list (RFC 6962 ``logs`` and static-CT ``tiled_logs``), in document order."""
    if isinstance(document, str | bytes):
        try:
            document = jsondoc.loads(document)
        except ValueError as exc:
            raise LogListInvalid(f"log list is not JSON: {exc}") from exc
    operators = document.get("operators") if isinstance(document, Mapping) else None
    if not isinstance(operators, list):
        raise LogListInvalid('log list has no "operators" list')
    logs: list[LogInfo] = []
    for op_number, operator in enumerate(operators):
        if not isinstance(operator, Mapping):
            raise LogListInvalid(f"operator #{op_number} is not an object")
        op_name = str(operator.get("name", ""))
        for api, key in (("rfc6962", "logs"), ("static", "tiled_logs")):
            items = operator.get(key, [])
            if not isinstance(items, list):
                raise LogListInvalid(f"operator {op_name!r}: {key} is not a list")
            for number, item in enumerate(items):
                where = f"operator {op_name!r} {key}[{number}]"
                if not isinstance(item, Mapping):
                    raise LogListInvalid(f"{where} is not an object")
                if api == "rfc6962":
                    url = _check_url(item.get("url"), f"{where} url")
                    submission = url
                else:
                    url = _check_url(item.get("monitoring_url"), f"{where} monitoring_url")
                    submission = _check_url(item.get("submission_url"), f"{where} submission_url")
                logs.append(
                    LogInfo(
                        description=str(item.get("description", "")) or url,
                        log_id=_b64(item.get("log_id"), f"{where} log_id"),
                        key_der=_b64(item.get("key"), f"{where} key"),
                        api=api,  # type: ignore[arg-type]
                        url=url,
                        submission_url=submission,
                        operator=op_name,
                        state=_state_name(item),
                    )
                )
    return tuple(logs)


def load_log_list(path: str | Path) -> tuple[LogInfo, ...]:
    """Read and parse a log list file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LogListInvalid(f"cannot read log list {path}: {exc.strerror}") from exc
    return parse_log_list(data)
