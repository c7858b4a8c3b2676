"""The verdict on a text: smishing, spam or benign, a score, and reasons an employee can read.

    text -> links (extract_links) -> each host checked against the protected brands (LookalikeMatcher)
         -> text model (words + brand-independent link signals) -> the lookalike rule -> TextVerdict

The rule: a text that links to a lookalike of a protected brand is "smishing" whatever the text model says.
A second rule keeps prize spam apart from smishing: a text the model finds unwanted that has no link and asks
you to call or text a premium-rate number (UK 09…/0871-3, North American 1-900, Australian 190…) is "spam" — it
wants money for the call — unless it also asks for a credential (a password, a PIN, card details) or names a
protected brand with IT/identity wording ("Acme IT helpdesk"), which make it "smishing"; a reason says which.
A third rule keeps the model from calling a company's own texts smishing on wording alone: when every link of a
text goes to an official domain of a protected brand and nothing else in it is a smishing sign (see
`_other_smishing_signal`), a "smishing" from the model becomes the model's next label (spam or benign) and a
reason (`official-links-only`) says why.
`score` is how likely the text is unwanted: 1 - P(ham) from the model, raised to the lookalike's own score
when the rule fires (the third rule changes the verdict, not the model's score). Nothing here raises on bad
input: an empty text, a 1 MB text (bounded work, said so in the reasons), control characters, malformed
links, an IDN that will not decode all give a verdict.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from .features import HostSignals, LinkFeatures, link_features, signals_of
from .links import MAX_SCAN_CHARS, Link, carried_hosts, extract_links, read_bundled_list
from .model import MAX_MODEL_CHARS, TextModel, load_default_model

if TYPE_CHECKING:
    from smishguard.engine.domains import DomainResult, LookalikeMatcher

# The JSON of a string as json.dumps(..., ensure_ascii=False) writes it (the C encoder json itself uses).
_q = json.encoder.encode_basestring
_float_repr = float.__repr__  # how json writes a finite float
_INF = float("inf")

BATCH_SIZE = 1024
_HOST_CACHE_LIMIT = 100_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # become spaces
# invisible format characters (zero-width, bidi controls, BOM) are deleted: they hide inside link names
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_VERDICT_OF_LABEL = {"ham": "benign", "spam": "spam", "smishing": "smishing"}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, written out."""
        return '{"code": ' + _q(self.code) + ', "detail": ' + _q(self.detail) + "}"


@dataclass(frozen=True, slots=True)
class TextVerdict:
    verdict: str  # "smishing" | "spam" | "benign"
    score: float  # 0..1: how likely the text is unwanted
    reasons: tuple[Reason, ...]
    urls: tuple[str, ...]
    domains: tuple[DomainResult, ...]
    links: tuple[Link, ...] = ()
    model_label: str | None = None  # what the text model alone said ("ham" | "spam" | "smishing")
    probabilities: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "reasons": [r.to_dict() for r in self.reasons],
            "urls": list(self.urls),
            "domains": [d.to_dict() for d in self.domains],
        }

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, written out (``scan --file`` prints one a line)."""
        score = round(self.score, 4)
        return _VERDICT_JSON % (
            _q(self.verdict),
            _float_repr(score) if type(score) is float and -_INF < score < _INF else json.dumps(score),
            ", ".join([_REASON_JSON % (_q(r.code), _q(r.detail)) for r in self.reasons]),
            ", ".join(map(_q, self.urls)),
            ", ".join([d.to_json() for d in self.domains]),
        )


_VERDICT_JSON = '{"verdict": %s, "score": %s, "reasons": [%s], "urls": [%s], "domains": [%s]}'
_REASON_JSON = '{"code": %s, "detail": %s}'


# --- wording ------------------------------------------------------------------------------------------------

_TYPO = {"omission", "insertion", "replacement", "transposition", "repetition", "bitsquat", "vowel-swap"}
_IT_HELP = {"help", "helpdesk", "servicedesk", "support", "it"}


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _imitation(result: DomainResult, signals: HostSignals | None) -> str:
    brand = result.brand or "a protected brand"
    techniques = set(result.techniques)
    if "idp-combo" in techniques and "keyword" not in techniques:
        return f"imitates a {brand} sign-in page"
    if "keyword" in techniques:
        keyword = signals.identity_keyword if signals else None
        if keyword in _IT_HELP:
            return f"imitates {_possessive(brand)} IT help desk"
        if keyword == "hr":
            return f"imitates {_possessive(brand)} HR pages"
        if keyword in {"vpn", "citrix"}:
            return f"imitates {_possessive(brand)} remote access (VPN)"
        return f"imitates {_possessive(brand)} sign-in"
    if techniques & {"homoglyph", "idn"}:
        return f"uses look-alike characters to pass for {brand}"
    if "subdomain" in techniques:
        return f"puts {brand} in front of someone else's domain ({result.registrable})"
    if techniques & _TYPO:
        return f"is a misspelling of {_possessive(brand)} name"
    if "hyphenation" in techniques:
        return f"splits {_possessive(brand)} name with hyphens to pass for it"
    if "tld-swap" in techniques:
        return f"is {_possessive(brand)} name with a different ending"
    return f"imitates {brand}"


def _own_domains(matcher: LookalikeMatcher | None, brand: str | None) -> str:
    for b in getattr(matcher, "brands", ()) or ():
        if b.name == brand and b.domains:
            domains = list(b.domains[:3])
            if len(domains) == 1:
                return f"; {_possessive(brand)} own domain is {domains[0]}"
            return f"; {_possessive(brand)} own domains are {_join(domains)}"
    return ""


def _model_reason(label: str, probs: dict[str, float]) -> Reason:
    try:
        # f"{p:.0%}" is f"{round(p * 100)}%" for a finite p (the same product, rounded half to even), so
        # the reason depends only on these whole percentages: made once per combination, then shared.
        return _model_reason_for(
            label, round(probs["smishing"] * 100), round(probs["spam"] * 100), round(probs["ham"] * 100)
        )
    except (ValueError, OverflowError):  # not finite: cannot happen with a softmax, worded as before anyway
        return _model_reason_text(label, *(f"{probs[c]:.0%}" for c in ("smishing", "spam", "ham")))


@functools.lru_cache(maxsize=16_384)
def _model_reason_for(label: str, smishing: int, spam: int, ham: int) -> Reason:
    return _model_reason_text(label, f"{smishing}%", f"{spam}%", f"{ham}%")


def _model_reason_text(label: str, smishing: str, spam: str, ham: str) -> Reason:
    if label == "smishing":
        detail = (
            f"the wording reads like smishing (a text that tries to get you to a fake site or to hand over "
            f"details): {smishing} by the text model"
        )
    elif label == "spam":
        detail = (
            f"the wording reads like spam (unsolicited offers, prizes, premium-rate numbers): {spam} by the text model"
        )
    else:
        detail = (
            f"the wording reads like an ordinary message: {ham} by the text model (smishing {smishing}, spam {spam})"
        )
    return Reason("text-model", detail)


def _link_reasons(links: Sequence[Link], signals: Sequence[HostSignals], flagged: set[str]) -> list[Reason]:
    reasons: list[Reason] = []
    for link, sig in zip(links, signals, strict=True):
        name = link.host_unicode
        if link.obfuscated:
            reasons.append(
                Reason(
                    "obfuscated-link",
                    f"the link to {name} is written in a disguised form ({link.raw.strip()!r}) to slip past filters",
                )
            )
        if sig.shortener:
            reasons.append(
                Reason("shortener", f"links through a URL shortener ({name}), which hides where it really goes")
            )
        if sig.raw_ip:
            reasons.append(Reason("raw-ip", f"links to a bare IP address ({name}) instead of a named site"))
        if link.host in flagged:
            continue  # a lookalike or official domain: the domain reason says it better
        if sig.identity_keyword:
            reasons.append(
                Reason(
                    "identity-keyword",
                    f"links to {name}, whose name contains {sig.identity_keyword!r}, a word phishing sites use "
                    "to pass for a company's sign-in or IT pages",
                )
            )
        if sig.abused_tld:
            reasons.append(
                Reason(
                    "abused-tld",
                    f"links to {name}, under .{sig.suffix.rsplit('.', 1)[-1]}, an ending often used by "
                    "throwaway phishing sites",
                )
            )
        if sig.punycode:
            reasons.append(
                Reason(
                    "punycode",
                    f"links to {name} (written {link.host}), an international name that can imitate a familiar one",
                )
            )
        if sig.many_hyphens or sig.long_subdomain_chain:
            reasons.append(
                Reason("odd-domain", f"links to {name}, a long or many-hyphened name typical of phishing sites")
            )
    return reasons


# --- spam or smishing: a text with no link and a premium-rate number ------------------------------------------

# A run of 10 to 14 digits, single separators allowed between them, with an optional + in front.
_NUMBER = re.compile(r"(?<![\d+])\+?\d(?:[ \-.()]{0,2}\d){9,13}(?!\d)")
_NUMBER_HINT = re.compile(r"\d{3}")  # no three digits in a row, no phone number: the cheap test first
# (national form after dropping the country code, what it is)
_PREMIUM_RATES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"09\d{9}"), "a UK premium-rate 09 number"),
    (re.compile(r"087[123]\d{7}"), "a UK premium-rate 0871/0872/0873 number"),
    (re.compile(r"1?900\d{7}"), "a North American premium-rate 1-900 number"),
    (re.compile(r"190\d{7}"), "an Australian premium-rate 190 number"),
)
_CREDENTIAL_ASK = re.compile(
    r"\b(?:pass ?words?|pass ?codes?|pins?|pin (?:number|code)s?|log ?-?in details|sign ?-?in details|"
    r"user ?names?|security (?:code|number|question)s?|verification codes?|one[- ]time (?:pass ?)?codes?|otp|cvv|"
    r"card (?:details|number)|bank (?:details|account number)|account (?:details|number)|sort code|"
    r"memorable (?:word|information)|(?:verify|confirm) your (?:account|identity))\b",
    re.IGNORECASE,
)
_IT_WORDING = re.compile(
    r"\b(?:IT|HR)\b|\b(?i:help ?desk|service ?desk|it support|vpn|sso|single sign-?on|okta|mfa|2fa|payroll|"
    r"intranet)\b"
)


def _premium_number(text: str) -> tuple[str, str] | None:
    """The first premium-rate number in ``text`` as written, and what kind it is."""
    if _NUMBER_HINT.search(text) is None:
        return None
    for match in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if match.group().startswith("+") or digits.startswith("00"):
            digits = digits.lstrip("0")
            if digits.startswith("44"):
                national = "0" + digits[2:]
            elif digits.startswith("1"):
                national = digits
            elif digits.startswith("61"):
                national = digits[2:]
            else:
                continue
        else:
            national = digits
        for pattern, kind in _PREMIUM_RATES:
            if pattern.fullmatch(national):
                return match.group().strip(), kind
    return None


def _brands_named(text: str, matcher: LookalikeMatcher | None) -> Iterator[str]:
    """The protected brands a text names (its name or a token of 3 letters or more, as a whole word), in order."""
    lowered = text.lower()
    for brand in getattr(matcher, "brands", ()) or ():
        for word in (brand.name.lower(), *(t.lower() for t in brand.tokens)):
            if len(word) >= 3 and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered):
                yield brand.name
                break


def _brand_named(text: str, matcher: LookalikeMatcher | None) -> str | None:
    return next(_brands_named(text, matcher), None)


def _premium_rule(text: str, matcher: LookalikeMatcher | None) -> tuple[str, Reason] | None:
    """For a text with no link the model finds unwanted: "spam" or "smishing" and why, when it names a
    premium-rate number; None otherwise (the model's label stands)."""
    found = _premium_number(text)
    if found is None:
        return None
    number, kind = found
    ask = _CREDENTIAL_ASK.search(text)
    if ask is not None:
        return "smishing", Reason(
            "credential-ask",
            f"asks for sign-in, card or account details ({ask.group()!r}) and gives a number to call, {number} "
            f"({kind}): a request for credentials makes it smishing even without a link",
        )
    brand = _brand_named(text, matcher)
    wording = _IT_WORDING.search(text) if brand else None
    if brand and wording is not None:
        return "smishing", Reason(
            "brand-it-wording",
            f"names {brand} with IT or identity wording ({wording.group()!r}) and asks you to call {number} "
            f"({kind}): passing for the company's own IT makes it smishing even without a link",
        )
    return "spam", Reason(
        "premium-rate-number",
        f"no link, and the number it asks you to call or text, {number}, is {kind}: a text like this makes "
        "money from the call rather than taking your sign-in or details, so it is spam, not smishing "
        "(no request for a password, PIN or card details, no company IT wording)",
    )


# --- a text whose links all go to official domains ----------------------------------------------------------

# Hosts and host/path prefixes where anyone can publish under a big company's domain (forms, files, invites).
_USER_CONTENT = read_bundled_list("user_content_hosts.txt")
_USER_CONTENT_HOSTS = frozenset(e for e in _USER_CONTENT if "/" not in e)
_USER_CONTENT_PATHS = tuple((h, "/" + p) for h, _, p in (e.partition("/") for e in _USER_CONTENT if "/" in e))
_EMAIL = re.compile(r"[\w.+\-]+ ?@ ?[^\W_](?:[\w\-]*[^\W_])?(?: ?\. ?[^\W\d_]{2,63})+")
# A link whose query or path carries another address: an open redirect borrows the official name.
_EMBEDDED_URL = re.compile(r"(?:https?|ftp)(?::|%3a)(?://|%2f%2f)|(?:^|[?&=/])(?:www\.|www%2e)", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"(?<![\d+])\+?\d(?:[ \-.()]{0,2}\d){7,13}(?!\d)")  # 8 to 14 digits: a number to call


def _user_content(link: Link) -> bool:
    """Whether the link goes to a page anyone can publish (a shared form or file, a group invite)."""
    labels = link.host.split(".")
    if any(".".join(labels[i:]) in _USER_CONTENT_HOSTS for i in range(len(labels) - 1)):
        return True
    path = "/" + link.url.split("://", 1)[-1].partition("/")[2].lower()
    return any(
        (link.host == host or link.host.endswith("." + host)) and path.startswith(prefix)
        for host, prefix in _USER_CONTENT_PATHS
    )


def _other_smishing_signal(
    text: str, links: Sequence[Link], official: Sequence[DomainResult], matcher: LookalikeMatcher | None
) -> str | None:
    """What, besides the wording, makes a text with only official links smishing; None when nothing does.

    The signals (each is something a company's own text does not need, and an attacker who borrows the
    company's name and a real link does):
      - a link written in a disguised form (hxxp, [.]): a genuine sender has no filter to slip past;
      - a link whose path or query carries another address: an open redirect on the official domain;
      - a link to a page anyone can publish on the official domain (a shared form or file, a group invite:
        data/user_content_hosts.txt): the brand's name on it says nothing about who wrote the page;
      - a request for a password, PIN, code or card or account details: the credential ask is the attack,
        wherever the link goes;
      - a phone number or an email address: a second channel the official link does not vouch for;
      - another protected brand named in the text than the ones whose domains it links to ("your Amazon
        account" with a link to linkedin.com): the link does not belong to the company that speaks.
    Links that are not official (a shortener, a bare IP address, any other domain, a lookalike) are checked
    before this: the rule needs every link to be official.
    """
    for link in links:
        if link.obfuscated:
            return f"the link to {link.host_unicode} is written in a disguised form"
        rest = link.url.split("://", 1)[-1].partition("/")[2]
        if _EMBEDDED_URL.search(rest):
            return f"the link to {link.host_unicode} carries another address"
        if _user_content(link):
            return f"the link goes to {link.host_unicode}, where anyone can publish a page, a form or a file"
    ask = _CREDENTIAL_ASK.search(text)
    if ask is not None:
        return f"it asks for sign-in, card or account details ({ask.group()!r})"
    number = _ANY_NUMBER.search(text)
    if number is not None:
        return f"it gives a number to call or text ({number.group().strip()})"
    email = _EMAIL.search(text)
    if email is not None:
        return f"it gives an email address to write to ({email.group()})"
    owners = {r.brand for r in official}
    for brand in _brands_named(text, matcher):
        if brand not in owners:
            return f"it speaks for {brand}, whose domain none of its links goes to"
    return None


def _official_only(links: Sequence[Link], by_host: dict[str, DomainResult]) -> list[DomainResult] | None:
    """The official results, one per registrable domain, when every link went to an official domain."""
    official: dict[str, DomainResult] = {}
    for link in links:
        result = by_host.get(link.host)
        if result is None or result.verdict != "official":
            return None  # an IP address, an unreadable name, any domain that is not official
        official.setdefault(result.registrable, result)
    return list(official.values()) or None


def _official_places(official: Sequence[DomainResult]) -> str:
    owned = [f"{r.registrable}, {_possessive(r.brand or 'a protected brand')} own domain" for r in official]
    return owned[0] if len(owned) == 1 else _join(owned)


def _official_reason(official: Sequence[DomainResult], label: str) -> Reason:
    where = _official_places(official)
    taken = "spam" if label == "spam" else "an ordinary message"
    return Reason(
        "official-links-only",
        f"every link goes to {where}, and nothing else in it is a smishing sign (no disguised or redirecting "
        f"link, no page anyone can publish, no request for a password, PIN or card details, no number or "
        f"address to contact, no other company named): the wording alone does not make it smishing, so it is "
        f"taken as {taken}",
    )


# --- the verdict --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Prepared:
    text: str  # cleaned text given to the model
    links: tuple[Link, ...]
    features: LinkFeatures
    notes: list[Reason]


def _prepare(raw: object) -> _Prepared:
    notes: list[Reason] = []
    if isinstance(raw, bytes | bytearray):
        raw = bytes(raw).decode("utf-8", errors="replace")
        if "\ufffd" in raw:
            notes.append(Reason("invalid-utf8", "parts of the message were not valid UTF-8 and were ignored"))
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        notes.append(Reason("not-text", f"the message was not text ({type(raw).__name__}); nothing was read"))
        raw = ""
    text = raw
    if _CONTROL.search(text) or (not text.isascii() and _INVISIBLE.search(text)):
        text = _INVISIBLE.sub("", _CONTROL.sub(" ", text))
        notes.append(Reason("control-characters", "the message holds control or invisible characters, ignored"))
    if not text.strip():
        notes.append(Reason("empty", "the message is empty"))
        return _Prepared("", (), link_features(()), notes)
    if len(text) > MAX_MODEL_CHARS:
        notes.append(
            Reason(
                "truncated",
                f"the message is long ({len(text):,} characters): the text model read the first "
                f"{MAX_MODEL_CHARS:,} and links were looked for in the first {min(len(text), MAX_SCAN_CHARS):,}",
            )
        )
        text = text[:MAX_SCAN_CHARS]
    links = extract_links(text)
    return _Prepared(text, links, link_features(links), notes)


def verdict(text: str, matcher: LookalikeMatcher | None = None, model: TextModel | None = None) -> TextVerdict:
    """The verdict on one text. `model` defaults to the shipped model; without a matcher no brand is checked."""
    return next(verdict_many([text], matcher=matcher, model=model))


def verdict_many(
    texts: Iterable[str],
    matcher: LookalikeMatcher | None = None,
    model: TextModel | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> Iterator[TextVerdict]:
    """Verdicts in input order, the model run on batches; host checks are cached for the whole run."""
    model = model or load_default_model()
    host_cache: dict[str, DomainResult | Exception] = {}
    iterator = iter(texts)
    while True:
        chunk = list(islice(iterator, batch_size))
        if not chunk:
            return
        prepared = [_prepare(t) for t in chunk]
        probabilities = model.probabilities([p.text for p in prepared], [p.features for p in prepared])
        classes = model.classes
        for prep, row in zip(prepared, probabilities.tolist(), strict=True):
            probs = dict(zip(classes, row, strict=True))
            if len(host_cache) > _HOST_CACHE_LIMIT:
                host_cache.clear()
            yield _decide(prep, probs, matcher, host_cache)


def _check(matcher: LookalikeMatcher, host: str, cache: dict[str, DomainResult | Exception]):
    hit = cache.get(host)
    if hit is None:
        try:
            hit = matcher.check(host)
        except ValueError as exc:  # InvalidDomain: a name the matcher cannot read
            hit = exc
        cache[host] = hit
    return hit


def _decide(
    prep: _Prepared,
    probs: dict[str, float],
    matcher: LookalikeMatcher | None,
    cache: dict[str, DomainResult | Exception],
) -> TextVerdict:
    if not prep.text:
        return TextVerdict("benign", 0.0, tuple(prep.notes), (), (), (), None, probs)
    label = max(probs, key=probs.__getitem__)
    score = 1.0 - probs["ham"]
    verdict_label = _VERDICT_OF_LABEL[label]
    links = prep.links
    if not links:  # most texts: no domains, no link reasons
        rule = _premium_rule(prep.text, matcher) if label != "ham" else None
        if rule is not None:
            verdict_label = rule[0]
        return TextVerdict(
            verdict_label,
            min(1.0, max(0.0, score)),
            (*((rule[1],) if rule else ()), _model_reason(label, probs), *prep.notes),
            (),
            (),
            (),
            label,
            probs,
        )
    signals = [signals_of(link) for link in links]
    domains: list[DomainResult] = []
    lookalike_reasons: list[Reason] = []
    other_reasons: list[Reason] = []
    flagged: set[str] = set()
    by_host: dict[str, DomainResult] = {}
    if matcher is not None:
        seen: set[str] = set()
        for link, sig in zip(links, signals, strict=True):
            if link.is_ip or link.host in seen:
                continue
            seen.add(link.host)
            result = _check(matcher, link.host, cache)
            if isinstance(result, Exception):
                other_reasons.append(
                    Reason("unreadable-domain", f"the link to {link.host_unicode} has a malformed name: {result}")
                )
                continue
            domains.append(result)
            by_host[link.host] = result
            if result.verdict == "lookalike":
                flagged.add(link.host)
                lookalike_reasons.append(
                    Reason(
                        "lookalike-domain",
                        f"links to {result.domain}, which {_imitation(result, sig)}"
                        f"{_own_domains(matcher, result.brand)}",
                    )
                )
                score = max(score, float(result.score))
            elif result.verdict == "official":
                flagged.add(link.host)  # its own domain: no "suspicious name" reasons for it
                other_reasons.append(
                    Reason("official-domain", f"links to {result.domain}, {_possessive(result.brand)} own domain")
                )
            elif result.verdict == "partner":
                flagged.add(link.host)
                other_reasons.append(
                    Reason("partner-domain", f"links to {result.domain}, a partner domain of {result.brand}")
                )
            if result.verdict in ("official", "partner"):
                # An open redirect on a trusted domain: the address it carries is judged too.
                for carried in carried_hosts(link.url):
                    found = _check(matcher, carried, cache)
                    if isinstance(found, Exception) or carried == link.host:
                        continue
                    if all(d.domain != found.domain for d in domains):
                        domains.append(found)
                    if found.verdict == "lookalike":
                        lookalike_reasons.append(
                            Reason(
                                "lookalike-domain",
                                f"links to {link.host_unicode}, whose address carries {found.domain} (a redirect "
                                f"through {_possessive(result.brand)} own domain): {found.domain} "
                                f"{_imitation(found, None)}{_own_domains(matcher, found.brand)}",
                            )
                        )
                        score = max(score, float(found.score))
                    elif found.verdict == "clear":
                        other_reasons.append(
                            Reason(
                                "redirect",
                                f"the link to {link.host_unicode} carries another address, {found.domain}: a "
                                f"redirect through {_possessive(result.brand)} own domain does not vouch for where "
                                "it leads",
                            )
                        )
    decided: list[Reason] = []
    if lookalike_reasons:
        verdict_label = "smishing"
    elif label == "smishing" and domains:
        official = _official_only(links, by_host)
        if official is not None:
            signal = _other_smishing_signal(prep.text, links, official, matcher)
            if signal is None:
                runner_up = max((c for c in probs if c != "smishing"), key=probs.__getitem__)
                verdict_label = _VERDICT_OF_LABEL[runner_up]
                decided.append(_official_reason(official, runner_up))
            else:
                decided.append(
                    Reason(
                        "official-links-and-signal",
                        f"every link goes to {_official_places(official)}, but {signal}: a company's own link does "
                        "not vouch for that, so the wording's smishing verdict stands",
                    )
                )
    reasons = [
        *lookalike_reasons,
        *decided,
        _model_reason(label, probs),
        *_link_reasons(links, signals, flagged),
        *other_reasons,
        *prep.notes,
    ]
    return TextVerdict(
        verdict=verdict_label,
        score=min(1.0, max(0.0, score)),
        reasons=tuple(reasons),
        urls=tuple(link.url for link in links),
        domains=tuple(domains),
        links=links,
        model_label=label,
        probabilities=probs,
    )
