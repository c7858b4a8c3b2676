"""Bad input gets our narrow exception, never a traceback from deeper down (property tests)."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smishguard.engine.ct import (
    CertstreamMessageInvalid,
    MalformedEntry,
    TreeHeadInvalid,
    normalize_name,
    parse_certstream_message,
    parse_checkpoint,
    parse_data_tile,
    parse_leaf,
)

REAL_LEAF = base64.b64decode(
    json.loads(
        (Path(__file__).resolve().parents[3].parent / "shared/data/ct/ctgo_scanner_get-entries_4.json").read_text()
    )["entries"][2]["leaf_input"]
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_leaves_raise_only_malformed_entry(data: bytes) -> None:
    with contextlib.suppress(MalformedEntry):
        parse_leaf(data, data[:50], index=0)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(REAL_LEAF) - 1), st.integers(min_value=0, max_value=255))
def test_real_leaf_with_one_byte_changed(position: int, value: int) -> None:
    mutated = REAL_LEAF[:position] + bytes((value,)) + REAL_LEAF[position + 1 :]
    try:
        entry = parse_leaf(mutated, index=0)
    except MalformedEntry:
        return
    assert all(isinstance(n, str) and n for n in entry.names)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_tiles_raise_only_malformed_entry(data: bytes) -> None:
    with contextlib.suppress(MalformedEntry):
        parse_data_tile(data, first_index=0)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_checkpoints_raise_only_tree_head_invalid(text: str) -> None:
    with pytest.raises(TreeHeadInvalid):
        parse_checkpoint(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_random_certstream_messages(data: object, leaf: object) -> None:
    message = {"message_type": "certificate_update", "data": data}
    if isinstance(data, dict):
        data["leaf_cert"] = leaf
    try:
        update = parse_certstream_message(json.dumps(message))
    except CertstreamMessageInvalid:
        return
    assert update is not None


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_normalize_name_is_total_and_idempotent(raw: str) -> None:
    name = normalize_name(raw)
    if name is not None:
        assert name == name.strip().lower()
        assert not name.startswith("*.")
