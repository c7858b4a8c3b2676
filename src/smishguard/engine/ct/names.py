"""Name normalisation for certificate names: wildcards stripped, lower-cased, IDN decoded, de-duplicated."""

from __future__ import annotations

import re
from collections.abc import Iterable

_FORBIDDEN = frozenset(" \t\r\n/\\@:,;\"'<>()[]{}|`^")
# The common case, checked in one regex: ASCII labels of letters, digits, "-" and "_" with at least one dot.
_PLAIN = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)+")
_DOTTED_DIGITS = re.compile(r"[0-9.]+")


def _decode_label(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label  # not valid punycode: keep the A-label as it was written
    return decoded.lower() if decoded else label


def normalize_name(raw: str) -> str | None:
    """Return the name a matcher should see, or ``None`` when ``raw`` is not a DNS name at all.

    ``*.Example.COM.`` becomes ``example.com``; ``xn--80ak6aa92e.com`` becomes its Unicode form (a Cyrillic
    look-alike of apple.com); names with spaces or URL punctuation (a subject CN such as ``Acme Corp``) and
    IP addresses are dropped.
    """
    name = raw.strip().lower().rstrip(".")
    while name.startswith("*."):
        name = name[2:]
    if _PLAIN.fullmatch(name) and "xn--" not in name:
        return None if _DOTTED_DIGITS.fullmatch(name) else name
    if not name or "." not in name or "*" in name or any(ch in _FORBIDDEN for ch in name):
        return None
    labels = name.split(".")
    if any(not label for label in labels):
        return None
    if all(label.isdigit() for label in labels):
        return None  # an IPv4 address written as a name
    if "xn--" in name:
        labels = [_decode_label(label) for label in labels]
        name = ".".join(labels)
    return name


def normalize_names(raw_names: Iterable[str]) -> tuple[str, ...]:
    """Normalise ``raw_names`` in order, dropping non-names and duplicates (first occurrence wins)."""
    seen: dict[str, None] = {}
    for raw in raw_names:
        if not isinstance(raw, str):
            continue
        name = normalize_name(raw)
        if name is not None and name not in seen:
            seen[name] = None
    return tuple(seen)
