"""The lookalike matcher: one pass over a host name against every protected brand.

How a host is read (see docs/detection.md, "Lookalike domains", for the reasoning):

1. Normalise (unicode form, lower case) and cut at the registrable domain (bundled PSL, private suffixes
   included). A host under an official domain is "official", under a partner's domain "partner", and
   nothing else is looked at.
2. The registrable domain's own label (the *stem*: ``twilio-sso`` in ``login.twilio-sso.co.uk``) is compared,
   as a confusable skeleton with hyphens removed, against every brand token:
   - equal to a token: ``tld-swap`` (same name, foreign suffix), ``homoglyph``/``idn`` (equal only after the
     skeleton), ``hyphenation`` (equal only without hyphens);
   - equal to a typo variant of a token of 5+ letters: the fuzzer's name (``omission``, ``bitsquat``, ...);
   - a token plus one or more identity/IT keywords, in either order: ``keyword``. The whole stem must be
     made of the token, keywords and digits - a token inside an ordinary word never counts.
3. A plain ASCII stem is also read part by part (parts.py, matcher version 2): a brand token standing as a
   whole part or as a whole word of a glued run, weighed with what else the name holds (``brand-part``,
   ``brand-compound``, ``idp-combo``, ``brand-pair``, ``addition``).
4. Each subdomain label is compared the same way as in 2 (exact token, skeleton, keyword form): ``subdomain``.

The best hit gives the verdict ("lookalike" at or above ``min_score``, else "clear" with its evidence kept),
the techniques, the score and the reasons (reasons.py); every result names ``MATCHER_VERSION``.

Short tokens (2-3 letters: att, cb, tmo) are held to more: never typo variants, never a subdomain label on
their own; in the keyword form they must be a whole hyphen-separated part (``att-sso``) or be glued to a
single keyword of 4+ letters (``attlogin``); a bare short stem under a foreign suffix counts only when it is
an official domain's own label (att.net for att.com).
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, compress, count, repeat
from operator import itemgetter
from typing import Literal, NamedTuple

import ahocorasick

from smishguard.engine.domains.brands import DEFAULT_KEYWORDS, Brand, clean_keyword
from smishguard.engine.domains.errors import InvalidDomain
from smishguard.engine.domains.hosts import _suffix_start, _suffix_trie, normalise_host
from smishguard.engine.domains.parts import IDP_TOKENS, PartReader
from smishguard.engine.domains.reasons import explain
from smishguard.engine.domains.skeleton import _ASCII_FOLD as _FOLD
from smishguard.engine.domains.skeleton import fold
from smishguard.engine.domains.typos import variants

# The JSON of a string as json.dumps(..., ensure_ascii=False) writes it (the C encoder json itself uses).
_q = json.encoder.encode_basestring
_float_repr = float.__repr__  # how json writes a finite float
_INF = float("inf")

# Bytes a plain ASCII host may hold; anything else goes the slow, fully checked way (normalise_host).
_HOST_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789-_."

# check_many reads a list of names a block at a time (_check_block); the bytes a block of plain hosts holds.
_BLOCK = 1024
_BLOCK_BYTES = _HOST_BYTES + b"\n"
# What no plain host starts or ends with, or holds.
_BAD_FIRST = frozenset(".-")
_BAD_LAST = frozenset(".-0123456789")
_NOT_PLAIN = ("..", ".-", "-.", "xn--")
_NOT_PLAIN_TEXT = re.compile(r"[^a-z0-9_.\n-]|\.\.|\.-|-\.|xn--")
_head = itemgetter(0)  # of a str.partition, or a str's first character
_tail = itemgetter(2)  # of a str.partition
_end = itemgetter(-1)  # a str's last character
_plus_one = (1).__add__

TECHNIQUES: tuple[str, ...] = (
    "keyword", "omission", "insertion", "replacement", "transposition", "repetition", "bitsquat",
    "vowel-swap", "homoglyph", "idn", "subdomain", "hyphenation", "tld-swap",
    "brand-part", "brand-compound", "idp-combo", "brand-pair", "addition",
)  # fmt: skip
_ORDER = {t: i for i, t in enumerate(TECHNIQUES)}

# How strongly each technique alone says "made to imitate"; several combine as 1 - prod(1 - w).
WEIGHTS: dict[str, float] = {
    "keyword": 0.9, "homoglyph": 0.95, "idn": 0.8, "subdomain": 0.8, "hyphenation": 0.75, "tld-swap": 0.7,
    "omission": 0.8, "insertion": 0.75, "replacement": 0.75, "transposition": 0.8, "repetition": 0.8,
    "bitsquat": 0.6, "vowel-swap": 0.75,
    "brand-part": 0.8, "brand-compound": 0.75, "idp-combo": 0.85, "brand-pair": 0.85, "addition": 0.75,
}  # fmt: skip

SHORT_TOKEN = 3  # tokens of this many characters or fewer are "short"
TYPO_MIN = 5  # typo variants only for tokens at least this long, and only variants at least this long
# Registrations under these suffixes are restricted to governments, armed forces, universities...: a name
# there is not a squatter's, so only its subdomain labels are looked at (a hacked site can still host one).
RESTRICTED_SUFFIX_LABELS = frozenset({"gov", "mil", "edu", "int", "ac", "gob", "gouv", "govt", "mod"})
GLUED_KEYWORD_MIN = 4  # a short token glued to a keyword (no hyphen) needs a keyword this long

DomainVerdict = Literal["lookalike", "official", "partner", "clear"]
# The version of the matcher's rules, named in every verdict so that a verdict can be traced when the rules change:
# 1 = "the whole stem is a token plus keywords" (issues 3-4); 2 = evidence weighed per part (issue 15).
MATCHER_VERSION = "2"


class DomainResult(NamedTuple):
    """What the matcher says about one host (a NamedTuple: immutable, and cheap to make 100,000 a second).

    ``verdict``: lookalike (at or above the matcher's ``min_score``), official (under a brand's official
    domain), partner (under a domain the brand's partners legitimately use), or clear.  A name under the line
    keeps its brand, techniques and score, with a reason that says so.  ``reasons``: sentences for a person.
    """

    domain: str
    registrable: str
    verdict: DomainVerdict
    brand: str | None
    techniques: tuple[str, ...]
    score: float
    reasons: tuple[str, ...] = ()
    matcher: str = MATCHER_VERSION

    def to_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "registrable": self.registrable,
            "verdict": self.verdict,
            "brand": self.brand,
            "techniques": list(self.techniques),
            "score": self.score,
            "reasons": list(self.reasons),
            "matcher": self.matcher,
        }

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, written out: 100,000 of them a second."""
        domain, registrable, verdict, brand, techniques, score, reasons, matcher = self
        if brand is None and not reasons and matcher is MATCHER_VERSION and type(score) is float:
            # a clear name (nearly every name): the constant tail written in, "clear" too, and the domain quoted
            # once when it is its own registrable domain (the same str)
            d = _q(domain)
            r = d if registrable is domain else _q(registrable)
            if verdict == "clear":  # (an f-string: faster than % here; the same text as _CLEAR_JSON)
                return (
                    f'{{"domain": {d}, "registrable": {r}, "verdict": "clear", "brand": null, "techniques": [], '
                    f'"score": {_float_repr(score)}, "reasons": [], "matcher": {_MATCHER_JSON}}}'
                )
            return _CLEAR_JSON % (d, r, _q(verdict), _float_repr(score))
        return _RESULT_JSON % (
            _q(domain),
            _q(registrable),
            _q(verdict),
            "null" if brand is None else _q(brand),
            "[" + ", ".join(map(_q, techniques)) + "]" if techniques else "[]",
            _float_repr(score) if type(score) is float and -_INF < score < _INF else json.dumps(score),
            "[" + ", ".join(map(_q, reasons)) + "]" if reasons else "[]",
            _q(matcher),
        )


_RESULT_JSON = (
    '{"domain": %s, "registrable": %s, "verdict": %s, "brand": %s, "techniques": %s, "score": %s, '
    '"reasons": %s, "matcher": %s}'
)
_CLEAR_JSON = (
    '{"domain": %s, "registrable": %s, "verdict": %s, "brand": null, "techniques": [], "score": %s, '
    '"reasons": [], "matcher": ' + _q(MATCHER_VERSION) + "}"
)
_MATCHER_JSON = _q(MATCHER_VERSION)
_new_result = tuple.__new__  # DomainResult(...) without the Python-level __new__ of a NamedTuple


def _not_plain_host(host: str) -> bool:
    """Whether ``host`` is not a plain ASCII host that check may read as it is (any other goes through
    normalise_host: the full checks, punycode, IDN, "*." and trailing dots); block reading asks it of a whole block."""
    return not (
        host.isascii()
        and 0 < len(host) <= 63  # no label can be too long
        and not host.encode("ascii").translate(None, _HOST_BYTES)
        and host[0] not in ".-"
        and host[-1] not in ".-"
        and not host[-1].isdigit()
        and ".." not in host
        and ".-" not in host
        and "-." not in host
        and "xn--" not in host
    )


class _Token(NamedTuple):
    brand: int
    text: str  # compact (no hyphens), lower case, as configured
    skel: str  # compact confusable skeleton of text
    short: bool
    exact_ok: bool  # a whole stem equal to it (under a foreign suffix) is flagged as tld-swap


class _Hit(NamedTuple):
    brand: int
    techniques: frozenset[str]


def _combine(techniques: Iterable[str]) -> float:
    miss = 1.0
    for t in techniques:
        miss *= 1.0 - WEIGHTS[t]
    return round(1.0 - miss, 3)


def _compact_name(name: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", name).lower() if ch.isalnum())


class LookalikeMatcher:
    """Checks host names against protected brands; build once, call ``check`` or ``check_many``."""

    def __init__(
        self,
        brands: Sequence[Brand],
        keywords: Iterable[str] = (),
        *,
        cache_size: int = 65536,
        min_score: float = 0.0,
    ):
        """``min_score``: where "lookalike" starts (``domains check --min-score``, ``[detection] min_score``); a
        name that imitates a brand but scores under it is "clear", with its brand, techniques and score kept."""
        if not isinstance(min_score, int | float) or not 0.0 <= min_score <= 1.0:
            raise ValueError("min_score must be a number from 0 to 1")
        self.min_score = float(min_score)
        self.brands: tuple[Brand, ...] = tuple(brands)
        for b in self.brands:
            if not isinstance(b, Brand):
                raise TypeError(f"expected Brand, got {type(b).__name__}")
        self.keywords: tuple[str, ...] = tuple(
            dict.fromkeys([*DEFAULT_KEYWORDS, *(clean_keyword(k) for k in keywords)])
        )
        self._trie = _suffix_trie()
        self._cache_size = cache_size
        self._cache: dict[str, tuple[_Hit, ...]] = {}
        self._reasons: dict[tuple[str, int, tuple[str, ...]], tuple[str, ...]] = {}
        self._kw = frozenset(fold(k) for k in self.keywords)
        self._kw_max = max(len(k) for k in self._kw)
        # The steps of building, in order: each reads what the ones before it made.
        self._index_official_domains()
        self._index_partners()
        self._tokens = self._brand_tokens()
        self._index_tokens()
        self._index_typos()
        self._build_search()
        self._build_part_reader()
        self._stem_keys: frozenset[str] | None = None  # check_many's tables, made by its first block

    # ------------------------------------------------------------------ building

    def _index_official_domains(self) -> None:
        """Official hosts; most are registrable domains, checked with one set look-up."""
        self._official: dict[str, int] = {}
        for i, b in enumerate(self.brands):
            for d in b.domains:
                self._official.setdefault(d, i)
        self._official_deep: dict[str, list[str]] = {}  # registrable -> official names below it
        self._official_stems: dict[int, set[str]] = {}
        for d, i in self._official.items():
            labels = d.split(".")
            start = _suffix_start(labels, self._trie)
            start = min(start, len(labels) - 1)
            reg_labels = labels[max(start - 1, 0) :]
            reg = ".".join(reg_labels)
            if reg != d:
                self._official_deep.setdefault(reg, []).append(d)
            if start == 1:  # the official domain is itself registrable: its label stands for the brand
                self._official_stems.setdefault(i, set()).add(labels[0])

    def _index_partners(self) -> None:
        """Partner domains (never flagged, reported as "partner"): by registrable domain, or deeper names."""
        self._partner: dict[str, int] = {}
        self._partner_deep: dict[str, list[str]] = {}
        for i, b in enumerate(self.brands):
            for d in b.partners:
                if d in self._official or d in self._partner:
                    continue
                self._partner[d] = i
                labels = d.split(".")
                start = min(_suffix_start(labels, self._trie), len(labels) - 1)
                reg = ".".join(labels[max(start - 1, 0) :])
                if reg != d:
                    self._partner_deep.setdefault(reg, []).append(d)

    def _brand_tokens(self) -> tuple[_Token, ...]:
        """The texts that stand for each brand (keeping only the official stems that carry one of them)."""
        tokens: list[_Token] = []
        for i, b in enumerate(self.brands):
            # The name and the configured tokens stand for the brand; an official domain's own label does
            # when it carries one of them (twiliocdn, attwireless), not when it is a word of its own (live,
            # office, me, force) or a CDN abbreviation (licdn, fbcdn): those would flag ordinary domains.
            own = {t.replace("-", "") for t in (*b.tokens, _compact_name(b.name))}
            own = {o for o in own if len(o) >= 2}
            stems = {s for s in self._official_stems.get(i, ()) if any(o in s.replace("-", "") for o in own)}
            self._official_stems[i] = stems
            raw: dict[str, bool] = {}
            for t in (*b.tokens, *sorted(stems), _compact_name(b.name)):
                text = t.replace("-", "")
                if len(text) < 2:
                    continue
                raw[text] = raw.get(text, False) or t in stems or len(text) > SHORT_TOKEN
            for text, exact_ok in raw.items():
                tokens.append(_Token(i, text, fold(text), len(text) <= SHORT_TOKEN, exact_ok))
        return tuple(tokens)

    def _index_tokens(self) -> None:
        """Each brand's texts and raw spellings, and the exact look-up by skeleton."""
        tokens = self._tokens
        self._brand_texts: dict[int, set[str]] = {}
        for t in tokens:
            self._brand_texts.setdefault(t.brand, set()).add(t.text)
        # The spellings a brand writes itself, hyphens included ("t-mobile", "service-now").
        self._brand_raw: dict[int, frozenset[str]] = {
            i: frozenset((*b.tokens, *self._official_stems.get(i, ()), _compact_name(b.name)))
            for i, b in enumerate(self.brands)
        }

        self._exact: dict[str, list[_Token]] = {}
        for t in tokens:
            self._exact.setdefault(t.skel, []).append(t)

    def _index_typos(self) -> None:
        """Typo variants of long tokens: by spelling (a plain typo) and by skeleton (a typo in disguise). A
        variant that is itself some brand's token, an official label or a keyword is dropped."""
        tokens = self._tokens
        taken = set(self._exact) | self._kw | {t.text for t in tokens}
        self._typos: dict[str, list[tuple[_Token, str]]] = {}
        self._typo_skels: dict[str, list[tuple[_Token, str]]] = {}
        for t in tokens:
            if len(t.text) < TYPO_MIN or not t.text.isascii():
                continue
            found = variants(t.text)
            # fold() of every (ASCII) variant in one pass: the table is per byte and no "rn" spans a newline
            keys = "\n".join(found).encode("ascii").translate(_FOLD).decode("ascii").replace("rn", "m").split("\n")
            brand, typos, typo_skels = t.brand, self._typos, self._typo_skels
            for (v, technique), key in zip(found.items(), keys, strict=True):
                if len(v) < TYPO_MIN or key in taken or v in taken:
                    continue
                entry = (t, technique)
                bucket = typos.get(v)
                if bucket is None:
                    typos[v] = [entry]
                elif all(other.brand != brand for other, _ in bucket):
                    bucket.append(entry)
                bucket = typo_skels.get(key)
                if bucket is None:
                    typo_skels[key] = [entry]
                elif all(other.brand != brand for other, _ in bucket):
                    bucket.append(entry)

    def _build_search(self) -> None:
        """Long tokens are found anywhere in a label (Aho-Corasick, one pass for all brands); short ones only
        as a whole hyphen part or glued to one long keyword, so they are looked up, not searched for."""
        self._ac = ahocorasick.Automaton()
        self._short: dict[str, list[_Token]] = {}
        self._short_glued: dict[str, list[_Token]] = {}
        for skel, toks in self._exact.items():
            long_toks = tuple(t for t in toks if not t.short)
            if long_toks:
                self._ac.add_word(skel, (len(skel), long_toks))
            for t in toks:
                if not t.short:
                    continue
                self._short.setdefault(skel, []).append(t)
                for w in self.keywords:
                    if len(w) >= GLUED_KEYWORD_MIN:
                        for glued in (fold(t.text + w), fold(w + t.text)):
                            self._short_glued.setdefault(glued, []).append(t)
        if len(self._ac) == 0:
            self._ac.add_word("\x00", (1, ()))  # an automaton needs one word; no label holds a NUL
        self._ac.make_automaton()

    def _build_part_reader(self) -> None:
        """Evidence per part (parts.py): every token, the keywords, and which brands are identity providers (a
        brand whose token is an identity/IT keyword, or a known identity provider's name)."""
        idp_words = set(self.keywords) | IDP_TOKENS
        idp_brands = {t.brand for t in self._tokens if t.text in idp_words}
        hyphenated = {spelling for raw in self._brand_raw.values() for spelling in raw}
        self.part_reader = PartReader(
            ((t.brand, t.text) for t in self._tokens if t.text.isascii()),
            self.keywords,
            idp_brands,
            hyphenated,
            all_keywords=self._all_keywords,
        )

    def _build_block_reading(self) -> None:
        """What check_many's block reading (_check_block) looks names up in, each set the union of the tables
        that check's own early answers read; made by the first block (check alone never needs them)."""
        # a registrable name under an official or a partner's domain (answered by check, not here)
        self._registered = frozenset((*self._official, *self._official_deep, *self._partner, *self._partner_deep))
        # a hyphen part of the folded stem: a short token, alone or glued (or a typo skeleton: _typo_skels)
        self._part_keys = frozenset((*self._short, *self._short_glued))
        # the rests of names seen (after the first dot): whether a name one label longer does NOT have that label
        # as its stem (_plain_suffix); replaced, never cleared, when full (a block may be reading the old one)
        self._suffix_not_plain: dict[str, bool] = {}
        # the folded stem, hyphens removed: a token, a short token glued to a keyword, or the skeleton of a typo
        # (_stem_hits' look-ups; a stem without hyphens that is a typo has its skeleton among _typo_skels).  Made
        # last: a block in another thread takes the tables as made once it sees this one.
        self._stem_keys = frozenset((*self._exact, *self._short_glued, *self._typo_skels))

    # ------------------------------------------------------------------ public

    def check(self, name: str) -> DomainResult:
        """Classify one host name; raises InvalidDomain when it is not a valid host."""
        host = name.strip().lower() if type(name) is str else ""
        if _not_plain_host(host):
            host = normalise_host(name)  # the full checks, punycode, IDN, "*." and trailing dots
        labels = host.split(".")
        n = len(labels)
        # The walk of hosts._suffix_start, inlined: it runs once per name.
        node = self._trie
        start = i = n
        while i:
            i -= 1
            matches = node.matches  # type: ignore[attr-defined]
            child = matches.get(labels[i])
            if child is None:
                if "*" in matches:
                    start = i + 1 if ("!" + labels[i]) in matches else i
                break
            node = child
            if child.end:
                start = i
        if start == n:
            start = n - 1 if n > 1 else n
        if start == 0:
            return DomainResult(host, host, "clear", None, (), 0.0)
        stem = labels[start - 1]
        registrable = host if start == 1 else ".".join(labels[start - 1 :])
        official = self._official.get(registrable)
        if official is None and registrable in self._official_deep:
            official = self._deep_official(host, registrable)
        if official is not None:
            return DomainResult(host, registrable, "official", self.brands[official].name, (), 0.0)
        if self._partner:
            partner = self._partner_of(host, registrable)
            if partner is not None:
                name = self.brands[partner].name
                why = (f"{registrable} is configured as a partner of {name}: names that carry it are never flagged",)
                return DomainResult(host, registrable, "partner", name, (), 0.0, why)

        hits = self._cache.get(stem) if self._cache_size else None
        if hits is None:
            hits = self._stem_hits(stem)
            if self._cache_size:
                if len(self._cache) >= self._cache_size:
                    self._cache.clear()
                self._cache[stem] = hits
        if hits and start < n and labels[start] in RESTRICTED_SUFFIX_LABELS:
            hits = ()
        if start > 1:
            sub_hits = self._subdomain_hits(labels[: start - 1], stem)
            if sub_hits:
                hits = hits + sub_hits
        if not hits:
            return _new_result(DomainResult, (host, registrable, "clear", None, (), 0.0, (), MATCHER_VERSION))
        best_score = -1.0
        best: _Hit | None = None
        for h in hits:
            s = _combine(h.techniques)
            if s > best_score:
                best_score, best = s, h
        assert best is not None  # noqa: S101 - hits is non-empty
        techniques = tuple(sorted(best.techniques, key=_ORDER.__getitem__))
        verdict: DomainVerdict = "lookalike" if best_score >= self.min_score else "clear"
        key = (registrable, best.brand, techniques)
        reasons = self._reasons.get(key) if self._cache_size else None
        if reasons is None:  # (a certificate log names one registrable domain under many hosts: said once)
            reasons = explain(
                self.brands,
                self.part_reader,
                stem=stem,
                registrable=registrable,
                brand=best.brand,
                techniques=techniques,
            )
            if self._cache_size:
                if len(self._reasons) >= self._cache_size:
                    self._reasons.clear()
                self._reasons[key] = reasons
        if verdict == "clear":
            reasons = (*reasons, f"scored {best_score:.2f}, under the line {self.min_score:.2f} where lookalike starts")
        return DomainResult(host, registrable, verdict, self.brands[best.brand].name, techniques, best_score, reasons)

    def check_many(self, names: Iterable[str]) -> Iterator[DomainResult | InvalidDomain]:
        """Classify each name in order; a bad name yields its InvalidDomain in its place.

        A list or tuple is read a block of names at a time (_check_block): the names that plainly imitate no
        brand are answered together, the rest one by one by ``check``; the answers are the same as ``check``'s
        (a test compares them on every domain of the evaluation sets and on generated names)."""
        check = self.check
        if isinstance(names, list | tuple):
            at = 0
            while at < len(names):
                block = names[at : at + _BLOCK]
                at += _BLOCK
                found = self._check_block(block)
                if found is not None:
                    yield from found
                    continue
                for name in block:
                    try:
                        yield check(name)
                    except InvalidDomain as exc:
                        yield exc
            return
        for name in names:
            try:
                yield check(name)
            except InvalidDomain as exc:
                yield exc

    def _check_block(self, names: Sequence[str]) -> list[DomainResult | InvalidDomain] | None:
        """``[check(n) for n in names]`` (an InvalidDomain in the place of a bad name), for a block of names at
        once; None when the block cannot be read as one text (a name that is not a str, or holds a line break).

        Every name is taken to be clear unless one of check's own early tests could say otherwise; those tests
        are made for the whole block with a few passes in C (one str per block, sets, map):

        - the name is a plain ASCII host that check would read without normalise_host (its own test, made on
          the joined block: bytes, lengths, the first and last character, "..", ".-", "-.", "xn--");
        - its registrable domain is the name itself (the rest after the first dot is a public suffix that no
          wildcard extends: _plain_suffix), not official, not a partner's;
        - the stem (the first label, folded as _stem_hits folds it) is not a token, a short token glued to a
          keyword, a typo of a token, and has no hyphen part that is a short token or a typo skeleton;
        - no long token is anywhere in the folded name with its hyphens removed (one Aho-Corasick pass over
          the block: this covers the stem's own search and, for deeper names, the subdomain probe).

        Every other name goes to ``check``, which answers it fully.
        """
        if not names:
            return []
        if self._stem_keys is None:
            self._build_block_reading()
        try:
            joined = "\n".join(names)
        except TypeError:
            return None
        low = joined.lower()
        hosts = low.split("\n")
        if len(hosts) != len(names):
            return None
        shaped = (  # every line: 1 to 63 characters, no dot or hyphen first or last, no digit last
            min(map(len, hosts)) > 0
            and max(map(len, hosts)) <= 63
            and _BAD_FIRST.isdisjoint(map(_head, hosts))
            and _BAD_LAST.isdisjoint(map(_end, hosts))
        )
        slow: set[int] = set()
        if low.isascii() and not low.encode("ascii").translate(None, _BLOCK_BYTES):
            text = low.encode("ascii")
            other = any(s in low for s in _NOT_PLAIN)
        else:  # (a non-ASCII character is one "?" in the folded text below)
            text = low.encode("ascii", "replace")
            other = True
        if not shaped:  # check's own test, line by line
            slow.update(compress(count(), map(_not_plain_host, hosts)))
        elif other:  # the lines with another character, "..", ".-", "-." or "xn--" (punycode)
            ends = list(accumulate(map(_plus_one, map(len, hosts))))
            slow.update(bisect_right(ends, m.start()) for m in _NOT_PLAIN_TEXT.finditer(low))
        text = text.translate(_FOLD).replace(b"rn", b"m")  # fold(), line by line
        folded = text.decode("ascii")
        bare = text.translate(None, b"-").decode("ascii")
        found = self._ac.iter(bare)
        first = next(found, None)
        if first is not None:  # the lines that hold a long token (a few in a thousand)
            ends = list(accumulate(map(_plus_one, map(len, bare.split("\n")))))
            slow.add(bisect_right(ends, first[0]))
            slow.update(bisect_right(ends, end) for end, _ in found)

        rests = list(map(_tail, map(str.partition, hosts, repeat("."))))
        not_plain = self._suffix_not_plain
        new = set(rests).difference(not_plain)
        if new:
            if len(not_plain) + len(new) > 65536:  # (names of a certificate log: bounded)
                not_plain = self._suffix_not_plain = {}
                new = set(rests)
            for rest in new:
                not_plain[rest] = not self._plain_suffix(rest)
        slow.update(compress(count(), map(not_plain.__getitem__, rests)))
        slow.update(compress(count(), map(self._registered.__contains__, hosts)))
        folded_stems = list(map(_head, map(str.partition, folded.split("\n"), repeat("."))))
        slow.update(
            compress(
                count(), map(self._stem_keys.__contains__, map(str.replace, folded_stems, repeat("-"), repeat("")))
            )
        )
        part_keys, typo_skels, typos = self._part_keys, self._typo_skels.keys(), self._typos
        for i in compress(count(), map(str.__contains__, folded_stems, repeat("-"))):
            if i not in slow and (
                not part_keys.isdisjoint(hyphen_parts := folded_stems[i].split("-"))
                or not typo_skels.isdisjoint(hyphen_parts)
                or hosts[i].partition(".")[0].replace("-", "") in typos
            ):
                slow.add(i)

        fields = zip(
            hosts, hosts, repeat("clear"), repeat(None), repeat(()), repeat(0.0), repeat(()), repeat(MATCHER_VERSION)
        )
        out: list[DomainResult | InvalidDomain] = list(map(_new_result, repeat(DomainResult), fields))
        check = self.check
        for i in sorted(slow):
            try:
                out[i] = check(names[i])
            except InvalidDomain as exc:
                out[i] = exc
        return out

    def _plain_suffix(self, rest: str) -> bool:
        """Whether a name ``stem.rest`` (one label more) has ``stem`` as its stem and itself as its registrable
        domain, by check's suffix walk: ``rest`` is a public suffix whole (every label in the trie, the last one
        ending a rule) and no wildcard extends it.  (When ``stem.rest`` is in the trie itself, blogspot.com, the
        walk goes one label further: if that ends a rule, check answers "clear" with the name as its registrable
        domain, which is the block's answer; if not, the stem is the first label after all.)"""
        node = self._trie
        for label in reversed(rest.split(".")):
            node = node.matches.get(label)  # type: ignore[attr-defined]
            if node is None:
                return False
        matches = node.matches  # type: ignore[attr-defined]
        return node.end and "*" not in matches  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ internals

    def _partner_of(self, host: str, registrable: str) -> int | None:
        found = self._partner.get(registrable)
        if found is not None:
            return found
        for d in self._partner_deep.get(registrable, ()):
            if host == d or host.endswith("." + d):
                return self._partner[d]
        return None

    def _deep_official(self, host: str, registrable: str) -> int | None:
        for d in self._official_deep[registrable]:
            if host == d or host.endswith("." + d):
                return self._official[d]
        return None

    def _skel(self, label: str) -> str:
        return fold(label)

    def _seg(self, x: str) -> bool:
        """Whether x is made entirely of keywords and digits (the empty string is)."""
        if not x:
            return True
        kw = self._kw
        n = len(x)
        ok = [False] * (n + 1)
        ok[n] = True
        for i in range(n - 1, -1, -1):
            if x[i].isdigit():
                ok[i] = ok[i + 1]
                continue
            for j in range(i + 1, min(n, i + self._kw_max) + 1):
                if ok[j] and x[i:j] in kw:
                    ok[i] = True
                    break
        return ok[0]

    def _label_hits(self, label: str, *, in_subdomain: bool) -> list[_Hit]:
        """Techniques by which one label (a stem or a subdomain label) imitates each brand."""
        is_ascii = label.isascii()
        k = fold(label)
        hyphen = "-" in label
        kc = k.replace("-", "") if hyphen else k
        lc = label.replace("-", "") if hyphen else label
        out: list[_Hit] = []
        disguise = () if is_ascii else ("idn",)

        toks = self._exact.get(kc)
        if toks:
            for t in toks:
                techs: list[str] = []
                if t.short:  # exactly the token, or an IDN disguise of it; never hyphenated or ASCII look-alikes
                    if lc == t.text and not hyphen:
                        if in_subdomain:
                            techs.append("short")  # needs confirming by the caller
                        elif t.exact_ok:
                            techs.append("tld-swap")
                    elif not is_ascii and not hyphen:
                        techs += ("homoglyph", *disguise, *(("short",) if in_subdomain else ()))
                    if techs:
                        out.append(_Hit(t.brand, frozenset(techs)))
                    continue
                if lc not in self._brand_texts[t.brand]:
                    techs += ("homoglyph", *disguise)
                if hyphen and label not in self._brand_raw[t.brand]:
                    techs.append("hyphenation")
                if not techs and not in_subdomain:
                    if not t.exact_ok:
                        continue
                    techs.append("tld-swap")
                out.append(_Hit(t.brand, frozenset(techs)))

        if not in_subdomain:
            out.extend(self._typo_hits(lc, kc, disguise, hyphen=hyphen))

        found = self._keyword_hits(kc, lc, disguise, out)
        if not found and any(ch.isdigit() for ch in lc):
            # The skeleton reads digits as letters (1 -> l, 0 -> o), so "twilio-sso1" or "twilio1-sso" would hide
            # brand + keyword behind a number; look again with the digits taken out before folding.
            bare = "".join(ch for ch in lc if not ch.isdigit())
            if bare:
                self._keyword_hits(fold(bare), lc, disguise, out)

        if self._short:
            out.extend(self._short_keyword_hits(k, lc, disguise))
        if hyphen and not out:
            out.extend(self._typo_keyword_hits(k.split("-"), label, disguise, in_subdomain=in_subdomain))
        return out

    def _keyword_hits(self, kc: str, lc: str, disguise: tuple[str, ...], out: list[_Hit]) -> bool:
        """Brand token plus keywords and digits around it in the folded label ``kc``; appends to ``out``."""
        found = False
        for end, (length, toks) in self._ac.iter(kc):
            begin = end - length + 1
            pre, post = kc[:begin], kc[end + 1 :]
            if not pre and not post:
                continue
            rest = pre + post
            if rest.isdigit() or not self._seg(pre) or not self._seg(post):
                continue
            for t in toks:
                techs = ["keyword"]
                if t.text not in lc:  # the token is there only after the skeleton
                    techs += ("homoglyph", *disguise)
                out.append(_Hit(t.brand, frozenset(techs)))
                found = True
        return found

    def _typo_hits(self, raw: str, skel: str, disguise: tuple[str, ...], *, hyphen: bool) -> Iterator[_Hit]:
        extra = ("hyphenation",) if hyphen else ()
        found = self._typos.get(raw)
        if found:
            for t, technique in found:
                yield _Hit(t.brand, frozenset((technique, *extra)))
            return
        if raw.isascii():
            # In plain ASCII a typo of a skeleton (appia ~ appla ~ apple) is two changes, not one.
            return
        found = self._typo_skels.get(skel)
        if found:
            for t, technique in found:
                yield _Hit(t.brand, frozenset((technique, "homoglyph", *disguise, *extra)))

    def _short_keyword_hits(self, k: str, lc: str, disguise: tuple[str, ...]) -> Iterator[_Hit]:
        """A short token in keyword form: its own hyphen part (att-sso), or glued to one long keyword."""
        parts = k.split("-")
        for i, part in enumerate(parts):
            alone = self._short.get(part)
            glued = self._short_glued.get(part)
            if not alone and not glued:
                continue
            others = parts[:i] + parts[i + 1 :]
            if not all(self._seg(o) for o in others):
                continue
            keyword_elsewhere = any(o and not o.isdigit() for o in others)
            for t in (*(alone if alone and keyword_elsewhere else ()), *(glued or ())):
                techs = ["keyword"]
                if t.text not in lc:
                    techs += ("homoglyph", *disguise)
                yield _Hit(t.brand, frozenset(techs))

    def _typo_keyword_hits(
        self, parts: list[str], label: str, disguise: tuple[str, ...], *, in_subdomain: bool
    ) -> Iterator[_Hit]:
        """A typo of a long token as one hyphen part, keywords in the others (twiiio-sso)."""
        if in_subdomain:
            return
        raw_parts = label.split("-")
        for i, part in enumerate(parts):
            if part not in self._typo_skels:
                continue
            others = parts[:i] + parts[i + 1 :]
            if not all(self._seg(o) for o in others) or "".join(others).isdigit():
                continue
            for h in self._typo_hits(raw_parts[i], part, disguise, hyphen=False):
                yield _Hit(h.brand, h.techniques | {"keyword"})

    def _stem_hits(self, stem: str) -> tuple[_Hit, ...]:
        if not stem:
            return ()
        if stem.isascii():
            k = stem.encode("ascii").translate(_FOLD).decode("ascii").replace("rn", "m")
            if "-" not in stem:
                # The common case, rejected with three look-ups: no token, no typo, no token inside.
                if (
                    k not in self._exact
                    and k not in self._short_glued
                    and stem not in self._typos
                    and next(self._ac.iter(k), None) is None
                ):
                    return ()
            else:
                # A hyphenated ASCII stem (one in eleven real names): rejected when no branch of _label_hits
                # can fire - no token or typo of the whole, no long token inside, no part that is a short
                # token (alone or glued to a keyword) or a typo of a long one.
                kc = k.replace("-", "")
                short, glued, typo_parts = self._short, self._short_glued, self._typo_skels
                if (
                    kc not in self._exact
                    and stem.replace("-", "") not in self._typos
                    and next(self._ac.iter(kc), None) is None
                    and not any(p in short or p in glued or p in typo_parts for p in k.split("-"))
                ):
                    return ()
        hits = self._label_hits(stem, in_subdomain=False)
        if stem.isascii():
            for p in self.part_reader.read(stem):
                for n, h in enumerate(hits):
                    if h.brand == p.brand:
                        hits[n] = _Hit(h.brand, h.techniques | p.techniques)
                        break
                else:
                    hits.append(_Hit(p.brand, p.techniques))
        return tuple(hits)

    def _subdomain_hits(self, sub: list[str], stem: str) -> tuple[_Hit, ...]:
        """Brand tokens used as subdomain labels of a foreign registrable domain."""
        joined = ".".join(sub)
        probe = fold(joined)
        if next(self._ac.iter(probe), None) is None and not any(
            p in self._short or p in self._short_glued for p in probe.replace("-", ".").split(".")
        ):
            return ()
        out: list[_Hit] = []
        padded = "." + joined + "."
        for label in sub:
            for h in self._label_hits(label, in_subdomain=True):
                techs = set(h.techniques)
                short = "short" in techs
                techs.discard("short")
                if "keyword" not in techs:
                    if self._keyword_elsewhere(sub, label, stem):
                        techs.add("keyword")
                    elif short and not any("." + d + "." in padded for d in self.brands[h.brand].domains):
                        # a short token alone as a label: only next to its official domain or a keyword
                        continue
                techs.add("subdomain")
                out.append(_Hit(h.brand, frozenset(techs)))
        return tuple(out)

    def _keyword_elsewhere(self, sub: list[str], label: str, stem: str) -> bool:
        """Whether another subdomain label, or the stem, is made of keywords (login.att.evil.net)."""
        return any(self._all_keywords(o) for o in sub if o != label) or self._all_keywords(stem)

    def _all_keywords(self, label: str) -> bool:
        x = self._skel(label).replace("-", "")
        return bool(x) and not x.isdigit() and self._seg(x)
