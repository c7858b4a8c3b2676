"""Property tests over the CT leaf parser (engine.ct.entries): arbitrary bytes and mutations of the real leaves
in ../shared/data/ct (several bytes flipped, inserted, deleted, cut short; their chains too) end in a LogEntry or
in MalformedEntry, the parser's one narrow error; a get-entries response of any JSON shape parses entry by entry.
(tests/engine/ct/test_ct_robustness.py tries one changed byte of one leaf, in both modes; these go further.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fuzzing import FUZZ, json_values, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from smishguard.engine.ct import MalformedEntry, parse_leaf
from smishguard.engine.ct.entries import LogEntry, ParsedEntries, parse_get_entries

pytestmark = pytest.mark.once

EXAMPLES = 300  # max_examples: hypothesis tries this many (fewer only if the strategy has fewer)
ENTRIES = json.loads(
    (Path(__file__).resolve().parents[2].parent / "shared/data/ct/ctgo_scanner_get-entries_4.json").read_text()
)["entries"]
LEAVES = [(base64.b64decode(e["leaf_input"]), base64.b64decode(e.get("extra_data", ""))) for e in ENTRIES]


def _parse(leaf: bytes, extra: bytes) -> None:
    try:
        entry = parse_leaf(leaf, extra, index=7)
    except MalformedEntry:
        return
    assert isinstance(entry, LogEntry)
    assert entry.index == 7
    assert all(isinstance(name, str) for name in entry.names)
    assert entry.to_dict()["index"] == 7


def test_the_real_leaves_parse():
    for leaf, extra in LEAVES:
        assert parse_leaf(leaf, extra, index=0).names


@given(which=st.integers(min_value=0, max_value=len(LEAVES) - 1), data=st.data())
@settings(FUZZ, max_examples=EXAMPLES)
def test_a_mutated_real_leaf_parses_or_is_malformed(which, data):
    leaf, extra = LEAVES[which]
    _parse(data.draw(mutated(leaf)), extra)


@given(which=st.integers(min_value=0, max_value=len(LEAVES) - 1), data=st.data())
@settings(FUZZ, max_examples=EXAMPLES // 2)
def test_a_mutated_chain_parses_or_is_malformed(which, data):
    leaf, extra = LEAVES[which]
    _parse(leaf, data.draw(mutated(extra)))


@given(leaf=st.binary(max_size=600), extra=st.binary(max_size=100))
@settings(FUZZ, max_examples=EXAMPLES)
def test_arbitrary_bytes_parse_or_are_malformed(leaf, extra):
    _parse(leaf, extra)


@given(payload=json_values | st.fixed_dictionaries({"entries": st.lists(json_values, max_size=5)}))
@settings(FUZZ, max_examples=EXAMPLES // 2)
def test_a_get_entries_response_of_any_shape_parses_entry_by_entry(payload):
    try:
        parsed = parse_get_entries(payload, start=100)
    except MalformedEntry:
        assert not (isinstance(payload, dict) and isinstance(payload.get("entries"), list))
        return
    assert isinstance(parsed, ParsedEntries)
    assert parsed.count == len(payload["entries"])
