"""The confusable skeleton and the typo-variant generators."""

from __future__ import annotations

import pytest

from smishguard.engine.domains.skeleton import fold, skeleton
from smishguard.engine.domains.typos import (
    bitsquat,
    insertion,
    omission,
    repetition,
    replacement,
    transposition,
    variants,
    vowel_swap,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("apple", "\u0430\u0440\u0440\u04cf\u0435"),  # Cyrillic
        ("okta", "\u03bfkta"),  # Greek omicron
        ("twilio", "twi1io"),
        ("twilio", "twil\u00edo"),  # accent dropped
        ("google", "g00gle"),
        ("microsoft", "rnicrosoft"),
        ("paypal", "paypai"),
        ("twilio", "\uff54\uff57\uff49\uff4c\uff49\uff4f"),  # full width
    ],
)
def test_confusables_share_a_skeleton(a: str, b: str) -> None:
    assert skeleton(a) == skeleton(b)
    assert fold(a) == fold(b)


@pytest.mark.parametrize(("a", "b"), [("twilio", "twitter"), ("okta", "oktb"), ("apple", "appel"), ("cb", "co")])
def test_different_names_keep_different_skeletons(a: str, b: str) -> None:
    assert skeleton(a) != skeleton(b)


@pytest.mark.parametrize("text", ["twilio-sso", "rnicrosoft", "g00gle", "abc123", "a_b"])
def test_fold_fast_path_agrees_with_skeleton(text: str) -> None:
    assert fold(text) == skeleton(text)


def test_generators() -> None:
    assert set(omission("abc")) == {"ac", "ab"}  # never the first letter
    assert set(repetition("ab")) == {"aab", "abb"}
    assert set(transposition("abc")) == {"bac", "acb"}
    assert set(vowel_swap("ab")) == {"eb", "ib", "ob", "ub"}
    assert "twilko" in set(replacement("twilio"))  # k is next to i on a QWERTY keyboard
    assert "twilip" not in set(replacement("twiliz"))
    assert "twiklio" in set(insertion("twilio"))
    assert "twilmo" in set(bitsquat("twilio"))
    assert all(ch in "abcdefghijklmnopqrstuvwxyz0123456789-" for v in bitsquat("twilio") for ch in v)


def test_variants_are_within_one_edit_and_named_by_the_first_fuzzer() -> None:
    from rapidfuzz.distance import DamerauLevenshtein

    found = variants("twilio")
    assert "twilio" not in found
    assert all(DamerauLevenshtein.distance(v, "twilio") == 1 for v in found)
    assert found["twiliio"] == "repetition"  # also an insertion; the specific name wins
    assert found["twlio"] == "omission"
    assert found["twilia"] == "vowel-swap"
