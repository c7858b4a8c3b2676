"""Links out of SMS text: with or without a scheme, defanged or obfuscated, IDN or punycode, offline.

`extract_links(text)` first undoes the usual obfuscations (hxxp, [.], (.), (dot), [dot], spaces around a dot,
full-width and ideographic dots, full-width letters), keeping a map back to the text as written; then finds
candidates with one regular expression and keeps a scheme-less candidate only when its last label is a real
top-level domain in tldextract's bundled public-suffix snapshot (no network), so "e.g. this", "3.5 hours" and
"Mr.Smith" are not links. Work is bounded: at most `MAX_SCAN_CHARS` characters are examined and at most
`MAX_LINKS` links returned.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import re
from dataclasses import dataclass
from importlib import resources
from urllib.parse import unquote

MAX_SCAN_CHARS = 20_000
MAX_LINKS = 50


@dataclass(frozen=True, slots=True)
class Link:
    raw: str  # as written in the text (obfuscations, line breaks and all)
    url: str  # normalised: lower-case scheme (http when none was written), ASCII host
    host: str  # ASCII (punycode) form, lower-case, no trailing dot; IPv6 without brackets
    host_unicode: str  # Unicode form of the host (equals host when it is plain ASCII or will not decode)
    is_shortener: bool
    is_ip: bool
    obfuscated: bool  # the writer defanged or disguised it (hxxp, [.], (dot), spaced or full-width dots, ...)

    def to_dict(self) -> dict[str, object]:
        return {
            "raw": self.raw,
            "url": self.url,
            "host": self.host,
            "host_unicode": self.host_unicode,
            "is_shortener": self.is_shortener,
            "is_ip": self.is_ip,
            "obfuscated": self.obfuscated,
        }


# --- bundled data -------------------------------------------------------------------------------------------


def read_bundled_list(name: str) -> frozenset[str]:
    text = resources.files(__package__).joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


SHORTENERS: frozenset[str] = read_bundled_list("shorteners.txt")


@functools.cache
def top_level_domains() -> frozenset[str]:
    """Every top-level label in tldextract's bundled public-suffix snapshot (Unicode form; no network).

    The ICANN suffixes (what ``TLDExtract(...).tlds`` gives), read from the snapshot as tldextract reads it
    but without importing tldextract, which costs about 0.4 s of start-up with its two suffix tries."""
    from smishguard.engine.domains.hosts import psl_suffixes

    return frozenset(suffix.rsplit(".", 1)[-1].lower() for suffix in psl_suffixes()[0])


# Top-level domains that are also everyday short words: a scheme-less "home.it" or "there.in" with no path is
# a sentence written without a space, not a link.
_WORDLIKE_TLDS = frozenset(
    {"it", "in", "to", "so", "at", "me", "us", "be", "no", "is", "my", "do", "am", "as", "by", "on", "or"}
    | {"we", "go", "an", "if", "of", "up", "hi", "he", "ok"}
)

# --- de-obfuscation -----------------------------------------------------------------------------------------

# One-for-one replacements: full-width ASCII (U+FF01..U+FF5E) and the ideographic / full-width / half-width
# full stops. They keep every offset, so they are applied with str.translate.
_WIDE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDE.update({0x3002: ord("."), 0xFF61: ord("."), 0xFE52: ord("."), 0x2024: ord(".")})
_TRANSLATE = str.maketrans(_WIDE)

# Every alternative starts with a literal character, so the regex engine skips ahead quickly; the spaces around
# a bracketed or spaced dot are taken in afterwards (see _Cleaned).
_OBFUSCATION = re.compile(
    r"""
      (?P<hxxp>[hH](?<![^\W_][hH])(?:xx|XX|xX|Xx|\*\*)[pP](?P<s>[sS]?)(?=\[?:))   # hxxp: hxxps[:]
    | (?P<colon>\[:\]|\(:\)|\[://\])                                       # [:] (:) [://]
    | (?P<dot>[\[({][ \t]*(?:\.|[dD][oO][tT])[ \t]*[\])}])                     # [.] (.) {.} [dot] (dot)
    | (?P<spaced>\.(?<=[ \t]\.)[ \t]*(?=[^\W_]))                                # "example . com", "example .com"
    """,
    re.VERBOSE,
)


class _Cleaned:
    """De-obfuscated text plus a map from its offsets back to the text as written."""

    __slots__ = ("clean_starts", "defanged", "orig_starts", "replaced", "text", "wide")

    def __init__(self, original: str) -> None:
        text = original if original.isascii() else original.translate(_TRANSLATE)
        # offsets (same in both texts) of characters changed one-for-one (full-width letters, odd dots)
        self.wide: list[int] = (
            [i for i, (a, b) in enumerate(zip(text, original, strict=True)) if a != b] if text != original else []
        )
        # segments: cleaned offset clean_starts[i] corresponds to original offset orig_starts[i]
        self.clean_starts: list[int] = [0]
        self.orig_starts: list[int] = [0]
        self.replaced: list[tuple[int, int]] = []  # cleaned-text spans that replaced something else
        self.defanged: list[tuple[int, int]] = []  # ... of which explicit defanging: hxxp, [.], (dot), [:]
        if not _may_be_obfuscated(text) or not _OBFUSCATION.search(text):
            self.text = text
            return
        pieces: list[str] = []
        shift = 0  # len(cleaned so far) - len(original so far)
        last = 0
        for m in _OBFUSCATION.finditer(text):
            start, end = m.start(), m.end()
            if m.group("hxxp"):
                repl = "http" + m.group("s").lower()
            elif m.group("colon"):
                repl = "://" if "/" in m.group("colon") else ":"
            else:
                # take in the spaces before (and, for a bracketed dot, after) it
                while start > last and text[start - 1] in " \t":
                    start -= 1
                if m.group("spaced"):
                    if start == m.start() or start == 0 or not _is_word_char(text[start - 1]):
                        continue
                else:
                    while end < len(text) and text[end] in " \t":
                        end += 1
                repl = "."
            if start < last:
                continue
            pieces.append(text[last:start])
            pieces.append(repl)
            clean_start = start + shift
            self.replaced.append((clean_start, clean_start + len(repl)))
            if not m.group("spaced"):
                self.defanged.append((clean_start, clean_start + len(repl)))
            shift += len(repl) - (end - start)
            self.clean_starts += [clean_start, end + shift]
            self.orig_starts += [start, end]
            last = end
        pieces.append(text[last:])
        self.text = "".join(pieces)

    def to_orig(self, clean: int) -> int:
        """The original offset of a cleaned offset (a segment boundary maps to the boundary)."""
        i = bisect.bisect_right(self.clean_starts, clean) - 1
        orig = self.orig_starts[i] + (clean - self.clean_starts[i])
        if i + 1 < len(self.orig_starts):
            orig = min(orig, self.orig_starts[i + 1])
        return orig

    def defanged_in(self, start: int, end: int) -> bool:
        """Whether the cleaned span [start, end) holds an explicit defang (hxxp, [.], (dot), [:])."""
        return any(a < end and start < b for a, b in self.defanged)

    def touched(self, start: int, end: int) -> bool:
        """Whether the cleaned span [start, end) differs from what was written."""
        if any(a < end and start < b for a, b in self.replaced):
            return True
        if self.wide:
            lo, hi = self.to_orig(start), self.to_orig(end)
            i = bisect.bisect_left(self.wide, lo)
            return i < len(self.wide) and self.wide[i] < hi
        return False


def _may_be_obfuscated(text: str) -> bool:
    """A fast pre-check (plain substring tests) before the obfuscation regex."""
    return (
        "[" in text
        or "(" in text
        or "{" in text
        or " ." in text
        or "\t." in text
        or "xx" in text
        or "XX" in text
        or "xX" in text
        or "Xx" in text
        or "**" in text
    )


def _is_word_char(char: str) -> bool:
    return char.isalnum()


def deobfuscate(text: str) -> str:
    """The text with the usual link obfuscations undone (what `extract_links` searches)."""
    return _Cleaned(text).text


# --- candidates ---------------------------------------------------------------------------------------------

_URL_CHAR = r"""(?:[^\s<>"'`{}|\\^]|(?<=[/\-_~?=&%\#+:])\r?\n(?=[^\s<>"']))"""  # a line break after / - ? = ...
_CANDIDATE = re.compile(
    rf"""
    (?<![\w@.\-/:])
    (?:(?P<scheme>https?|ftp)://(?P<userinfo>[^\s/@<>"']{{1,256}}@)?)?
    (?P<host>
        (?P<ip4>(?:\d{{1,3}}\.){{3}}\d{{1,3}})(?![\w.\-]*\.?[^\W\d_])
      | \[(?P<ip6>[0-9a-f:.]{{2,45}})\]
      | (?P<www>www\d{{0,3}}\.)?
        (?:[^\W_](?:[\w\-]{{0,61}}[^\W_])?\.)+
        (?P<tld>[a-z]{{2,63}}(?![a-z0-9_@\-]|\.[^\W_])
               |xn--[a-z0-9\-]{{1,59}}(?![a-z0-9_@\-]|\.[^\W_])
               |[^\W\d_]{{2,63}}(?![\w@\-]|\.[^\W_]))
    )
    \.?
    (?::(?P<port>\d{{1,5}})(?!\d))?
    (?P<rest>[/?\#]{_URL_CHAR}*)?
    """,
    re.VERBOSE | re.IGNORECASE,
)

# A cheap gate: text with none of these cannot hold a link, and most SMS never reach the full extractor.
# A cheap gate: text with none of these cannot hold a link, and most SMS never reach the full extractor. Each
# alternative starts with a literal character so that the search skips through ordinary text quickly.
_GATE = re.compile(
    r"[.\u3002\uff0e\uff61\ufe12\u2024](?<=[^\W_][.\u3002\uff0e\uff61\ufe12\u2024])[^\W\d_]"  # word.letter
    r"|\.(?<=[ \t]\.)[ \t]*[^\W\d_]"  # a spaced dot: "example . com"
    r"|[\[({][ \t]*(?:\.|[dD][oO][tT])[ \t]*[\])}]"  # [.] (.) [dot] (dot)
    r"|://|\[:\]"
    r"|\.(?<=\d\.)\d{1,3}\.\d{1,3}\.\d"  # an IPv4 address
    r"|[\uff01-\uff5e]"  # full-width letters and dots
)

# The same gate in parts, each led by a literal or one character set, so that the regular expression engine
# scans for that first character instead of trying every alternative at every position (the alternation
# above has no common prefix it can scan for). Searched one after the other they match exactly when _GATE
# does; in ASCII text the only dot is ".", so one pattern led by a literal "." does for the dot branches.
_GATE_ASCII = re.compile(r"\.(?:(?<=[^\W_]\.)[^\W\d_]|(?<=[ \t]\.)[ \t]*[^\W\d_]|(?<=\d\.)\d{1,3}\.\d{1,3}\.\d)")
_GATE_DOT = re.compile(r"[.\u3002\uff0e\uff61\ufe12\u2024](?<=[^\W_][.\u3002\uff0e\uff61\ufe12\u2024])[^\W\d_]")
_GATE_ASCII_DOT = re.compile(r"\.(?:(?<=[ \t]\.)[ \t]*[^\W\d_]|(?<=\d\.)\d{1,3}\.\d{1,3}\.\d)")
_GATE_BRACKET = re.compile(r"[\[({][ \t]*(?:\.|[dD][oO][tT])[ \t]*[\])}]")
_GATE_WIDE = re.compile(r"[\uff01-\uff5e]")


def _gate(text: str) -> bool:
    """``_GATE.search(text) is not None``, about twice as fast."""
    if "://" in text or "[:]" in text:
        return True
    if text.isascii():
        return ("." in text and _GATE_ASCII.search(text) is not None) or (
            ("[" in text or "(" in text or "{" in text) and _GATE_BRACKET.search(text) is not None
        )
    return (
        _GATE_DOT.search(text) is not None
        or _GATE_ASCII_DOT.search(text) is not None
        or _GATE_BRACKET.search(text) is not None
        or _GATE_WIDE.search(text) is not None
    )


_ANCHOR = re.compile(r"\.(?=[^\W_])|://")
_SPACE = re.compile(r"\s")
_JOIN = re.compile(r"[/\-_~?=&%#+:]\r?\n[^\s<>\"']")
_TRAILING = ".,;:!?'\"\u2019\u201d\u00bb>*\u2026"  # sentence punctuation and closing quotes
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_CJK_PREFIX = re.compile(r"^[^\x00-\x7f]+(?=[a-z0-9])", re.IGNORECASE)


def might_contain_link(text: str) -> bool:
    """A fast pre-check: False means `extract_links(text)` is certainly empty."""
    return _gate(text[:MAX_SCAN_CHARS])


def _trim(url: str) -> str:
    """Drop trailing sentence punctuation, and a closing bracket that has no opening one in the link."""
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)
        if last in _TRAILING or last in "\r\n" or unbalanced:
            url = url[:-1]
        else:
            break
    return url


@functools.lru_cache(maxsize=65_536)
def host_forms(host: str) -> tuple[str, str]:
    """(ASCII form, Unicode form) of a lower-case host; never raises, whatever the labels hold."""
    labels = host.split(".")
    ascii_labels: list[str] = []
    unicode_labels: list[str] = []
    for label in labels:
        if label.isascii():
            ascii_labels.append(label)
            if label.startswith("xn--"):
                unicode_labels.append(_decode_label(label))
            else:
                unicode_labels.append(label)
        else:
            ascii_labels.append(_encode_label(label))
            unicode_labels.append(label)
    return ".".join(ascii_labels), ".".join(unicode_labels)


def _encode_label(label: str) -> str:
    import idna  # a dependency of tldextract; only for non-ASCII hosts

    try:
        return idna.encode(label, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        pass
    try:
        return "xn--" + label.encode("punycode").decode("ascii")
    except UnicodeError:  # pragma: no cover - punycode encodes any str without surrogates
        return "xn--" + label.encode("utf-8", "replace").hex()


def _decode_label(label: str) -> str:
    import idna  # only for punycode hosts

    try:
        return idna.decode(label)
    except (idna.IDNAError, UnicodeError, ValueError):
        pass
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label  # an IDN that fails to decode stays in its ASCII form
    return decoded.lower() if decoded and decoded.isprintable() else label


def _tld_ok(tld: str) -> bool:
    tld = tld.lower()
    if tld.startswith("xn--"):
        tld = _decode_label(tld)
    return tld in top_level_domains()


def _is_shortener(host: str) -> bool:
    if host in SHORTENERS:
        return True
    parts = host.split(".")
    return any(".".join(parts[i:]) in SHORTENERS for i in range(1, len(parts) - 1))


def extract_links(text: str) -> tuple[Link, ...]:
    """Every link in `text`, in order of appearance, without duplicates (same normalised URL)."""
    if not isinstance(text, str) or not text:
        return ()
    if len(text) > MAX_SCAN_CHARS:
        text = text[:MAX_SCAN_CHARS]
    if not _gate(text):
        return ()
    cleaned = _Cleaned(text)
    clean = cleaned.text
    found: list[Link] = []
    seen: set[str] = set()
    pos, size = 0, len(clean)
    # Look only at the whitespace-delimited stretches around a dot or "://", not at every character.
    while len(found) < MAX_LINKS:
        anchor = _ANCHOR.search(clean, pos)
        if anchor is None:
            break
        at = anchor.start()
        start = max(pos, clean.rfind(" ", pos, at) + 1, clean.rfind("\n", pos, at) + 1)
        space = _SPACE.search(clean, at)
        endpos = space.start() if space else size
        while endpos < size and (join := _JOIN.match(clean, endpos - 1)):  # a link broken over two lines
            space = _SPACE.search(clean, join.end())
            endpos = space.start() if space else size
        m = _CANDIDATE.search(clean, start, endpos)
        if m is None:
            pos = max(endpos, at + 1)
            continue
        pos = max(m.end(), at + 1) if m.start() <= at else m.end()
        link = _to_link(m, cleaned, text)
        if link is not None and link.url not in seen:
            seen.add(link.url)
            found.append(link)
    return tuple(found)


def _to_link(m: re.Match[str], cleaned: _Cleaned, original: str) -> Link | None:
    scheme = (m.group("scheme") or "").lower()
    host = m.group("host")
    start = m.start() if scheme else m.start("host")
    rest = _trim(m.group("rest") or "")
    end = m.end("rest") - (len(m.group("rest") or "") - len(rest)) if m.group("rest") else m.end("host")
    if m.group("port"):
        end = max(end, m.end("port"))
    is_ip = bool(m.group("ip4") or m.group("ip6"))
    if m.group("ip4"):
        if any(int(octet) > 255 for octet in host.split(".")):
            return None
    elif m.group("ip6"):
        try:
            host = str(ipaddress.IPv6Address(m.group("ip6")))
        except ValueError:
            return None
    else:
        tld = m.group("tld")
        if not _tld_ok(tld):
            return None
        prefix = _CJK_PREFIX.match(host)
        if prefix and not scheme:  # "访问example.com": the host starts after the CJK words before it
            host = host[prefix.end() :]
            start += prefix.end()
        if not scheme and not m.group("www") and not rest and not cleaned.defanged_in(start, end):
            # scheme-less, path-less, not defanged: be strict, it may be a sentence without a space
            if tld[:1].isupper() and tld[1:].islower():  # "Mr.Smith", "Bye.Me"
                return None
            if tld.lower() in _WORDLIKE_TLDS and host.count(".") == 1:  # "home.it", "there.in"
                return None
    if m.group("port") and int(m.group("port")) > 65535:
        return None
    host_lower = host.lower().rstrip(".")
    if is_ip:
        host_ascii = host_unicode = host_lower
    else:
        host_ascii, host_unicode = host_forms(host_lower)
    port = f":{m.group('port')}" if m.group("port") else ""
    userinfo = m.group("userinfo") or ""
    path = rest.replace("\r", "").replace("\n", "")
    netloc_host = f"[{host_ascii}]" if m.group("ip6") else host_ascii
    url = f"{scheme or 'http'}://{userinfo}{netloc_host}{port}{path}"
    raw_start, raw_end = cleaned.to_orig(start), cleaned.to_orig(end)
    return Link(
        raw=original[raw_start:raw_end],
        url=url,
        host=host_ascii,
        host_unicode=host_unicode,
        is_shortener=not is_ip and _is_shortener(host_ascii),
        is_ip=is_ip,
        obfuscated=cleaned.touched(start, end),
    )


# --- addresses carried inside a link (open redirects) ---------------------------------------------------------

# An address in a link's path or query: a scheme and "//", a bare "//" after "=", or "www."; its host runs to
# the next "/", "?", "#", "&", quote or space.
_CARRIED = re.compile(
    r"(?:(?:https?|ftp):/{2}|(?<==)/{2}|(?<![\w.-])www\.)(?:[^/?#&\s@\"'<>]*@)?(?P<host>(?:www\.)?[^/?#&\s:\"'<>]+)",
    re.IGNORECASE,
)
MAX_CARRIED = 5  # addresses read from one link


def carried_hosts(url: str) -> tuple[str, ...]:
    """The hosts of the addresses a link carries in its path or query (``acme.com/redirect?u=https://acme-sso.com``
    → ``acme-sso.com``), percent-decoded up to twice (an open redirect is often encoded once more), lower case,
    without port or user; at most :data:`MAX_CARRIED` (the caller skips one equal to the link's own host)."""
    rest = url.split("://", 1)[-1].partition("/")[2]
    if not rest:
        return ()
    found: list[str] = []
    text = rest
    for _ in range(3):
        for m in _CARRIED.finditer(text):
            host = m.group("host").lower().rstrip(".")
            if host and "." in host and host not in found:
                found.append(host)
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return tuple(found[:MAX_CARRIED])
