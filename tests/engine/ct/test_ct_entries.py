"""RFC 6962 leaves and static-CT tile leaves parsed into LogEntry: real fixture leaves and issued certs."""

from __future__ import annotations

import base64
import datetime as dt
import json
import struct
from pathlib import Path

import ct_logs
import pytest
from cryptography import x509

from smishguard.engine.ct import (
    LogEntry,
    MalformedEntry,
    parse_data_tile,
    parse_get_entries,
    parse_leaf,
    wrap_tbs_certificate,
)

UTC = dt.UTC

FIXTURE_EXPECTED = [
    # each row: names, issuer and not_before of one fixture leaf
    (
        ("mail.google.com",),
        "CN=Google Internet Authority,O=Google Inc,C=US",
        dt.datetime(2013, 2, 20, 13, 34, 51, tzinfo=UTC),
    ),
    (
        ("www.struleartscentre.purchase-tickets-online.co.uk",),
        "CN=GeoTrust SSL CA,O=GeoTrust\\, Inc.,C=US",
        dt.datetime(2011, 10, 21, 11, 5, 6, tzinfo=UTC),
    ),
    (
        ("www.netkeiba.com",),
        "CN=Cybertrust Japan Public CA G2,O=Cybertrust Japan Co.\\, Ltd.,C=JP",
        dt.datetime(2012, 3, 19, 3, 14, 33, tzinfo=UTC),
    ),
    (
        ("www.oxfordplayhouse.com", "oxfordplayhouse.com"),
        "CN=GlobalSign Extended Validation CA - G2,O=GlobalSign nv-sa,C=BE",
        dt.datetime(2011, 10, 10, 14, 16, 37, tzinfo=UTC),
    ),
]


@pytest.fixture(scope="module")
def get_entries(ct_data: Path) -> dict:
    return json.loads((ct_data / "ctgo_scanner_get-entries_4.json").read_text())


def test_real_get_entries_names_exactly(get_entries: dict) -> None:
    parsed = parse_get_entries(get_entries, start=40)
    assert parsed.errors == ()
    assert [e.index for e in parsed.entries] == [40, 41, 42, 43]
    assert [set(e.names) for e in parsed.entries] == [set(names) for names, _, _ in FIXTURE_EXPECTED]
    all_names = {n for e in parsed.entries for n in e.names}
    assert all_names == {
        "mail.google.com",
        "www.struleartscentre.purchase-tickets-online.co.uk",
        "www.netkeiba.com",
        "www.oxfordplayhouse.com",
        "oxfordplayhouse.com",
    }


def test_real_get_entries_issuer_not_before_and_timestamp(get_entries: dict) -> None:
    parsed = parse_get_entries(get_entries, start=0)
    for entry, (_, issuer, not_before) in zip(parsed.entries, FIXTURE_EXPECTED, strict=True):
        assert entry.kind == "x509"
        assert entry.issuer == issuer
        assert entry.not_before == not_before
        assert entry.timestamp.tzinfo is UTC
        assert entry.timestamp.date() == dt.date(2013, 3, 26)
    first = parsed.entries[0]
    assert first.timestamp == dt.datetime(2013, 3, 26, 0, 37, 32, 899000, tzinfo=UTC)


def test_issuer_falls_back_to_certificate_when_extra_data_is_absent(get_entries: dict) -> None:
    item = get_entries["entries"][0]
    entry = parse_leaf(base64.b64decode(item["leaf_input"]), b"", index=7)
    assert entry.issuer == "CN=Google Internet Authority,O=Google Inc,C=US"
    assert entry.index == 7


def test_one_bad_entry_does_not_stop_the_others(get_entries: dict) -> None:
    items = list(get_entries["entries"])
    broken_leaf = base64.b64decode(items[1]["leaf_input"])
    items[1] = {"leaf_input": base64.b64encode(broken_leaf[:50]).decode(), "extra_data": ""}
    items.insert(2, {"leaf_input": "%%% not base64", "extra_data": ""})
    parsed = parse_get_entries({"entries": items}, start=100)
    assert [e.index for e in parsed.entries] == [100, 103, 104]
    assert [err.index for err in parsed.errors] == [101, 102]
    assert "truncated" in parsed.errors[0].message
    assert "base64" in parsed.errors[1].message


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda leaf: b"\x01" + leaf[1:], "version"),
        (lambda leaf: leaf[:1] + b"\x01" + leaf[2:], "MerkleLeafType"),
        (lambda leaf: leaf[:10] + b"\x00\x07" + leaf[12:], "LogEntryType"),
        (lambda leaf: leaf + b"\x00", "trailing"),
        (lambda leaf: leaf[:-1], "truncated"),
    ],
)
def test_malformed_leaves_are_refused(get_entries: dict, mutate, message: str) -> None:
    leaf = base64.b64decode(get_entries["entries"][0]["leaf_input"])
    with pytest.raises(MalformedEntry, match=message):
        parse_leaf(mutate(leaf), index=0)


def test_leaf_whose_certificate_is_not_der_is_refused() -> None:
    body = b"\x30\x03\x02\x01\x01"
    leaf = b"\x00\x00" + struct.pack(">QH", 0, 0) + len(body).to_bytes(3, "big") + body + b"\x00\x00"
    with pytest.raises(MalformedEntry, match=r"X\.509"):
        parse_leaf(leaf, index=0)


def test_get_entries_without_entries_list_is_refused() -> None:
    with pytest.raises(MalformedEntry, match="entries"):
        parse_get_entries({"oops": []}, start=0)


def _record(ca: ct_logs.TestCA, issued: ct_logs.Issued, ts: int = 1_772_366_400_000) -> ct_logs.LogEntryRecord:
    return ct_logs.LogEntryRecord(issued, ts, ca)


def test_precert_entry_names_from_tbs(test_ca: ct_logs.TestCA) -> None:
    issued = test_ca.issue(["twilio-sso.com", "*.twilio-sso.com", "www.twilio-sso.com"], precert=True)
    # the precertificate really carries the CT poison extension; the logged TBS does not
    pre = x509.load_der_x509_certificate(issued.precert_der)
    assert pre.extensions.get_extension_for_class(x509.PrecertPoison).critical
    record = _record(test_ca, issued)
    entry = parse_leaf(record.leaf_input(), record.extra_data(), index=5)
    assert entry == LogEntry(
        index=5,
        timestamp=dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        kind="precert",
        names=("twilio-sso.com", "www.twilio-sso.com"),
        issuer="CN=smishguard Test CA,O=smishguard tests,C=US",
        not_before=ct_logs.BASE_TIME,
    )


def test_precert_tbs_that_still_has_poison_parses(test_ca: ct_logs.TestCA) -> None:
    issued = test_ca.issue(["okta-twilio.com"], precert=True)
    poisoned_tbs = x509.load_der_x509_certificate(issued.precert_der).tbs_certificate_bytes
    cert = x509.load_der_x509_certificate(wrap_tbs_certificate(poisoned_tbs))
    assert cert.tbs_certificate_bytes == poisoned_tbs
    assert cert.extensions.get_extension_for_class(x509.PrecertPoison)


def test_precert_without_cn_and_with_idn(test_ca: ct_logs.TestCA) -> None:
    issued = test_ca.issue(["xn--80ak6aa92e.com", "*.SSO.Example.COM"], common_name=None, precert=True)
    record = _record(test_ca, issued)
    entry = parse_leaf(record.leaf_input(), record.extra_data(), index=0)
    assert entry.names == ("\u0430\u0440\u0440\u04cf\u0435.com", "sso.example.com")


def test_x509_entry_from_issued_certificate(test_ca: ct_logs.TestCA) -> None:
    issued = test_ca.issue(["twilio.com", "www.twilio.com"], common_name="www.twilio.com")
    record = _record(test_ca, issued)
    entry = parse_leaf(record.leaf_input(), record.extra_data(), index=9)
    assert entry.kind == "x509"
    assert entry.names == ("www.twilio.com", "twilio.com")
    assert entry.issuer == "CN=smishguard Test CA,O=smishguard tests,C=US"


@pytest.mark.parametrize(
    "tbs",
    [b"", b"\x04\x00", b"\x30\x05\x02\x01\x01", b"\x30\x03\x30\x01\x00", b"\x30\x80\x00\x00"],
)
def test_wrap_tbs_refuses_what_is_not_a_tbs(tbs: bytes) -> None:
    with pytest.raises(MalformedEntry):
        wrap_tbs_certificate(tbs)


def test_data_tile_with_x509_and_precert_leaves(test_ca: ct_logs.TestCA) -> None:
    issued = [
        test_ca.issue(["twilio-okta.com"], precert=True),
        test_ca.issue(["cloudflare-okta.com"]),
        test_ca.issue(["sso.twilio.com"], precert=True),
    ]
    tile = b"".join(_record(test_ca, item, 1_772_366_400_000 + i).tile_leaf() for i, item in enumerate(issued))
    parsed = parse_data_tile(tile, first_index=512)
    assert parsed.errors == ()
    assert [(e.index, e.kind, e.names) for e in parsed.entries] == [
        (512, "precert", ("twilio-okta.com",)),
        (513, "x509", ("cloudflare-okta.com",)),
        (514, "precert", ("sso.twilio.com",)),
    ]
    part = parse_data_tile(tile, first_index=512, skip=1, limit=1)
    assert [(e.index, e.names) for e in part.entries] == [(513, ("cloudflare-okta.com",))]


def test_data_tile_framing_errors_raise(test_ca: ct_logs.TestCA) -> None:
    tile = _record(test_ca, test_ca.issue(["a.example.com"])).tile_leaf()
    with pytest.raises(MalformedEntry):
        parse_data_tile(tile[:-5], first_index=0)
    bad_fingerprints = tile[:-34] + b"\x00\x1f" + tile[-31:]
    with pytest.raises(MalformedEntry, match="fingerprint"):
        parse_data_tile(bad_fingerprints, first_index=0)


def test_data_tile_bad_certificate_is_a_per_entry_error(test_ca: ct_logs.TestCA) -> None:
    good = _record(test_ca, test_ca.issue(["b.example.com"])).tile_leaf()
    junk_cert = b"\x30\x03\x02\x01\x01"
    bad = struct.pack(">QH", 0, 0) + len(junk_cert).to_bytes(3, "big") + junk_cert + b"\x00\x00" + b"\x00\x00"
    parsed = parse_data_tile(good + bad + good, first_index=0)
    assert [e.index for e in parsed.entries] == [0, 2]
    assert [e.index for e in parsed.errors] == [1]


def test_log_entry_to_dict_is_json_ready(get_entries: dict) -> None:
    entry = parse_get_entries(get_entries, start=0).entries[3]
    data = json.loads(json.dumps(entry.to_dict()))
    assert data == {
        "index": 3,
        "timestamp": entry.timestamp.isoformat(),
        "kind": "x509",
        "names": ["www.oxfordplayhouse.com", "oxfordplayhouse.com"],
        "issuer": "CN=GlobalSign Extended Validation CA - G2,O=GlobalSign nv-sa,C=BE",
        "not_before": "2011-10-10T14:16:37+00:00",
    }
