"""Tree heads: RFC 6962 get-sth and static-CT checkpoints verified with the log's key, or refused."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import ct_logs
import pytest

from smishguard.engine.ct import (
    LogInfo,
    TreeHead,
    TreeHeadInvalid,
    parse_checkpoint,
    rfc6962_note_key_id,
    tree_head_signature_input,
    verify_checkpoint,
    verify_sth,
)

ROOT = bytes(range(32))
TS = 1_772_366_400_123


def _log(key: ct_logs.LogKey, url: str = "https://ct.example.test/log/") -> LogInfo:
    return LogInfo.from_key(key.spki, url=url, description="test log")


def _sth(key: ct_logs.LogKey, *, size: int = 10, ts: int = TS, root: bytes = ROOT) -> dict:
    sig = key.sign(tree_head_signature_input(timestamp_ms=ts, tree_size=size, root_hash=root))
    return {
        "tree_size": size,
        "timestamp": ts,
        "sha256_root_hash": base64.b64encode(root).decode(),
        "tree_head_signature": base64.b64encode(sig).decode(),
    }


@pytest.mark.parametrize("key_fixture", ["ec_log_key", "rsa_log_key"])
def test_good_sth_verifies(request: pytest.FixtureRequest, key_fixture: str) -> None:
    key = request.getfixturevalue(key_fixture)
    head = verify_sth(_sth(key), _log(key))
    assert head == TreeHead(tree_size=10, timestamp_ms=TS, root_hash=ROOT)
    assert head.to_dict()["tree_size"] == 10
    assert head.timestamp.year == 2026


def test_shared_fake_signature_fixture_is_refused(ct_data: Path, ec_log_key: ct_logs.LogKey) -> None:
    payload = json.loads((ct_data / "ctgo_scanner_get-sth_4_fake-sig.json").read_text())
    with pytest.raises(TreeHeadInvalid):
        verify_sth(payload, _log(ec_log_key))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tree_size": 11}, "does not verify"),
        ({"timestamp": TS + 1}, "does not verify"),
        ({"sha256_root_hash": base64.b64encode(bytes(32)).decode()}, "does not verify"),
        ({"sha256_root_hash": base64.b64encode(bytes(31)).decode()}, "32"),
        ({"tree_size": -1}, "tree_size"),
        ({"tree_size": "10"}, "tree_size"),
        ({"timestamp": None}, "timestamp"),
        ({"tree_head_signature": "!!"}, "base64"),
        ({"tree_head_signature": base64.b64encode(b"\x04\x03\x00").decode()}, "malformed"),
    ],
)
def test_tampered_sth_is_refused(ec_log_key: ct_logs.LogKey, change: dict, message: str) -> None:
    payload = {**_sth(ec_log_key), **change}
    with pytest.raises(TreeHeadInvalid, match=message):
        verify_sth(payload, _log(ec_log_key))


def test_corrupted_signature_is_refused(ec_log_key: ct_logs.LogKey) -> None:
    payload = _sth(ec_log_key)
    sig = base64.b64decode(payload["tree_head_signature"])
    payload["tree_head_signature"] = base64.b64encode(ct_logs.corrupt(sig)).decode()
    with pytest.raises(TreeHeadInvalid):
        verify_sth(payload, _log(ec_log_key))


def test_sth_signed_by_another_log_is_refused(ec_log_key: ct_logs.LogKey, rsa_log_key: ct_logs.LogKey) -> None:
    other = ct_logs.LogKey("ec")
    with pytest.raises(TreeHeadInvalid, match="does not verify"):
        verify_sth(_sth(other), _log(ec_log_key))
    with pytest.raises(TreeHeadInvalid, match="does not match"):
        verify_sth(_sth(ec_log_key), _log(rsa_log_key))


def test_sth_with_non_sha256_hash_is_refused(ec_log_key: ct_logs.LogKey) -> None:
    payload = _sth(ec_log_key)
    sig = bytearray(base64.b64decode(payload["tree_head_signature"]))
    sig[0] = 2  # sha1
    payload["tree_head_signature"] = base64.b64encode(bytes(sig)).decode()
    with pytest.raises(TreeHeadInvalid, match="SHA-256"):
        verify_sth(payload, _log(ec_log_key))


# ---------------------------------------------------------------- checkpoints

ORIGIN = "static.example.test/2026h1"


def _static_log(key: ct_logs.LogKey) -> LogInfo:
    return LogInfo.from_key(
        key.spki,
        url="https://static-mon.example.test/2026h1/",
        submission_url=f"https://{ORIGIN}/",
        api="static",
    )


def _checkpoint(
    key: ct_logs.LogKey,
    *,
    size: int = 70_000,
    origin: str = ORIGIN,
    name: str = ORIGIN,
    extra_lines: str = "",
    witness_first: bool = True,
    sign_size: int | None = None,
) -> str:
    sig = key.sign(tree_head_signature_input(timestamp_ms=TS, tree_size=sign_size or size, root_hash=ROOT))
    blob = rfc6962_note_key_id(name, key.log_id) + struct.pack(">Q", TS) + sig
    lines = [f"\u2014 {name} {base64.b64encode(blob).decode()}"]
    if witness_first:
        lines.insert(0, f"\u2014 witness.example/w {base64.b64encode(b'WWWW' + bytes(64)).decode()}")
    text = f"{origin}\n{size}\n{base64.b64encode(ROOT).decode()}\n{extra_lines}"
    return text + "\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("key_fixture", ["ec_log_key", "rsa_log_key"])
def test_good_checkpoint_verifies_and_witness_is_ignored(request: pytest.FixtureRequest, key_fixture: str) -> None:
    key = request.getfixturevalue(key_fixture)
    head = verify_checkpoint(_checkpoint(key), _static_log(key))
    assert head == TreeHead(tree_size=70_000, timestamp_ms=TS, root_hash=ROOT)


def test_key_id_follows_static_ct_api(ec_log_key: ct_logs.LogKey) -> None:
    import hashlib

    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x05" + ec_log_key.log_id).digest()[:4]
    assert rfc6962_note_key_id(ORIGIN, ec_log_key.log_id) == expected
    assert _static_log(ec_log_key).origin == ORIGIN


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sign_size": 69_999}, "does not verify"),
        ({"origin": "evil.example/log", "name": "evil.example/log"}, "origin"),
        ({"name": "other.example/log"}, "no signature from the log's key"),
        ({"extra_lines": "extension line\n"}, "extension"),
    ],
)
def test_bad_checkpoint_is_refused(ec_log_key: ct_logs.LogKey, kwargs: dict, message: str) -> None:
    with pytest.raises(TreeHeadInvalid, match=message):
        verify_checkpoint(_checkpoint(ec_log_key, **kwargs), _static_log(ec_log_key))


def test_checkpoint_signed_by_another_key_is_refused(ec_log_key: ct_logs.LogKey) -> None:
    other = ct_logs.LogKey("ec")
    # right name, but the key ID of another key: an unknown signature, so none from the log's key
    with pytest.raises(TreeHeadInvalid, match="no signature"):
        verify_checkpoint(_checkpoint(other), _static_log(ec_log_key))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "newline"),
        ("origin\n1\n" + base64.b64encode(ROOT).decode() + "\n", "blank line"),
        ("origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n", "no signature lines"),
        ("origin\n01\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 a AAAAAAA=\n", "tree size"),
        ("origin\nten\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 a AAAAAAA=\n", "tree size"),
        ("origin\n1\nAAAA\n\n\u2014 a AAAAAAA=\n", "32 bytes"),
        ("origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n- a AAAAAAA=\n", "em dash"),
        ("origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 a AAA\n", "base64"),
        ("origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 a b c\n", "signature line"),
        ("origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 a AAAA\n", "too short"),
        ("or\tigin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 a AAAAAAA=\n", "control"),
        ("origin\n\n1\n\n\u2014 a AAAAAAA=\n", "origin, tree size"),
    ],
)
def test_malformed_checkpoints(text: str, message: str) -> None:
    with pytest.raises(TreeHeadInvalid, match=message):
        parse_checkpoint(text)


def test_parse_checkpoint_fields() -> None:
    text = (
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\n\n\u2014 {ORIGIN} {base64.b64encode(b'abcdefgh').decode()}\n"
    )
    cp = parse_checkpoint(text.encode())
    assert (cp.origin, cp.tree_size, cp.root_hash, cp.extensions) == (ORIGIN, 5, ROOT, ())
    assert cp.text == f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\n".encode()
    assert [(s.name, s.key_id, s.signature) for s in cp.signatures] == [(ORIGIN, b"abcd", b"efgh")]
