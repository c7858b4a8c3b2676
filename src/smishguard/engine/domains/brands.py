"""Protected brands, the identity/IT keywords, and the TOML file that configures both."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from smishguard.engine.domains.errors import BrandConfigError, InvalidDomain
from smishguard.engine.domains.hosts import normalise_host

# Words that staff-targeted phishing domains pair with a company's name (Oktapus: twilio-sso.com,
# twilio-okta.com, okta-twilio.net, twilio-vpn.com, twilio-help.com, twiliohr.com). Configured keywords are
# added to these. Keep it to identity / IT / HR words: every word here is a word that, glued to a brand
# name, makes a whole domain name worth an alert.
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "sso", "okta", "login", "logon", "signin", "signon", "vpn", "help", "helpdesk", "servicedesk",
    "hr", "mfa", "2fa", "duo", "citrix", "support", "it", "reset", "secure", "security", "account",
    "accounts", "portal", "corp", "internal", "intranet", "auth", "verify", "verification", "password",
    "passwords", "unlock", "idp", "onelogin", "ping", "adfs", "azuread", "entra", "o365", "webmail",
    "remote", "employee", "employees", "staff", "payroll", "benefits", "schedule", "desk", "servicenow",
    "workday", "access", "admin", "update", "id",
    # Second pass (issue 15): the codes and tools of sign-in that the 2022 wave paired with company names
    # (att-uid, att-rsa, att-ctx, kucoin-pin, att-vmware): user ids, RSA SecurID, Citrix, VMware Horizon, PINs.
    "uid", "rsa", "ctx", "vmware", "pin", "otp", "saml", "oauth",
)  # fmt: skip

_BRAND_KEYS = frozenset({"name", "domains", "tokens", "partners"})


def _clean_word(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower()


def clean_token(token: str) -> str:
    """A token as matched: NFKC, lower case; raises InvalidDomain when it could not be part of a label."""
    t = _clean_word(token)
    if "." in t:
        raise InvalidDomain(token, "a token is part of a label and cannot contain a dot")
    t = normalise_host(t)
    if len(t.replace("-", "")) < 2:
        raise InvalidDomain(token, "a token needs at least 2 letters or digits")
    return t


@dataclass(frozen=True, slots=True)
class Brand:
    """A protected brand: its name, its official domains (never flagged), optional extra tokens, and the domains
    of its partners (a reseller, a franchise, the brand's CDN: names that legitimately carry the brand, never
    flagged either, and reported as "partner" rather than "official").

    The matcher also derives tokens from the name ("T-Mobile" -> "tmobile") and from each official
    domain's own label ("att" from att.com).
    """

    name: str
    domains: tuple[str, ...]
    tokens: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise BrandConfigError("a brand needs a non-empty name")
        for field, value in (("domains", self.domains), ("tokens", self.tokens), ("partners", self.partners)):
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise BrandConfigError(f"brand {self.name!r}: {field} must be a list of strings")
            if not all(isinstance(v, str) for v in value):
                raise BrandConfigError(f"brand {self.name!r}: every entry of {field} must be a string")
        if not self.domains:
            raise BrandConfigError(f"brand {self.name!r}: domains must list at least one official domain")
        domains = self._hosts("domain", self.domains)
        partners = self._hosts("partner", self.partners)
        both = sorted(set(domains) & set(partners))
        if both:
            raise BrandConfigError(f"brand {self.name!r}: {both[0]!r} is listed as official and as a partner")
        tokens = []
        for t in self.tokens:
            try:
                tokens.append(clean_token(t))
            except InvalidDomain as exc:
                raise BrandConfigError(f"brand {self.name!r}: token {t!r} is not valid: {exc.reason}") from None
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "domains", tuple(dict.fromkeys(domains)))
        object.__setattr__(self, "tokens", tuple(dict.fromkeys(tokens)))
        object.__setattr__(self, "partners", tuple(dict.fromkeys(partners)))

    def _hosts(self, what: str, values: tuple[str, ...]) -> list[str]:
        hosts = []
        for d in values:
            try:
                host = normalise_host(d)
            except InvalidDomain as exc:
                raise BrandConfigError(f"brand {self.name!r}: {what} {d!r} is not valid: {exc.reason}") from None
            if "." not in host:
                raise BrandConfigError(f"brand {self.name!r}: {what} {d!r} is not valid: it has no dot")
            hosts.append(host)
        return hosts


def clean_keyword(word: object) -> str:
    """A keyword as matched; raises BrandConfigError when it is not a short run of letters or digits."""
    if not isinstance(word, str):
        raise BrandConfigError(f"keyword {word!r} is not a string")
    w = _clean_word(word).replace("-", "")
    if not w or not all(ch.isalnum() for ch in w):
        raise BrandConfigError(f"keyword {word!r} must be letters or digits (hyphens are ignored)")
    return w


def load_brand_config(path: str | PathLike[str]) -> tuple[list[Brand], list[str]]:
    """Read ``keywords = [...]`` and ``[[brands]]`` tables (name, domains, tokens, partners) from a TOML file.

    Other top-level keys are left alone (the same smishguard.toml holds other settings). Raises
    BrandConfigError with one line saying what is wrong and where.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise BrandConfigError(f"{p}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BrandConfigError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BrandConfigError(f"{p}: not valid TOML: {exc}") from None

    raw_keywords = doc.get("keywords", [])
    if not isinstance(raw_keywords, list):
        raise BrandConfigError(f"{p}: keywords must be a list of strings")
    try:
        keywords = [clean_keyword(w) for w in raw_keywords]
    except BrandConfigError as exc:
        raise BrandConfigError(f"{p}: {exc}") from None

    raw_brands = doc.get("brands", [])
    if not isinstance(raw_brands, list) or not all(isinstance(b, dict) for b in raw_brands):
        raise BrandConfigError(f"{p}: brands must be an array of tables ([[brands]])")
    brands: list[Brand] = []
    seen: set[str] = set()
    for i, table in enumerate(raw_brands, start=1):
        where = f"{p}: brand #{i}"
        unknown = sorted(set(table) - _BRAND_KEYS)
        if unknown:
            raise BrandConfigError(f"{where}: unknown key {unknown[0]!r} (expected name, domains, tokens, partners)")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BrandConfigError(f"{where}: missing name (a non-empty string)")
        where = f"{p}: brand {name!r}"
        if "domains" not in table:
            raise BrandConfigError(f"{where}: missing domains (a list of official domains)")
        domains, tokens, partners = table["domains"], table.get("tokens", []), table.get("partners", [])
        for key, value in (("domains", domains), ("tokens", tokens), ("partners", partners)):
            if not isinstance(value, list):
                raise BrandConfigError(f"{where}: {key} must be a list of strings")
        if name.strip().casefold() in seen:
            raise BrandConfigError(f"{where}: defined twice")
        seen.add(name.strip().casefold())
        try:
            brands.append(Brand(name=name, domains=tuple(domains), tokens=tuple(tokens), partners=tuple(partners)))
        except BrandConfigError as exc:
            raise BrandConfigError(f"{p}: {exc}") from None
    return brands, keywords
