"""Test CT logs on 127.0.0.1: an RFC 6962 log, a static-CT-API log, and a certstream websocket server.

Everything is real: certificates and precertificates (with the CT poison extension) are issued with
``cryptography`` by a test CA, leaves are encoded per RFC 6962 / c2sp.org/static-ct-api, root hashes are RFC
6962 Merkle tree hashes, and tree heads / checkpoints are signed by a test log key. Switches inject what real
logs do to clients: 429 and 500 answers (with Retry-After), a bad signature, a batch cap below the ask.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from smishguard.engine.ct import LogInfo, parse_tile_index_path, rfc6962_note_key_id, tree_head_signature_input

UTC = dt.UTC
BASE_TIME = dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Issued:
    """A certificate the test CA issued. For a precertificate: ``precert_der`` (with poison) and ``tbs_der``
    (the TBSCertificate without poison, as a log puts it in a precert entry)."""

    names: tuple[str, ...]
    common_name: str | None
    cert_der: bytes
    precert_der: bytes | None
    tbs_der: bytes | None
    not_before: dt.datetime

    @property
    def is_precert(self) -> bool:
        return self.precert_der is not None


class TestCA:
    """A CA that issues leaf certificates and precertificates for given names."""

    __test__ = False  # not a pytest class

    def __init__(self, name: str = "smishguard Test CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smishguard tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(1)
            .not_valid_before(BASE_TIME - dt.timedelta(days=365))
            .not_valid_after(BASE_TIME + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        spki = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_hash = hashlib.sha256(spki).digest()
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._serial = 1000

    def issue(
        self,
        names: Sequence[str],
        *,
        common_name: str | None = "",
        precert: bool = False,
        not_before: dt.datetime | None = None,
        realistic: bool = False,
    ) -> Issued:
        """Issue for ``names`` (SAN dNSNames); ``common_name`` defaults to the first name, ``None`` omits it.

        ``realistic`` adds the extensions a public CA's leaf carries (key usages, key identifiers, AIA,
        policies, CRL distribution point), so parsing costs what it costs on real log entries.
        """
        self._serial += 1
        cn = names[0] if common_name == "" and names else common_name
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
        start = not_before or BASE_TIME
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(self._leaf_key.public_key())
            .serial_number(self._serial)
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=90))
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        if realistic:
            builder = _add_realistic_extensions(builder, self.key.public_key(), self._leaf_key.public_key())
        final = builder.sign(self.key, hashes.SHA256())
        precert_der = tbs_der = None
        if precert:
            pre = builder.add_extension(x509.PrecertPoison(), critical=True).sign(self.key, hashes.SHA256())
            precert_der = pre.public_bytes(serialization.Encoding.DER)
            # The final certificate's TBS is the precertificate's TBS without the poison (RFC 6962 §3.1):
            # the same builder, so same serial, validity, key and extensions in the same order.
            tbs_der = final.tbs_certificate_bytes
        return Issued(
            names=tuple(names),
            common_name=cn,
            cert_der=final.public_bytes(serialization.Encoding.DER),
            precert_der=precert_der,
            tbs_der=tbs_der,
            not_before=start,
        )


CRL_URL = "http://c.ca.example/1.crl"


def _add_realistic_extensions(
    builder: x509.CertificateBuilder, ca_public: ec.EllipticCurvePublicKey, leaf_public: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

    return (
        builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://o.ca.example/")
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier("http://i.ca.example/r1.der"),
                    ),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("2.23.140.1.2.1"), None)]),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier("http://c.ca.example/1.crl")], None, None, None
                    )
                ]
            ),
            critical=False,
        )
    )


# --------------------------------------------------------------------------- RFC 6962 encodings


def _u24(data: bytes) -> bytes:
    return len(data).to_bytes(3, "big") + data


def timestamped_entry(issued: Issued, timestamp_ms: int) -> bytes:
    head = struct.pack(">Q", timestamp_ms)
    if issued.is_precert:
        assert issued.tbs_der is not None
        body = struct.pack(">H", 1) + CA_KEY_HASH_PLACEHOLDER + _u24(issued.tbs_der)
    else:
        body = struct.pack(">H", 0) + _u24(issued.cert_der)
    return head + body + b"\x00\x00"  # empty CtExtensions


CA_KEY_HASH_PLACEHOLDER = b"\x11" * 32  # replaced per log by the CA's real key hash (see LogEntryRecord)


@dataclass
class LogEntryRecord:
    issued: Issued
    timestamp_ms: int
    ca: TestCA

    def timestamped_entry(self) -> bytes:
        return timestamped_entry(self.issued, self.timestamp_ms).replace(CA_KEY_HASH_PLACEHOLDER, self.ca.key_hash)

    def leaf_input(self) -> bytes:
        return b"\x00\x00" + self.timestamped_entry()  # MerkleTreeLeaf v1, timestamped_entry

    def extra_data(self) -> bytes:
        chain = _u24(_u24(self.ca.cert_der))
        if self.issued.is_precert:
            assert self.issued.precert_der is not None
            return _u24(self.issued.precert_der) + chain  # PrecertChainEntry
        return chain  # X509ChainEntry certificate_chain

    def tile_leaf(self) -> bytes:
        out = self.timestamped_entry()
        if self.issued.is_precert:
            assert self.issued.precert_der is not None
            out += _u24(self.issued.precert_der)
        fingerprint = hashlib.sha256(self.ca.cert_der).digest()
        return out + len(fingerprint).to_bytes(2, "big") + fingerprint


def merkle_tree_hash(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH over leaf inputs."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]

    def mth(lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 1:
            return level[lo]
        k = 1
        while k * 2 < n:
            k *= 2
        return hashlib.sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()

    return mth(0, len(level))


class LogKey:
    """A log's signing key; ``sign()`` returns a TLS digitally-signed struct."""

    def __init__(self, kind: str = "ec") -> None:
        self.kind = kind
        if kind == "ec":
            self.private = ec.generate_private_key(ec.SECP256R1())
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.spki = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.log_id = hashlib.sha256(self.spki).digest()

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.private, ec.EllipticCurvePrivateKey):
            sig = self.private.sign(message, ec.ECDSA(hashes.SHA256()))
            alg = 3
        else:
            sig = self.private.sign(message, padding.PKCS1v15(), hashes.SHA256())
            alg = 1
        return bytes((4, alg)) + len(sig).to_bytes(2, "big") + sig


def corrupt(signature: bytes) -> bytes:
    """A well-formed digitally-signed struct whose signature no longer verifies (last byte flipped)."""
    return signature[:-1] + bytes((signature[-1] ^ 0x01,))


# --------------------------------------------------------------------------- servers


@dataclass
class Faults:
    """Switches: queued HTTP failures (status, Retry-After), a bad tree head signature, a batch cap, JSON answers
    nested 100,000 deep (valid JSON that no decoder recursing per level survives)."""

    queue: list[tuple[int, str | None]] = field(default_factory=list)
    bad_signature: bool = False
    nested_json: bool = False
    max_batch: int | None = None
    gzip_tiles: bool = False
    serve_partial_tiles: bool = True


NESTED_JSON = b"[" * 100_000 + b"]" * 100_000


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet: the tests assert on ``requests`` instead
        del args

    def do_GET(self) -> None:
        log = self.server.log
        log.requests.append(self.path)
        with log.lock:
            fault = log.faults.queue.pop(0) if log.faults.queue else None
        if fault is not None:
            status, retry_after = fault
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            status, ctype, body, headers = log.handle(self.path)
        except Exception as exc:  # noqa: BLE001 - a test server answers 500 rather than hang
            status, ctype, body, headers = 500, "text/plain", str(exc).encode(), {}
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    log: _BaseLog


class _BaseLog:
    prefix = "/log/"

    def __init__(self, ca: TestCA | None = None, key: LogKey | None = None, *, description: str = "") -> None:
        self.ca = ca or TestCA()
        self.key = key or LogKey()
        self.description = description or type(self).__name__
        self.entries: list[LogEntryRecord] = []
        self.faults = Faults()
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.published_size: int | None = None  # None: the head covers every entry
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # building the log
    def add(self, issued: Issued, *, timestamp_ms: int | None = None) -> int:
        with self.lock:
            index = len(self.entries)
            ts = timestamp_ms if timestamp_ms is not None else int(BASE_TIME.timestamp() * 1000) + index
            self.entries.append(LogEntryRecord(issued, ts, self.ca))
            return index

    def add_many(self, items: Iterable[Issued]) -> None:
        for item in items:
            self.add(item)

    def tree_size(self) -> int:
        return len(self.entries) if self.published_size is None else self.published_size

    def tree_head(self) -> tuple[int, int, bytes, bytes]:
        """(tree_size, timestamp_ms, root_hash, digitally-signed signature) of the current head."""
        with self.lock:
            size = self.tree_size()
            root = merkle_tree_hash([e.leaf_input() for e in self.entries[:size]])
        timestamp = int(BASE_TIME.timestamp() * 1000) + 10_000 + size
        sig = self.key.sign(tree_head_signature_input(timestamp_ms=timestamp, tree_size=size, root_hash=root))
        if self.faults.bad_signature:
            sig = corrupt(sig)
        return size, timestamp, root, sig

    # serving
    def start(self) -> _BaseLog:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.log = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.description, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> _BaseLog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin_url(self) -> str:
        assert self._server is not None, "start() the log first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.origin_url + self.prefix

    def handle(self, path: str) -> tuple[int, str, bytes, dict[str, str]]:
        raise NotImplementedError


class RFC6962Log(_BaseLog):
    """``<url>ct/v1/get-sth`` and ``<url>ct/v1/get-entries?start=&end=`` (end inclusive, capped)."""

    prefix = "/ct-log/"
    default_max_batch = 1000

    def log_info(self) -> LogInfo:
        return LogInfo.from_key(self.key.spki, url=self.url, description=self.description)

    def log_list_entry(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "log_id": base64.b64encode(self.key.log_id).decode(),
            "key": base64.b64encode(self.key.spki).decode(),
            "url": self.url,
            "mmd": 86400,
            "state": {"usable": {"timestamp": "2026-01-01T00:00:00Z"}},
        }

    def get_sth(self) -> dict[str, Any]:
        size, timestamp, root, sig = self.tree_head()
        return {
            "tree_size": size,
            "timestamp": timestamp,
            "sha256_root_hash": base64.b64encode(root).decode(),
            "tree_head_signature": base64.b64encode(sig).decode(),
        }

    def handle(self, path: str) -> tuple[int, str, bytes, dict[str, str]]:
        parts = urlsplit(path)
        if self.faults.nested_json and parts.path.startswith(self.prefix + "ct/v1/"):
            return 200, "application/json", NESTED_JSON, {}
        if parts.path == self.prefix + "ct/v1/get-sth":
            return 200, "application/json", json.dumps(self.get_sth()).encode(), {}
        if parts.path == self.prefix + "ct/v1/get-entries":
            query = parse_qs(parts.query)
            try:
                start, end = int(query["start"][0]), int(query["end"][0])
            except (KeyError, ValueError):
                return 400, "text/plain", b"start and end required", {}
            size = self.tree_size()
            if start < 0 or end < start or start >= size:
                return 400, "text/plain", b"bad range", {}
            cap = self.faults.max_batch or self.default_max_batch
            end = min(end, size - 1, start + cap - 1)
            entries = [
                {
                    "leaf_input": base64.b64encode(e.leaf_input()).decode(),
                    "extra_data": base64.b64encode(e.extra_data()).decode(),
                }
                for e in self.entries[start : end + 1]
            ]
            return 200, "application/json", json.dumps({"entries": entries}).encode(), {}
        return 404, "text/plain", b"not found", {}


class StaticCTLog(_BaseLog):
    """``<monitoring>checkpoint`` and ``<monitoring>tile/data/<N>[.p/<W>]``; origin = submission prefix."""

    prefix = "/mon/"
    submission_prefix = "/sub/"

    @property
    def submission_url(self) -> str:
        return self.origin_url + self.submission_prefix

    @property
    def origin(self) -> str:
        return self.submission_url.removeprefix("http://").rstrip("/")

    def log_info(self) -> LogInfo:
        return LogInfo.from_key(
            self.key.spki,
            url=self.url,
            submission_url=self.submission_url,
            description=self.description,
            api="static",
        )

    def log_list_entry(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "log_id": base64.b64encode(self.key.log_id).decode(),
            "key": base64.b64encode(self.key.spki).decode(),
            "submission_url": self.submission_url,
            "monitoring_url": self.url,
            "mmd": 60,
            "state": {"usable": {"timestamp": "2026-01-01T00:00:00Z"}},
        }

    def checkpoint(self, *, with_witness: bool = True) -> str:
        size, timestamp, root, sig = self.tree_head()
        text = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        body = struct.pack(">Q", timestamp) + sig
        key_id = rfc6962_note_key_id(self.origin, self.key.log_id)
        lines = []
        if with_witness:  # a cosigner the client does not know: must be ignored
            other = base64.b64encode(bytes.fromhex("aabbccdd") + b"x" * 64).decode()
            lines.append(f"\u2014 witness.example/w1 {other}")
        lines.append(f"\u2014 {self.origin} {base64.b64encode(key_id + body).decode()}")
        return text + "\n" + "\n".join(lines) + "\n"

    def tile(self, n: int, width: int | None) -> bytes:
        leaves = self.entries[n * 256 : n * 256 + (width or 256)]
        return b"".join(e.tile_leaf() for e in leaves)

    def handle(self, path: str) -> tuple[int, str, bytes, dict[str, str]]:
        parts = urlsplit(path)
        if parts.path == self.prefix + "checkpoint":
            return 200, "text/plain; charset=utf-8", self.checkpoint().encode(), {}
        tile_prefix = self.prefix + "tile/data/"
        if parts.path.startswith(tile_prefix):
            rest = parts.path[len(tile_prefix) :]
            width: int | None = None
            if ".p/" in rest:
                rest, w = rest.split(".p/", 1)
                width = int(w)
                if not self.faults.serve_partial_tiles:
                    return 404, "text/plain", b"partial tile gone", {}
            try:
                n = parse_tile_index_path(rest)
            except ValueError:
                return 404, "text/plain", b"bad tile path", {}
            available = self.tree_size() - n * 256
            if width is None and len(self.entries) - n * 256 < 256:  # full tiles exist once the log has them
                return 404, "text/plain", b"no such full tile", {}
            if width is not None and not 1 <= width <= min(available, 255):
                return 404, "text/plain", b"no such partial tile", {}
            body = self.tile(n, width)
            headers: dict[str, str] = {}
            if self.faults.gzip_tiles:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            return 200, "application/octet-stream", body, headers
        return 404, "text/plain", b"not found", {}


def log_list(*logs: _BaseLog, operator: str = "Test operator") -> dict[str, Any]:
    """A Chrome log_list.json (v3) document naming ``logs``."""
    return {
        "version": "1.0",
        "log_list_timestamp": "2026-03-01T00:00:00Z",
        "operators": [
            {
                "name": operator,
                "email": ["ct@example.test"],
                "logs": [log.log_list_entry() for log in logs if isinstance(log, RFC6962Log)],
                "tiled_logs": [log.log_list_entry() for log in logs if isinstance(log, StaticCTLog)],
            }
        ],
    }


# --------------------------------------------------------------------------- certstream


class CertstreamServer:
    """A tiny certstream-compatible websocket server: sends ``messages`` to each client, then waits.

    ``close_after_first`` closes the first connection after sending, to exercise reconnection.
    """

    def __init__(self, messages: Sequence[str], *, close_after_first: bool = False) -> None:
        self.messages = list(messages)
        self.close_after_first = close_after_first
        self.connections = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    def _handler(self, websocket: Any) -> None:
        self.connections += 1
        number = self.connections
        for message in self.messages:
            websocket.send(message)
        if self.close_after_first and number == 1:
            websocket.close()
            return
        self._done.wait(30)

    def start(self) -> CertstreamServer:
        from websockets.sync.server import serve

        self._server = serve(self._handler, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/"

    def stop(self) -> None:
        self._done.set()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> CertstreamServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
