"""A software FIDO2 authenticator (ES256) for tests and benchmarks, plus a test attestation CA and MDS3 BLOBs.

    key = SoftKey()                                   # "none" attestation, UV on, counter from 0
    reg = key.register(creation_options_json)         # RegistrationResponseJSON (dict)
    auth = key.assertion(request_options_json)        # AuthenticationResponseJSON (dict), counter + 1

Switches on the constructor (the defaults) and per call (override once): ``origin``, ``rp_id``, ``uv``,
``up``, ``be``, ``bs``, ``sign_count`` (per call: the exact counter to report), ``corrupt`` (flip a byte in
"client_data", "authenticator_data", "signature", "attestation_object", or replace the attestation object
with "cbor" garbage).  Attestation: ``attestation="none" | "packed-self" | "packed"`` (the last needs
``ca=TestCA()``; its leaf carries the AAGUID extension 1.3.6.1.4.1.45724.1.1.4 unless told otherwise).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fido2 import cbor

VIRTUAL_AAGUID = "01020304-0506-0708-0102-030405060708"
YUBIKEY5_AAGUID = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"
AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

FLAG_UP, FLAG_UV, FLAG_BE, FLAG_BS, FLAG_AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _flip(data: bytes, index: int = -1) -> bytes:
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------------------


def _name(cn: str, ou: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smishguard tests"),
    ]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _ca_cert(key: Any, name: x509.Name, *, issuer_key: Any = None, issuer: x509.Name | None = None) -> x509.Certificate:
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(issuer_key or key, hashes.SHA256())
    )


class TestCA:
    """An attestation root (and optional intermediate) that issues authenticator attestation certificates."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str = "smishguard test attestation root", *, intermediate: bool = False) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _ca_cert(self.root_key, _name(name))
        self.issuer_key, self.issuer = self.root_key, self.root
        self.chain_tail: list[bytes] = []
        if intermediate:
            key = ec.generate_private_key(ec.SECP256R1())
            self.issuer = _ca_cert(
                key, _name(f"{name} intermediate"), issuer_key=self.root_key, issuer=self.root.subject
            )
            self.issuer_key = key
            self.chain_tail = [self.issuer.public_bytes(Encoding.DER)]

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(Encoding.PEM)

    @property
    def root_der(self) -> bytes:
        return self.root.public_bytes(Encoding.DER)

    def attestation_cert(self, aaguid: str | None) -> tuple[ec.EllipticCurvePrivateKey, list[bytes]]:
        """A batch attestation key and its x5c (leaf first).  ``aaguid=None`` leaves the extension out."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("smishguard soft authenticator", ou="Authenticator Attestation"))
            .issuer_name(self.issuer.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if aaguid is not None:
            value = b"\x04\x10" + uuid.UUID(aaguid).bytes
            builder = builder.add_extension(x509.UnrecognizedExtension(AAGUID_OID, value), critical=False)
        cert = builder.sign(self.issuer_key, hashes.SHA256())
        return key, [cert.public_bytes(Encoding.DER), *self.chain_tail]


# --------------------------------------------------------------------------------------------------------
# The authenticator
# --------------------------------------------------------------------------------------------------------


class SoftKey:
    """One ES256 credential on a software authenticator."""

    def __init__(
        self,
        *,
        aaguid: str = VIRTUAL_AAGUID,
        attestation: str = "none",
        ca: TestCA | None = None,
        cert_aaguid: str | bool | None = True,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool = True,
        up: bool = True,
        be: bool = False,
        bs: bool = False,
        sign_count: int = 0,
        counter_step: int = 1,
        credential_id: bytes | None = None,
        transports: Sequence[str] = ("usb",),
    ) -> None:
        if attestation not in {"none", "packed-self", "packed"}:
            raise ValueError(f"unknown attestation {attestation!r}")
        if attestation == "packed" and ca is None:
            ca = TestCA()
        self.aaguid = aaguid
        self.attestation = attestation
        self.ca = ca
        # True: the leaf names this key's AAGUID; a string: names that one; None/False: no extension.
        self.cert_aaguid = aaguid if cert_aaguid is True else (cert_aaguid or None)
        self.origin, self.rp_id = origin, rp_id
        self.uv, self.up, self.be, self.bs = uv, up, be, bs
        self.sign_count = sign_count
        self.counter_step = counter_step
        self.credential_id = credential_id or os.urandom(32)
        self.transports = list(transports)
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.user_handle: bytes | None = None
        self._att_key: ec.EllipticCurvePrivateKey | None = None
        self._x5c: list[bytes] = []

    # -- pieces ------------------------------------------------------------------------------------------

    def cose_public_key(self) -> bytes:
        nums = self.private_key.public_key().public_numbers()
        return cbor.encode({1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")})

    def _flags(self, *, uv: bool, up: bool, be: bool, bs: bool, at: bool = False) -> int:
        return (
            (FLAG_UP if up else 0)
            | (FLAG_UV if uv else 0)
            | (FLAG_BE if be else 0)
            | (FLAG_BS if bs else 0)
            | (FLAG_AT if at else 0)
        )

    @staticmethod
    def client_data(kind: str, challenge: str, origin: str, **extra: Any) -> bytes:
        body = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False, **extra}
        return json.dumps(body, separators=(",", ":")).encode()

    def _sign(self, key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    def _attestation_key(self) -> tuple[ec.EllipticCurvePrivateKey, list[bytes]]:
        if self._att_key is None:
            assert self.ca is not None
            self._att_key, self._x5c = self.ca.attestation_cert(self.cert_aaguid)
        return self._att_key, self._x5c

    # -- ceremonies --------------------------------------------------------------------------------------

    def register(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        attestation: str | None = None,
        uv: bool | None = None,
        up: bool | None = None,
        be: bool | None = None,
        bs: bool | None = None,
        corrupt: str | None = None,
        kind: str = "webauthn.create",
    ) -> dict[str, Any]:
        """Answer PublicKeyCredentialCreationOptionsJSON with RegistrationResponseJSON."""
        rp_id = rp_id or self.rp_id or options["rp"]["id"]
        origin = origin or self.origin or _default_origin(rp_id)
        self.user_handle = unb64url(options["user"]["id"])
        self.rp_id = self.rp_id or options["rp"]["id"]
        fmt = attestation or self.attestation
        flags = self._flags(
            uv=self.uv if uv is None else uv,
            up=self.up if up is None else up,
            be=self.be if be is None else be,
            bs=self.bs if bs is None else bs,
            at=True,
        )
        acd = (
            uuid.UUID(self.aaguid).bytes
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self.cose_public_key()
        )
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count) + acd
        client_data = self.client_data(kind, options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        if fmt == "none":
            statement: dict[str, Any] = {}
            fmt_name = "none"
        elif fmt == "packed-self":
            statement = {"alg": -7, "sig": self._sign(self.private_key, signed)}
            fmt_name = "packed"
        else:
            key, x5c = self._attestation_key()
            statement = {"alg": -7, "sig": self._sign(key, signed), "x5c": x5c}
            fmt_name = "packed"
        if corrupt == "attestation_signature" and "sig" in statement:
            statement["sig"] = _flip(statement["sig"])
        attestation_object = cbor.encode({"fmt": fmt_name, "attStmt": statement, "authData": auth_data})
        if corrupt == "client_data":
            client_data = _flip(client_data, 2)
        elif corrupt == "attestation_object":
            attestation_object = _flip(attestation_object, 40)
        elif corrupt == "cbor":
            attestation_object = b"\xa3\x63fmt\xff\x00garbage"
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": self.transports,
            },
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
        }

    def assertion(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool | None = None,
        up: bool | None = None,
        be: bool | None = None,
        bs: bool | None = None,
        sign_count: int | None = None,
        corrupt: str | None = None,
        user_handle: bytes | bool | None = True,
        kind: str = "webauthn.get",
    ) -> dict[str, Any]:
        """Answer PublicKeyCredentialRequestOptionsJSON with AuthenticationResponseJSON.

        The counter advances by ``counter_step`` (0 keeps it at 0, like many platform authenticators);
        ``sign_count`` reports an exact value once (and the key remembers it)."""
        rp_id = rp_id or self.rp_id or options.get("rpId") or "localhost"
        origin = origin or self.origin or _default_origin(rp_id)
        if sign_count is None:
            self.sign_count += self.counter_step
            sign_count = self.sign_count
        else:
            self.sign_count = sign_count
        flags = self._flags(
            uv=self.uv if uv is None else uv,
            up=self.up if up is None else up,
            be=self.be if be is None else be,
            bs=self.bs if bs is None else bs,
        )
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        client_data = self.client_data(kind, options["challenge"], origin)
        signature = self._sign(self.private_key, auth_data + hashlib.sha256(client_data).digest())
        if corrupt == "signature":
            signature = _flip(signature, 10)
        elif corrupt == "client_data":
            client_data = _flip(client_data, 2)
        elif corrupt == "authenticator_data":
            auth_data = _flip(auth_data, 40) if len(auth_data) > 40 else auth_data[:20]
        response: dict[str, Any] = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        handle = self.user_handle if user_handle is True else (user_handle or None)
        if handle:
            response["userHandle"] = b64url(handle)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
        }


def _default_origin(rp_id: str) -> str:
    return "http://localhost:8000" if rp_id == "localhost" else f"https://{rp_id}"


# --------------------------------------------------------------------------------------------------------
# FIDO Metadata Service (MDS3) BLOBs
# --------------------------------------------------------------------------------------------------------


@dataclass
class MdsSigner:
    """Signs MDS3 BLOBs (RS256 JWTs, as FIDO's) with a test root → signing certificate chain."""

    root_key: Any
    root: x509.Certificate
    key: Any
    cert: x509.Certificate

    @classmethod
    def create(cls) -> MdsSigner:
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root = _ca_cert(root_key, _name("smishguard test MDS root"))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("smishguard test MDS signer"))
            .issuer_name(root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256())
        )
        return cls(root_key, root, key, cert)

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(Encoding.PEM)

    def blob(self, entries: Sequence[dict[str, Any]], *, number: int = 1) -> bytes:
        header = {
            "alg": "RS256",
            "typ": "JWT",
            "x5c": [base64.b64encode(self.cert.public_bytes(Encoding.DER)).decode()],
        }
        payload = {
            "legalHeader": "test BLOB, not from the FIDO Alliance",
            "no": number,
            "nextUpdate": (_now() + dt.timedelta(days=30)).date().isoformat(),
            "entries": list(entries),
        }
        message = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
        signature = self.key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{message}.{b64url(signature)}".encode()


def mds_entry(
    aaguid: str,
    description: str,
    *,
    roots: Sequence[bytes] = (),
    statuses: Sequence[str] = ("FIDO_CERTIFIED_L1",),
    compromised_certificate: bytes | None = None,
) -> dict[str, Any]:
    """One MDS3 entry; ``roots`` are DER attestation roots; ``statuses`` in order (e.g. "REVOKED")."""
    reports: list[dict[str, Any]] = []
    for status in statuses:
        report: dict[str, Any] = {"status": status, "effectiveDate": "2024-01-01"}
        if status == "ATTESTATION_KEY_COMPROMISE" and compromised_certificate is not None:
            report["certificate"] = base64.b64encode(compromised_certificate).decode()
        reports.append(report)
    return {
        "aaguid": aaguid,
        "statusReports": reports,
        "timeOfLastStatusChange": "2024-01-01",
        "metadataStatement": {
            "aaguid": aaguid,
            "description": description,
            "authenticatorVersion": 1,
            "protocolFamily": "fido2",
            "schema": 3,
            "upv": [{"major": 1, "minor": 0}],
            "authenticationAlgorithms": ["secp256r1_ecdsa_sha256_raw"],
            "publicKeyAlgAndEncodings": ["cose"],
            "attestationTypes": ["basic_full"],
            "userVerificationDetails": [[{"userVerificationMethod": "presence_internal"}]],
            "keyProtection": ["hardware", "secure_element"],
            "matcherProtection": ["on_chip"],
            "attachmentHint": ["external", "wired"],
            "tcDisplay": [],
            "attestationRootCertificates": [base64.b64encode(r).decode() for r in roots],
        },
    }
