"""Host names: normalisation (IDN both ways, bad input refused) and the registrable domain.

The registrable domain comes from tldextract's bundled Public Suffix List snapshot; nothing is fetched.
The snapshot file is read and parsed here the way tldextract parses it (its own pattern, public section then
private), into a trie of the same shape as tldextract's: importing tldextract itself pulls in ``requests``
(about 0.2 s of a command's start-up) for the fetching we never do. Private suffixes (github.io,
herokuapp.com, ...) count as suffixes, so ``twilio-sso.herokuapp.com`` is its own registrable domain, as
it is for a browser's cookie rules and for a blocklist: blocking ``herokuapp.com`` would block everyone.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import NamedTuple

from smishguard.engine.domains.errors import InvalidDomain

MAX_NAME = 253
MAX_LABEL = 63

# One ASCII host: LDH labels (underscore tolerated, as certificates and DNS names in the wild carry it).
_ASCII_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_ALLOWED_NON_LETTER = frozenset("-_")


class HostParts(NamedTuple):
    """A normalised host cut at its registrable domain."""

    host: str  # unicode form, lower case
    subdomain: tuple[str, ...]  # labels left of the registrable domain
    stem: str  # the registrable domain's own label ("twilio" in twilio.co.uk); "" when the host is a suffix
    suffix: str  # the public suffix ("co.uk"); "" when none is known
    registrable: str  # stem + "." + suffix


# tldextract's own rules for reading the Public Suffix List (tldextract/suffix_list.py).
_PSL_SUFFIX = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)
_PSL_PRIVATE = "// ===BEGIN PRIVATE DOMAINS==="


class _SuffixNode:
    """A node of the suffix trie: labels right to left, as tldextract's ``Trie`` (``matches``, ``end``)."""

    __slots__ = ("end", "matches")

    def __init__(self) -> None:
        self.matches: dict[str, _SuffixNode] = {}
        self.end = False


def _psl_snapshot_text() -> str:
    """The text of tldextract's bundled snapshot, found without importing tldextract."""
    spec = importlib.util.find_spec("tldextract")
    if spec is not None and spec.origin:
        path = Path(spec.origin).with_name(".tld_set_snapshot")
        if path.is_file():
            return path.read_text(encoding="utf-8")
    import pkgutil  # an unusual install (a zip): let the package find its data

    data = pkgutil.get_data("tldextract", ".tld_set_snapshot")
    if data is None:  # pragma: no cover - tldextract always ships it
        raise RuntimeError("tldextract's bundled public suffix list snapshot is missing")
    return data.decode("utf-8")


@cache
def psl_suffixes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ICANN suffixes, private suffixes) of tldextract's bundled snapshot, as tldextract lists them."""
    public, _, private = _psl_snapshot_text().partition(_PSL_PRIVATE)
    return (
        tuple(m.group("suffix") for m in _PSL_SUFFIX.finditer(public)),
        tuple(m.group("suffix") for m in _PSL_SUFFIX.finditer(private)),
    )


def suffix_trie(suffixes: tuple[str, ...]) -> _SuffixNode:
    """A trie of suffixes, labels right to left (tldextract's ``Trie.create``)."""
    root = _SuffixNode()
    for suffix in suffixes:
        node = root
        for label in reversed(suffix.split(".")):
            child = node.matches.get(label)
            if child is None:
                child = node.matches[label] = _SuffixNode()
            node = child
        node.end = True
    return root


@cache
def _suffix_trie() -> _SuffixNode:
    """ICANN and private suffixes of the bundled snapshot (tldextract's ``tlds_incl_private_trie``)."""
    public, private = psl_suffixes()
    return suffix_trie(public + private)


def _suffix_start(labels: list[str], root: object) -> int:
    """Index of the first label of the public suffix (len(labels) when none is known).

    The same walk as tldextract's ``suffix_index`` (reverse labels through its trie, wildcards and their
    exceptions), on labels that are already unicode and lower case, without its per-label punycode decoding.
    """
    node = root
    n = len(labels)
    start = n
    i = n - 1
    while i >= 0:
        matches = node.matches  # type: ignore[attr-defined]
        child = matches.get(labels[i])
        if child is None:
            if "*" in matches:
                return i + 1 if ("!" + labels[i]) in matches else i
            break
        node = child
        if child.end:
            start = i
        i -= 1
    return start


def split_host(host: str) -> HostParts:
    """Cut an already normalised host (see ``normalise_host``) at its registrable domain."""
    labels = host.split(".")
    n = len(labels)
    start = _suffix_start(labels, _suffix_trie())
    if start == n:  # unknown suffix: treat the last label as one ("intranet.corp" -> "intranet.corp")
        start = n - 1 if n > 1 else n
    if start == 0:  # the host is itself a public suffix ("co.uk", "github.io")
        return HostParts(host, (), "", host, host)
    stem = labels[start - 1]
    suffix = ".".join(labels[start:])
    registrable = f"{stem}.{suffix}" if suffix else stem
    return HostParts(host, tuple(labels[: start - 1]), stem, suffix, registrable)


def registrable_domain(host: str) -> str:
    """The registrable domain (eTLD+1, unicode form) of a host, from the bundled public suffix list."""
    return split_host(normalise_host(host)).registrable


def _unicode_label(label: str, raw: object) -> str:
    """Check one non-ASCII label (already NFKC and lower case) and return it."""
    for ch in label:
        if ch in _ALLOWED_NON_LETTER:
            continue
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" or cat == "So":
            continue
        if cat[0] == "C":
            raise InvalidDomain(raw, f"contains a control or unassigned character (U+{ord(ch):04X})")
        if cat[0] == "Z":
            raise InvalidDomain(raw, f"contains whitespace (U+{ord(ch):04X})")
        raise InvalidDomain(raw, f"contains {ch!r} (U+{ord(ch):04X}), which is not allowed in a host name")
    if label[0] == "-" or label[-1] == "-":
        raise InvalidDomain(raw, f"label {label!r} starts or ends with a hyphen")
    return label


def _decode_xn(label: str, raw: object) -> str:
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, IndexError, ValueError):
        raise InvalidDomain(raw, f"label {label!r} is not valid punycode") from None
    if not decoded or decoded.isascii():
        raise InvalidDomain(raw, f"label {label!r} is not valid punycode (it decodes to no non-ASCII text)")
    if unicodedata.normalize("NFKC", decoded).lower() != decoded:
        raise InvalidDomain(raw, f"label {label!r} decodes to {decoded!r}, which is not in normal form")
    return _unicode_label(decoded, raw)


def _diagnose_ascii(s: str, raw: object) -> InvalidDomain:
    """Say why an ASCII string that failed the fast pattern is not a host."""
    for ch in s:
        if ord(ch) < 32 or ord(ch) == 127:
            return InvalidDomain(raw, f"contains a control character (U+{ord(ch):04X})")
    if "://" in s or "/" in s:
        return InvalidDomain(raw, "looks like a URL, not a host name; give the host alone")
    if ":" in s and s.strip("[]").count(":") >= 2:
        return InvalidDomain(raw, "is an IP address, not a domain name")
    if " " in s or "\t" in s:
        return InvalidDomain(raw, "contains whitespace")
    for label in s.split("."):
        if not label:
            return InvalidDomain(raw, "has an empty label (a leading dot or two dots in a row)")
        if label[0] == "-" or label[-1] == "-":
            return InvalidDomain(raw, f"label {label!r} starts or ends with a hyphen")
    for ch in s:
        if not (ch.isalnum() or ch in "-_."):
            return InvalidDomain(raw, f"contains {ch!r}, which is not allowed in a host name")
    return InvalidDomain(raw, "is not a valid host name")


def normalise_host(raw: str) -> str:
    """Return the host in lower case, unicode form; raise InvalidDomain when it is not a valid host.

    Accepts unicode or punycode, any case, a trailing dot and a leading ``*.`` (wildcard certificates);
    full-width and ideographic dots count as dots.
    """
    if not isinstance(raw, str):
        raise InvalidDomain(raw, f"expected a string, got {type(raw).__name__}")
    s = raw.strip().lower()
    if s[:2] == "*.":
        s = s[2:]
    if s[-1:] == ".":
        s = s[:-1]
    if not s:
        raise InvalidDomain(raw, "empty name")
    if s.isascii():
        if not _ASCII_HOST.fullmatch(s):
            raise _diagnose_ascii(s, raw)
        if len(s) > MAX_NAME:
            raise InvalidDomain(raw, f"is {len(s)} characters long; a domain name has at most {MAX_NAME}")
        labels = s.split(".")
        last = labels[-1]
        if last.isdigit():
            if _IPV4.fullmatch(s):
                raise InvalidDomain(raw, "is an IP address, not a domain name")
            raise InvalidDomain(raw, "its last label is all digits, so it is not a domain name")
        for label in labels:
            if len(label) > MAX_LABEL:
                raise InvalidDomain(
                    raw, f"label {label[:20]!r}... is {len(label)} characters long; a label has at most 63"
                )
        if "xn--" not in s:
            return s
        return ".".join(_decode_xn(lab, raw) if lab[:4] == "xn--" else lab for lab in labels)
    return _normalise_unicode(s, raw)


def _normalise_unicode(s: str, raw: object) -> str:
    for ch in s:
        if unicodedata.category(ch) == "Cc":
            raise InvalidDomain(raw, f"contains a control character (U+{ord(ch):04X})")
    s = unicodedata.normalize("NFKC", s.translate(_DOTS)).lower().translate(_DOTS)
    if s[-1:] == ".":
        s = s[:-1]
    labels = s.split(".")
    out = []
    ascii_len = len(labels) - 1
    for label in labels:
        if not label:
            raise InvalidDomain(raw, "has an empty label (a leading dot or two dots in a row)")
        if label.isascii():
            if label[:4] == "xn--":
                label = _decode_xn(label, raw)  # noqa: PLW2901 - the decoded label replaces the encoded one
                encoded = label.encode("punycode")
                ascii_label = "xn--" + encoded.decode("ascii")
            elif not _ASCII_HOST.fullmatch(label):
                raise _diagnose_ascii(label, raw)
            else:
                ascii_label = label
        else:
            _unicode_label(label, raw)
            ascii_label = "xn--" + label.encode("punycode").decode("ascii")
        if len(ascii_label) > MAX_LABEL:
            raise InvalidDomain(
                raw, f"label {label[:20]!r} is {len(ascii_label)} characters long in punycode; at most 63"
            )
        ascii_len += len(ascii_label)
        out.append(label)
    if ascii_len > MAX_NAME:
        raise InvalidDomain(raw, f"is {ascii_len} characters long in punycode; a domain name has at most 253")
    if out[-1].isdigit():
        raise InvalidDomain(raw, "its last label is all digits, so it is not a domain name")
    return ".".join(out)
