"""Typo-squat variants of a brand token, one small generator per technique.

The algorithms follow dnstwist's fuzzers (omission, insertion, replacement, transposition, repetition,
bitsquat, vowel swap); insertion and replacement use QWERTY neighbours, as dnstwist does, because that is
what a slipped finger (and a squatter imitating one) produces. Each variant is within edit distance 1
(Damerau) of the token. Hyphenation is not generated here: the matcher compares hyphen-free forms.
"""

from __future__ import annotations

from collections.abc import Iterator

_QWERTY = {
    "1": "2q", "2": "3wq1", "3": "4ew2", "4": "5re3", "5": "6tr4", "6": "7yt5", "7": "8uy6", "8": "9iu7",
    "9": "0oi8", "0": "po9", "q": "12wa", "w": "3esaq2", "e": "4rdsw3", "r": "5tfde4", "t": "6ygfr5",
    "y": "7uhgt6", "u": "8ijhy7", "i": "9okju8", "o": "0plki9", "p": "lo0", "a": "qwsz", "s": "edxzaw",
    "d": "rfcxse", "f": "tgvcdr", "g": "yhbvft", "h": "ujnbgy", "j": "ikmnhu", "k": "olmji", "l": "kop",
    "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}  # fmt: skip
_VOWELS = "aeiou"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def omission(token: str) -> Iterator[str]:
    # Not the first letter: brand names made of a letter and a word (t-mobile, icloud) would turn into
    # the plain word (mobile, cloud), which thousands of ordinary domains are.
    for i in range(1, len(token)):
        yield token[:i] + token[i + 1 :]


def repetition(token: str) -> Iterator[str]:
    for i, ch in enumerate(token):
        if ch.isalnum():
            yield token[: i + 1] + ch + token[i + 1 :]


def transposition(token: str) -> Iterator[str]:
    for i in range(len(token) - 1):
        if token[i] != token[i + 1]:
            yield token[:i] + token[i + 1] + token[i] + token[i + 2 :]


def vowel_swap(token: str) -> Iterator[str]:
    for i, ch in enumerate(token):
        if ch in _VOWELS:
            for v in _VOWELS:
                if v != ch:
                    yield token[:i] + v + token[i + 1 :]


def replacement(token: str) -> Iterator[str]:
    for i, ch in enumerate(token):
        for k in _QWERTY.get(ch, ""):
            yield token[:i] + k + token[i + 1 :]


def insertion(token: str) -> Iterator[str]:
    # A neighbour of the key before or after slips in between (dnstwist inserts inside the name only).
    for i in range(1, len(token)):
        for k in set(_QWERTY.get(token[i - 1], "") + _QWERTY.get(token[i], "")):
            yield token[:i] + k + token[i:]


def bitsquat(token: str) -> Iterator[str]:
    for i, ch in enumerate(token):
        code = ord(ch)
        for bit in range(8):
            flipped = chr(code ^ (1 << bit))
            if flipped in _HOST_CHARS:
                yield token[:i] + flipped + token[i + 1 :]


# Order matters: a variant two fuzzers produce is reported under the first (the more specific name).
FUZZERS = (
    ("repetition", repetition),
    ("omission", omission),
    ("transposition", transposition),
    ("vowel-swap", vowel_swap),
    ("replacement", replacement),
    ("insertion", insertion),
    ("bitsquat", bitsquat),
)


def variants(token: str) -> dict[str, str]:
    """Every typo variant of ``token`` (a compact, lower-case ASCII token) -> the technique that made it."""
    out: dict[str, str] = {}
    for technique, fuzzer in FUZZERS:
        for v in fuzzer(token):
            if v and v != token and v[0] != "-" and v[-1] != "-":
                out.setdefault(v, technique)
    return out
