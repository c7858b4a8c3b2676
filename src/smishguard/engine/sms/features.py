"""Brand-independent signals from the links in a text, for the text model and for the reasons in a verdict.

Nothing here knows about the organisation's brands: a lookalike of a protected brand acts through the rule in
`verdict`, never through the model. The word lists are bundled (data/*.txt) and fixed, so a trained model and
the features it was trained on always agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .links import Link, host_forms, read_bundled_list

ABUSED_TLDS: frozenset[str] = read_bundled_list("abused_tlds.txt")
IDENTITY_KEYWORDS: frozenset[str] = read_bundled_list("identity_keywords.txt")

_KW_LONG = tuple(sorted(k for k in IDENTITY_KEYWORDS if len(k) >= 4))
_KW_3 = tuple(sorted(k for k in IDENTITY_KEYWORDS if len(k) == 3))
_KW_2 = frozenset(k for k in IDENTITY_KEYWORDS if len(k) <= 2)
_PARTS = re.compile(r"[.\-]")

MANY_HYPHENS = 2  # hyphens in the registrable name
LONG_SUBDOMAIN_CHAIN = 3  # labels in front of the registrable domain (www not counted)


@dataclass(frozen=True, slots=True)
class HostSignals:
    registrable: str  # e.g. "twilio-sso.com"; the host itself for an IP address
    suffix: str  # public suffix, e.g. "com", "co.uk"; "" for an IP address
    shortener: bool
    raw_ip: bool
    abused_tld: bool
    identity_keyword: str | None  # the first identity/IT word found in the name, if any
    many_hyphens: bool
    digits_in_domain: bool
    long_subdomain_chain: bool
    punycode: bool


@dataclass(frozen=True, slots=True)
class LinkFeatures:
    has_link: bool
    n_links: int
    shortener: bool
    raw_ip: bool
    abused_tld: bool
    identity_keyword: bool
    many_hyphens: bool
    digits_in_domain: bool
    long_subdomain_chain: bool
    punycode_host: bool
    obfuscated: bool

    NAMES = (
        "has_link",
        "n_links",
        "shortener",
        "raw_ip",
        "abused_tld",
        "identity_keyword",
        "many_hyphens",
        "digits_in_domain",
        "long_subdomain_chain",
        "punycode_host",
        "obfuscated",
    )

    def as_vector(self) -> tuple[float, ...]:
        """Numbers for the model, in the order of NAMES (n_links capped at 3)."""
        return (
            float(self.has_link),
            min(self.n_links, 3) / 3.0,
            float(self.shortener),
            float(self.raw_ip),
            float(self.abused_tld),
            float(self.identity_keyword),
            float(self.many_hyphens),
            float(self.digits_in_domain),
            float(self.long_subdomain_chain),
            float(self.punycode_host),
            float(self.obfuscated),
        )

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.NAMES}


NO_LINKS = LinkFeatures(False, 0, False, False, False, False, False, False, False, False, False)


class _Split(NamedTuple):
    subdomain: str
    domain: str
    suffix: str


@functools.cache
def _icann_trie():
    from smishguard.engine.domains.hosts import psl_suffixes, suffix_trie

    return suffix_trie(psl_suffixes()[0])


def _extract(url: str) -> _Split:
    """What ``tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)(url)`` gives (ICANN suffixes only).

    The same steps as tldextract's ``extract_str`` (lenient netloc, dots, IPv6 and IPv4 forms, the suffix
    walk with punycode labels decoded, wildcards and their exceptions) over the same snapshot, without
    importing tldextract: that import (it brings ``requests``) and its suffix tries cost about 0.3 s of a
    command's start-up."""
    netloc = _lenient_netloc(url).replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
    if len(netloc) >= 4 and netloc[0] == "[" and netloc[-1] == "]" and _looks_like_ipv6(netloc[1:-1]):
        return _Split("", netloc, "")
    labels = netloc.split(".")
    index = _public_suffix_index(labels)
    if index is None:
        if len(labels) == 4 and _IPV4.fullmatch(netloc) is not None and netloc[0].isdecimal():
            return _Split("", netloc, "")
        return _Split(".".join(labels[:-1]), labels[-1], "")
    return _Split(
        ".".join(labels[: index - 1]) if index >= 2 else "",
        labels[index - 1] if index > 0 else "",
        ".".join(labels[index:]),
    )


_IPV4 = re.compile(
    r"^(?:(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\.){3}(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$",
    re.ASCII,
)
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


def _lenient_netloc(url: str) -> str:
    slashes = url.find("//")
    if slashes == 0:
        url = url[2:]
    elif slashes >= 2 and url[slashes - 1] == ":" and not set(url[: slashes - 1]) - _SCHEME_CHARS:
        url = url[slashes + 2 :]
    authority = url.partition("/")[0].partition("?")[0].partition("#")[0]
    after_userinfo = authority.rpartition("@")[-1]
    if after_userinfo and after_userinfo[0] == "[":
        maybe_ipv6 = after_userinfo.partition("]")
        if maybe_ipv6[1] == "]":
            return f"{maybe_ipv6[0]}]"
    return after_userinfo.partition(":")[0].strip().rstrip(".\u3002\uff0e\uff61")


def _looks_like_ipv6(text: str) -> bool:
    from ipaddress import AddressValueError, IPv6Address

    try:
        IPv6Address(text)
    except AddressValueError:
        return False
    return True


def _decode_punycode(label: str) -> str:
    lowered = label.lower()
    if lowered.startswith("xn--"):
        import idna  # tldextract's own dependency, as it decodes labels

        try:
            return idna.decode(lowered)
        except (UnicodeError, IndexError):
            pass
    return lowered


def _public_suffix_index(labels: list[str]) -> int | None:
    node = _icann_trie()
    suffix_index = label_index = len(labels)
    for label in reversed(labels):
        decoded = _decode_punycode(label)
        child = node.matches.get(decoded)
        if child is not None:
            label_index -= 1
            node = child
            if node.end:
                suffix_index = label_index
            continue
        if "*" in node.matches:
            return label_index if ("!" + decoded) in node.matches else label_index - 1
        break
    return None if suffix_index == len(labels) else suffix_index


def _identity_keyword(names: Sequence[str]) -> str | None:
    for name in names:
        parts = [p for p in _PARTS.split(name) if p]
        for part in parts:
            if part in _KW_2:
                return part
            for kw in _KW_3:
                if part.startswith(kw) or part.endswith(kw):
                    return kw
        joined = name.replace("-", "")
        for kw in _KW_LONG:
            if kw in joined:
                return kw
    return None


@functools.lru_cache(maxsize=65_536)
def host_signals(host: str, *, is_ip: bool = False, is_shortener: bool = False) -> HostSignals:
    """Signals of one ASCII host (cached: campaigns repeat hosts)."""
    if is_ip:
        return HostSignals(host, "", False, True, False, None, False, False, False, False)
    ext = _extract(host)
    suffix = ext.suffix
    name = ext.domain
    registrable = f"{name}.{suffix}" if name and suffix else host
    subs = [s for s in ext.subdomain.split(".") if s and s != "www"] if ext.subdomain else []
    shown = host_forms(name)[1] if "xn--" in name else name  # count hyphens and digits as a reader sees them
    tld = suffix.rsplit(".", 1)[-1] if suffix else host.rsplit(".", 1)[-1]
    return HostSignals(
        registrable=registrable,
        suffix=suffix,
        shortener=is_shortener,
        raw_ip=False,
        abused_tld=tld in ABUSED_TLDS,
        identity_keyword=None if is_shortener else _identity_keyword([name, *subs]),
        many_hyphens=shown.count("-") >= MANY_HYPHENS,
        digits_in_domain=any(c.isdigit() for c in shown),
        long_subdomain_chain=len(subs) >= LONG_SUBDOMAIN_CHAIN,
        punycode="xn--" in host,
    )


def signals_of(link: Link) -> HostSignals:
    return host_signals(link.host, is_ip=link.is_ip, is_shortener=link.is_shortener)


def link_features(links: Sequence[Link]) -> LinkFeatures:
    """What the links in one text look like, brand-independently."""
    if not links:
        return NO_LINKS
    signals = [signals_of(link) for link in links]
    return LinkFeatures(
        has_link=True,
        n_links=len(links),
        shortener=any(s.shortener for s in signals),
        raw_ip=any(s.raw_ip for s in signals),
        abused_tld=any(s.abused_tld for s in signals),
        identity_keyword=any(s.identity_keyword for s in signals),
        many_hyphens=any(s.many_hyphens for s in signals),
        digits_in_domain=any(s.digits_in_domain for s in signals),
        long_subdomain_chain=any(s.long_subdomain_chain for s in signals),
        punycode_host=any(s.punycode for s in signals),
        obfuscated=any(link.obfuscated for link in links),
    )
