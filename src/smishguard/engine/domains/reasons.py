"""Reasons a person understands, for a name the matcher found imitating a brand.

``explain`` reads the name's own label again, word by word (parts.PartReader), and says what each word is and
what the techniques mean: "'okta' is the protected brand Okta, standing as a whole part"; "'globex' is another
company's name or another word"; "registered under .com, not an official domain of Okta (okta.com)".  It runs
only for names that are flagged (a few in a thousand), so it may take its time.
"""

from __future__ import annotations

from collections.abc import Sequence

from smishguard.engine.domains.brands import Brand
from smishguard.engine.domains.parts import AFFIX, BRAND, DIGITS, IDP, IDP_TOKENS, KEYWORD, REGION, PartReader

# What each technique means, for a person; {brand} is the brand's name, {suffix} the public suffix.
TECHNIQUE_SENTENCES: dict[str, str] = {
    "keyword": "{brand}'s name beside sign-in or IT words, as the 2022 Oktapus texts used",
    "omission": "{brand}'s name with a letter left out",
    "insertion": "{brand}'s name with a letter slipped in",
    "replacement": "{brand}'s name with a letter replaced by its neighbour on the keyboard",
    "transposition": "{brand}'s name with two letters swapped",
    "repetition": "{brand}'s name with a letter doubled",
    "bitsquat": "{brand}'s name with one letter a bit-flip away",
    "vowel-swap": "{brand}'s name with a vowel changed",
    "homoglyph": "letters that look alike stand in for {brand}'s (0 for o, l for i, another script's letters)",
    "idn": "written with letters of another script (an internationalised name)",
    "subdomain": "{brand}'s name as a subdomain of somebody else's domain",
    "hyphenation": "{brand}'s name with hyphens added",
    "tld-swap": "{brand}'s exact name under another suffix (.{suffix})",
    "brand-part": "{brand}'s name stands as a whole part of the name",
    "brand-compound": "{brand}'s name is a whole word of a glued run of words",
    "idp-combo": "an identity provider's name beside another name: a sign-in page for somebody's staff",
    "brand-pair": "two protected brands in one name",
    "addition": "{brand}'s name with one letter added at its end",
}
# Where a name may well be the brand's own (no sign-in word, no identity provider beside it).
MAYBE_OWN = frozenset({"tld-swap", "brand-part", "brand-compound", "addition", "hyphenation", "subdomain"})


def explain(
    brands: Sequence[Brand],
    reader: PartReader,
    *,
    stem: str,
    registrable: str,
    brand: int,
    techniques: tuple[str, ...],
) -> tuple[str, ...]:
    """The reasons for a flagged name: ``brand`` is the index of the brand it imitates in ``brands``."""
    name = brands[brand].name
    suffix = registrable[len(stem) + 1 :] if registrable.startswith(stem + ".") else registrable.partition(".")[2]
    out: list[str] = []
    if stem.isascii():
        out.extend(_words(brands, reader, stem, brand))
    out.extend(TECHNIQUE_SENTENCES[t].format(brand=name, suffix=suffix) for t in techniques)
    official = ", ".join(brands[brand].domains[:3])
    out.append(f"registered under .{suffix}, not an official domain of {name} ({official})")
    if set(techniques) <= MAYBE_OWN:
        out.append(f"if it is {name}'s own, add it to the official domains (or to the partners if a partner's)")
    return tuple(dict.fromkeys(out))


def _words(brands: Sequence[Brand], reader: PartReader, stem: str, brand: int) -> list[str]:
    words, found = reader.words(stem)
    if not found:
        return []
    whole = {(o.brand, o.text): o.whole for o in found}
    out: list[str] = []
    for w in words:
        if len(w.text) == 1 and w.kind != DIGITS:  # the letter an addition adds: the technique says it
            continue
        if w.kind == BRAND:
            b = brands[w.brand].name
            if w.brand == brand:
                where = "standing as a whole part" if whole.get((w.brand, w.text)) else "as a whole word"
                role = "identity provider" if reader.token_class(w.brand, w.text) == IDP else "brand"
                out.append(f"'{w.text}' is the protected {role} {b}, {where}")
            elif reader.token_class(w.brand, w.text) == IDP:
                out.append(f"'{w.text}' is the identity provider {b}")
            else:
                out.append(f"'{w.text}' is another protected brand ({b})")
        elif w.kind == KEYWORD and w.text in IDP_TOKENS:
            out.append(f"'{w.text}' is an identity provider's name")
        elif w.kind == KEYWORD:
            out.append(f"'{w.text}' is a sign-in or IT word")
        elif w.kind == REGION:
            out.append(f"'{w.text}' is a region")
        elif w.kind == AFFIX:
            out.append(f"'{w.text}' is a word companies and squatters glue to a name")
        elif w.kind == DIGITS:
            out.append(f"'{w.text}' is a number")
        else:
            out.append(f"'{w.text}' is another company's name or another word")
    return list(dict.fromkeys(out))
