"""Log lists in Chrome's log_list.json (v3) form: RFC 6962 logs and tiled (static-CT) logs."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import ct_logs
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from smishguard.engine.ct import LogInfo, LogListInvalid, load_log_list, parse_log_list


def _document(ec_key: ct_logs.LogKey, rsa_key: ct_logs.LogKey) -> dict:
    return {
        "version": "42.0",
        "operators": [
            {
                "name": "Example Operator",
                "logs": [
                    {
                        "description": "Example 'Argon' log",
                        "log_id": base64.b64encode(ec_key.log_id).decode(),
                        "key": base64.b64encode(ec_key.spki).decode(),
                        "url": "https://ct.example.test/argon",
                        "state": {"usable": {"timestamp": "2025-01-01T00:00:00Z"}},
                    }
                ],
                "tiled_logs": [
                    {
                        "description": "Example 'Sunlight' log",
                        "log_id": base64.b64encode(rsa_key.log_id).decode(),
                        "key": base64.b64encode(rsa_key.spki).decode(),
                        "submission_url": "https://sun.example.test/2026h1/",
                        "monitoring_url": "https://sun-mon.example.test/2026h1",
                        "state": {"readonly": {}},
                    }
                ],
            }
        ],
    }


def test_parse_log_list(ec_log_key: ct_logs.LogKey, rsa_log_key: ct_logs.LogKey) -> None:
    logs = parse_log_list(json.dumps(_document(ec_log_key, rsa_log_key)))
    assert [(log.api, log.description, log.url, log.submission_url, log.state) for log in logs] == [
        (
            "rfc6962",
            "Example 'Argon' log",
            "https://ct.example.test/argon/",
            "https://ct.example.test/argon/",
            "usable",
        ),
        (
            "static",
            "Example 'Sunlight' log",
            "https://sun-mon.example.test/2026h1/",
            "https://sun.example.test/2026h1/",
            "readonly",
        ),
    ]
    assert logs[0].log_id == ec_log_key.log_id
    assert logs[0].operator == "Example Operator"
    assert logs[1].origin == "sun.example.test/2026h1"
    assert logs[1].to_dict()["log_id"] == base64.b64encode(rsa_log_key.log_id).decode()


def test_load_log_list_from_file(tmp_path: Path, ec_log_key: ct_logs.LogKey, rsa_log_key: ct_logs.LogKey) -> None:
    path = tmp_path / "log_list.json"
    path.write_text(json.dumps(_document(ec_log_key, rsa_log_key)))
    assert len(load_log_list(path)) == 2
    with pytest.raises(LogListInvalid, match="cannot read"):
        load_log_list(tmp_path / "missing.json")


def _mutated(ec_key: ct_logs.LogKey, rsa_key: ct_logs.LogKey, change) -> dict:
    doc = _document(ec_key, rsa_key)
    change(doc["operators"][0])
    return doc


def _p384_spki() -> bytes:
    return (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _ed_spki() -> bytes:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda op: op["logs"][0].update(log_id=base64.b64encode(bytes(32)).decode()), "SHA-256 of its key"),
        (lambda op: op["logs"][0].update(key="%%"), "base64"),
        (lambda op: op["logs"][0].pop("key"), "key is missing"),
        (lambda op: op["logs"][0].update(url="ftp://x/"), "url"),
        (lambda op: op["tiled_logs"][0].pop("monitoring_url"), "monitoring_url"),
        (lambda op: op.update(logs="nope"), "not a list"),
        (lambda op: op["logs"].append(7), "not an object"),
        (
            lambda op: op["logs"][0].update(
                key=base64.b64encode(b"\x30\x00").decode(),
                log_id=base64.b64encode(hashlib.sha256(b"\x30\x00").digest()).decode(),
            ),
            "SubjectPublicKeyInfo",
        ),
    ],
)
def test_bad_log_lists_are_refused(ec_log_key, rsa_log_key, change, message: str) -> None:
    with pytest.raises(LogListInvalid, match=message):
        parse_log_list(_mutated(ec_log_key, rsa_log_key, change))


@pytest.mark.parametrize(("spki", "message"), [(_p384_spki, "P-256"), (_ed_spki, "not ECDSA or RSA")])
def test_unsupported_log_keys(spki, message: str) -> None:
    with pytest.raises(LogListInvalid, match=message):
        LogInfo.from_key(spki(), url="https://ct.example.test/")


@pytest.mark.parametrize("document", ["not json", "[]", '{"operators": 3}', b'{"operators": ["x"]}'])
def test_structurally_bad_documents(document) -> None:
    with pytest.raises(LogListInvalid):
        parse_log_list(document)
