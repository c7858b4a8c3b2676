"""Confusable skeletons (Unicode TR39, from the data that confusable-homoglyphs packages).

confusable-homoglyphs ships Unicode's ``confusables.txt`` as a JSON map that records every line in both
directions (source -> prototype and prototype -> source). The direction is recovered here: a prototype is
never itself a source, a source has exactly one entry (its prototype), and a prototype with several sources
lists them all. For the few pairs where both ends have one entry (rare combining marks and CJK forms) the
lower code point is taken as the prototype; either choice gives the same equivalence classes, which is all a
comparison of skeletons needs.

The skeleton used for matching is: NFKD, the TR39 mapping, lower case, the mapping again (TR39 maps ``0``
to ``O``, which lower-cases to ``o``), combining marks dropped (so ``twílio`` and ``twilio`` compare equal:
an accent is as good a disguise in a domain as a Cyrillic letter), and finally ``l`` folded onto ``i``.
TR39 keeps ``i`` and ``l`` apart but maps look-alikes of each to one of them (Cyrillic palochka U+04CF, the
letter of the classic xn--80ak6aa92e.com, goes to ``i``; digit one goes to ``l``); in a browser's address bar they are
one shape, and typo-squatters use ``paypai`` for ``paypal``. ``rn`` is written ``m`` (TR39 maps ``m`` to
``rn``; the equivalence is the same either way round).
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache
from pathlib import Path

_LRM = "\u200e"  # the package wraps right-to-left characters in LEFT-TO-RIGHT MARKs


def _confusables_text() -> str:
    """The package's confusables.json, found without importing importlib.resources' machinery when it can."""
    spec = importlib.util.find_spec("confusable_homoglyphs")
    if spec is not None and spec.origin:
        path = Path(spec.origin).with_name("confusables.json")
        if path.is_file():
            return path.read_text("utf-8")
    from importlib import resources

    return resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")


@cache
def _table() -> dict[int, str]:
    raw = json.loads(_confusables_text())
    entries: dict[str, list[str]] = {}
    for key, values in raw.items():
        k = key.replace(_LRM, "") if _LRM in key else key
        found = [v["c"] for v in values]
        if any(_LRM in c for c in found):
            found = [c.replace(_LRM, "") for c in found]
        known = entries.get(k)
        if known is None:
            entries[k] = found
        else:
            known.extend(found)
    table: dict[int, str] = {}
    for k, values in entries.items():
        if len(k) != 1 or len(values) != 1:
            continue
        target = values[0]
        if not target or target == k:
            continue
        if len(target) > 1 or len(entries.get(target, ())) > 1 or ord(target) < ord(k):
            table[ord(k)] = target
    return table


def skeleton(text: str) -> str:
    """The confusable skeleton of a (lower-case) label or host, for comparisons only."""
    table = _table()
    s = unicodedata.normalize("NFKD", text).translate(table).lower().translate(table)
    if not s.isascii():
        s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    return s.replace("l", "i").replace("rn", "m")


def _ascii_fold_table() -> bytes:
    table = bytearray(range(256))
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789-_":
        mapped = skeleton(ch)
        if len(mapped) == 1 and mapped != ch:
            table[ord(ch)] = ord(mapped)
    return bytes(table)


# What _ascii_fold_table() gives (0 -> o, 1 -> i, l -> i), written out: deriving it reads the whole
# confusables file (about 80 ms), which a run over plain ASCII names never otherwise needs. The tests check
# fold() against skeleton() on labels with each of these characters.
_ASCII_FOLD = bytes.maketrans(b"01l", b"oii")


def fold(text: str) -> str:
    """``skeleton`` with a fast path for plain ASCII labels (the common case, ~10x faster).

    In this canonical form the TR39 ``m -> rn`` is written the other way round (``rn -> m``): the classes
    are the same, and the fast path needs a one-byte-per-byte table.
    """
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").replace("rn", "m")
    return skeleton(text)
