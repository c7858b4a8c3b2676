"""Evidence weighed per part: how the matcher reads a registrable name that carries a brand beside other words.

The name's own label (``acmeuk-sso`` in ``login.acmeuk-sso.com``) is cut at hyphens into *parts* and each part
into runs of letters and runs of digits; a run of letters that is not itself a brand token is split into its
most probable words (:class:`words.Splitter`).  Each word then has a kind: a brand token (``brand``), an
identity/IT keyword, a region, an affix that companies and squatters glue to names (my, our, one, inc...),
digits, a known word, or unknown.

A brand token that stands as a whole part (``acme-zeta``), or as a whole word of a split (``myacme``), is
evidence; what else the name holds adds to it, and how much is needed depends on the token:

- an **identity provider's** token (a brand whose token is an identity/IT keyword, such as okta or onelogin) as
  a whole part beside any other name: ``idp-combo`` (``globex-okta.com``: a page for somebody's staff);
- a **distinctive** token (not an ordinary word, 4 letters or more) as a whole part beside anything:
  ``brand-part`` (``acme-outage.com``, ``7-acme.com``); as a whole word of a glued run, beside an affix, a
  region, a keyword or another brand (``myacme``, ``acmeuk-sso``), or with a keyword part elsewhere
  (``acmecloud-vpn``): ``brand-compound``;
- an **ordinary-word** token (orange, bell, mercury: among the 10,000 most frequent words of the web and in the
  dictionary) or a **short** one (2-3 letters) only as a whole part, and only beside a part made of keywords, an
  identity provider or another protected brand (``orange-sso.com``, ``box-okta.com``; not ``orange-county.com``);
- two protected brands in one name add ``brand-pair``; an identity provider beside a company's brand adds
  ``idp-combo`` to that brand's hit;
- a distinctive token with one letter or digit added at its end, as a whole part: ``addition`` (``acmes.com``).

Everything here is plain ASCII; names in other scripts are read by the matcher's skeleton rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import ahocorasick

from smishguard.engine.domains.skeleton import fold
from smishguard.engine.domains.words import Splitter, is_known_word, is_ordinary_word

# Identity providers whose names squatters pair with a company's (besides any brand whose token is a keyword).
IDP_TOKENS = frozenset(
    {"okta", "onelogin", "pingidentity", "pingone", "duosecurity", "auth0", "jumpcloud", "azuread", "entra",
     "microsoftonline", "adfs", "forgerock", "cyberark", "keycloak", "centrify", "secureauth"}
)  # fmt: skip
# Regions companies name their sites after, glued or as a part (acmeuk, acme-emea).
REGIONS = frozenset(
    {"us", "usa", "uk", "gb", "eu", "emea", "apac", "latam", "amer", "americas", "na", "ca", "au", "nz", "de",
     "fr", "es", "nl", "ie", "in", "jp", "sg", "hk", "br", "mx", "ph", "global", "intl", "europe", "asia"}
)  # fmt: skip
# Short words glued before or after a company's name, by the company itself and by squatters imitating it.
AFFIXES = frozenset(
    {"my", "our", "the", "go", "get", "e", "i", "one", "inc", "co", "hq", "app", "apps", "team", "group",
     "online", "net", "web", "now", "hub", "llc", "ltd", "plc", "home", "connect"}
)  # fmt: skip

# The kinds of word in a name.
BRAND, KEYWORD, REGION, AFFIX, DIGITS, WORD, UNKNOWN = "brand", "keyword", "region", "affix", "digits", "word", "?"
# The classes of brand token.
IDP, DISTINCT, ORDINARY, SHORT = "idp", "distinct", "ordinary", "short"

_RUN = re.compile(r"[a-z_]+|[0-9]+")


class Occurrence(NamedTuple):
    """A brand token found in a name: as a whole run (``whole``) or as one word of a glued run's split."""

    brand: int
    text: str
    part: int
    run: int
    whole: bool


class Word(NamedTuple):
    text: str
    kind: str
    part: int
    run: int
    brand: int = -1  # for a brand token


class PartHit(NamedTuple):
    brand: int
    techniques: frozenset[str]


class PartReader:
    """Built once per matcher from its tokens: ``read(label)`` gives the part-based hits of one plain label."""

    def __init__(
        self,
        tokens: Iterable[tuple[int, str]],
        keywords: Iterable[str],
        idp_brands: Iterable[int],
        hyphenated: Iterable[str] = (),
        *,
        all_keywords: Callable[[str], bool],
    ):
        """``all_keywords(run)``: whether a run of letters is made of keywords only (the matcher's own test)."""
        self._by_text: dict[str, list[int]] = {}
        self._by_skel: dict[str, list[tuple[int, str]]] = {}
        for brand, text in tokens:
            bucket = self._by_text.setdefault(text, [])
            if brand not in bucket:
                bucket.append(brand)
            self._by_skel.setdefault(fold(text), []).append((brand, text))
        self._keywords = frozenset(keywords)
        self._all_keywords = all_keywords
        self._idp_brands = frozenset(idp_brands)
        # Brand spellings with a hyphen (t-mobile) are read as one run.
        self._hyphenated = tuple(sorted((h for h in hyphenated if "-" in h), key=len, reverse=True))
        self._ac = ahocorasick.Automaton()
        for text in self._by_text:
            if len(text) > 3:
                self._ac.add_word(text, text)
        if len(self._ac) == 0:
            self._ac.add_word("\x00", "\x00")
        self._ac.make_automaton()
        self._splitter = Splitter([*self._by_text, *self._keywords, *REGIONS, *AFFIXES])
        self._class: dict[tuple[int, str], str] = {}
        self._last: tuple[str, tuple[list[Word], list[Occurrence]]] | None = None

    # ------------------------------------------------------------------ classes and kinds

    def token_class(self, brand: int, text: str) -> str:
        found = self._class.get((brand, text))
        if found is None:
            if len(text) <= 3:  # a short token is held to the short rules, an identity provider's too (duo)
                found = SHORT
            elif brand in self._idp_brands:
                found = IDP
            elif is_ordinary_word(text):
                found = ORDINARY
            else:
                found = DISTINCT
            self._class[(brand, text)] = found
        return found

    def _glued_counts(self, brand: int, text: str) -> bool:
        """Whether a token glued inside a run can count (identity providers and distinctive tokens: an ordinary
        word or a short token glued to others never does, so such a run is not split)."""
        return self.token_class(brand, text) in (IDP, DISTINCT)

    def _kind(self, word: str) -> str:
        if word in self._keywords:
            return KEYWORD
        if word in REGIONS:
            return REGION
        if word in AFFIXES:
            return AFFIX
        if is_known_word(word):
            return WORD
        return UNKNOWN

    # ------------------------------------------------------------------ reading

    def words(self, label: str) -> tuple[list[Word], list[Occurrence]]:
        """The words of a label and the brand tokens among them; ([], []) when no token stands in it (most labels
        that get here: an ordinary-word token glued inside a word), without classifying a word.  The last label's
        answer is kept: the matcher reads a flagged label twice (its hits, then its reasons)."""
        last = self._last
        if last is not None and last[0] == label:
            return last[1]
        found = self._words(label)
        self._last = (label, found)
        return found

    def _words(self, label: str) -> tuple[list[Word], list[Occurrence]]:
        for h in self._hyphenated:
            if h in label:
                label = label.replace(h, h.replace("-", ""))
        runs: list[tuple[int, str, str]] = []  # (part, run, how: digits / token / glued / plain)
        any_token = False
        for part_no, part in enumerate(p for p in label.split("-") if p):
            for m in _RUN.finditer(part):
                run = m.group()
                if run.isdigit():
                    how = DIGITS
                elif run in self._by_text:
                    how, any_token = BRAND, True
                elif any(self._glued_counts(b, t) for _, t in self._ac.iter(run) for b in self._by_text[t]):
                    how, any_token = "glued", True
                else:
                    how = "plain"
                runs.append((part_no, run, how))
        if not any_token:
            return [], []
        words: list[Word] = []
        found: list[Occurrence] = []
        for run_no, (part_no, run, how) in enumerate(runs):
            if how == DIGITS:
                words.append(Word(run, DIGITS, part_no, run_no))
            elif how == BRAND:
                for brand in self._by_text[run]:
                    words.append(Word(run, BRAND, part_no, run_no, brand))
                    found.append(Occurrence(brand, run, part_no, run_no, True))
            elif how == "glued":
                for w in self._splitter.split(run):
                    brands = self._by_text.get(w) if len(w) > 3 else None
                    if brands:
                        for brand in brands:
                            words.append(Word(w, BRAND, part_no, run_no, brand))
                            found.append(Occurrence(brand, w, part_no, run_no, False))
                    else:
                        words.append(Word(w, self._kind(w), part_no, run_no))
            elif self._all_keywords(run):
                words.append(Word(run, KEYWORD, part_no, run_no))
            else:
                words.append(Word(run, self._kind(run), part_no, run_no))
        return words, found

    def read(self, label: str) -> list[PartHit]:
        """The part-based hits of one plain lower-case ASCII label (a registrable name's own label)."""
        # One run of letters: only a token glued to other words (a compound) or an added letter can count.
        if (
            "-" not in label
            and not any(ch.isdigit() for ch in label)
            and not any(self._glued_counts(b, t) for _, t in self._ac.iter(label) for b in self._by_text[t])
        ):
            return self._additions(label)
        words, found = self.words(label)
        hits: list[PartHit] = []
        if found and len(words) > 1:
            parts_kinds: dict[int, list[str]] = {}
            for w in words:
                parts_kinds.setdefault(w.part, []).append(w.kind)
            for occ in found:
                techs = self._judge(occ, words, parts_kinds)
                if techs:
                    hits.append(PartHit(occ.brand, frozenset(techs)))
        if any(h.brand not in self._idp_brands for h in hits):
            # the company beside its identity provider: the company's hit names the pair (idp-combo)
            hits = [h for h in hits if h.brand not in self._idp_brands or "brand-pair" not in h.techniques]
        hits.extend(self._additions(label))
        return hits

    def _judge(self, occ: Occurrence, words: Sequence[Word], parts_kinds: dict[int, list[str]]) -> list[str]:
        cls = self.token_class(occ.brand, occ.text)
        ctx = [w for w in words if not (w.run == occ.run and w.text == occ.text and w.brand == occ.brand)]
        if not ctx:
            return []
        keyword_part = any(
            KEYWORD in kinds and all(k in (KEYWORD, DIGITS) for k in kinds)
            for part, kinds in parts_kinds.items()
            if part != occ.part
        )
        others = {w.brand for w in ctx if w.kind == BRAND and w.brand != occ.brand}
        idp_beside = any(b in self._idp_brands for b in others) or any(
            w.kind == KEYWORD and w.text in IDP_TOKENS for w in ctx
        )
        pair = any(b not in self._idp_brands for b in others)
        # The occurrence's run: the token alone, or with digit runs only, makes it a whole part.
        same_part = [w for w in ctx if w.part == occ.part]
        whole_part = occ.whole and all(w.kind == DIGITS for w in same_part)
        glued = [w for w in ctx if w.run == occ.run]

        if all(w.kind == KEYWORD or w.text in self._keywords for w in ctx):
            # brand + keywords only (okta is a keyword even where it is a brand): the keyword rule says it all
            return ["idp-combo"] if idp_beside and cls != IDP else []
        techs: list[str] = []
        if cls == IDP:
            if whole_part or any(w.kind in (AFFIX, REGION, KEYWORD, BRAND) for w in glued):
                techs.append("idp-combo")
        elif cls == DISTINCT:
            if whole_part:
                techs.append("brand-part")
            elif not occ.whole and (
                any(w.kind in (AFFIX, REGION, KEYWORD, BRAND) for w in glued) or keyword_part or pair or idp_beside
            ):
                techs.append("brand-compound")
        elif whole_part and (keyword_part or pair or idp_beside):  # ordinary-word and short tokens
            techs.append("brand-part")
        if not techs:
            return []
        if pair:
            techs.append("brand-pair")
        if idp_beside and cls != IDP:
            techs.append("idp-combo")
        return techs

    def _additions(self, label: str) -> list[PartHit]:
        """A distinctive token with one letter or digit added at its end, as a whole part (acmes, quaifone for
        qualfon: compared as skeletons, so a disguised letter counts too)."""
        out: list[PartHit] = []
        for part in label.split("-"):
            if len(part) < 5 or part in self._by_text:
                continue
            base = part[:-1]
            for brand, text in self._by_skel.get(fold(base), ()):
                if self.token_class(brand, text) == DISTINCT:
                    out.append(PartHit(brand, frozenset(("addition",) if base == text else ("addition", "homoglyph"))))
        return out
