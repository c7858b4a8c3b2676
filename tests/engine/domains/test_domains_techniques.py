"""Each technique, table-driven, with real-world-shaped positives and negatives, on the 50-brand set."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from smishguard.engine.domains import TECHNIQUES, Brand, DomainResult, LookalikeMatcher, load_brand_config

BRANDS_50 = Path(__file__).parent / "brands_50.toml"


@cache
def matcher() -> LookalikeMatcher:
    brands, keywords = load_brand_config(BRANDS_50)
    return LookalikeMatcher(brands, keywords)


def assert_lookalike(domain: str, brand: str, *techniques: str) -> DomainResult:
    result = matcher().check(domain)
    assert (result.verdict, result.brand) == ("lookalike", brand), result
    for t in techniques:
        assert t in result.techniques, (t, result)
    assert 0.0 < result.score <= 1.0
    assert set(result.techniques) <= set(TECHNIQUES)
    return result


# The Oktapus shapes from the incident reports, and their relatives.
@pytest.mark.parametrize(
    ("domain", "brand"),
    [
        ("twilio-sso.com", "Twilio"),
        ("twilio-okta.com", "Twilio"),
        ("okta-twilio.net", "Twilio"),
        ("twilio-vpn.com", "Twilio"),
        ("twilio-help.com", "Twilio"),
        ("twiliohr.com", "Twilio"),
        ("twiliosso.com", "Twilio"),
        ("sso-twilio.com", "Twilio"),
        ("twilio-login-help.com", "Twilio"),
        ("twilio-sso2.com", "Twilio"),
        # digits that fold to letters in the skeleton (1 -> l, 0 -> o) must not hide brand + keyword
        ("twilio-sso1.com", "Twilio"),
        ("twilio-sso-1.com", "Twilio"),
        ("twilio1-sso.com", "Twilio"),
        ("twiliosso10.com", "Twilio"),
        ("cloudflare-okta.com", "Cloudflare"),
        ("cloudflare-sso.com", "Cloudflare"),
        ("www.twilio-okta.com", "Twilio"),
        ("twilio-servicedesk.co.uk", "Twilio"),
        ("mailchimp-sso.com", "Mailchimp"),
        ("okta-sso.com", "Okta"),
        ("att-sso.com", "AT&T"),
        ("sso-att.com", "AT&T"),
        ("att-help-desk.com", "AT&T"),
        ("attlogin.com", "AT&T"),
        ("tmo-okta.com", "T-Mobile"),
        ("tmohelp.com", "T-Mobile"),
        ("t-mobile-okta.com", "T-Mobile"),
        ("tmobile-hr.com", "T-Mobile"),
        ("cb-support.com", "Coinbase"),
        ("coinbase-mfa.com", "Coinbase"),
        ("wf-login.com", "Wells Fargo"),
        ("twilio-sso.herokuapp.com", "Twilio"),
    ],
)
def test_keyword(domain: str, brand: str) -> None:
    assert_lookalike(domain, brand, "keyword")


@pytest.mark.parametrize(
    ("domain", "brand", "technique"),
    [
        ("twlio.com", "Twilio", "omission"),
        ("twiio.com", "Twilio", "omission"),
        ("cloudfare.com", "Cloudflare", "omission"),
        ("twiliio.com", "Twilio", "repetition"),
        ("paypall.com", "PayPal", "repetition"),
        ("twilko.com", "Twilio", "replacement"),
        ("twiljo.com", "Twilio", "replacement"),
        ("twiklio.com", "Twilio", "insertion"),
        ("twiloi.com", "Twilio", "transposition"),
        ("cloduflare.com", "Cloudflare", "transposition"),
        ("twilia.com", "Twilio", "vowel-swap"),
        ("coinbese.com", "Coinbase", "vowel-swap"),
        ("twilmo.com", "Twilio", "bitsquat"),  # i (0x69) -> m (0x6d)
        ("dropbgx.com", "Dropbox", "bitsquat"),  # o (0x6f) -> g (0x67)
        ("twiloi-sso.com", "Twilio", "transposition"),  # a typo and a keyword together
    ],
)
def test_typosquat(domain: str, brand: str, technique: str) -> None:
    assert_lookalike(domain, brand, technique)


@pytest.mark.parametrize(
    ("domain", "brand", "techniques"),
    [
        ("xn--80ak6aa92e.com", "Apple", ("homoglyph", "idn")),  # Cyrillic 'apple', the classic demo
        ("\u0430\u0440\u0440\u04cf\u0435.com", "Apple", ("homoglyph", "idn")),  # the same, written in unicode
        ("tw\u0456lio.com", "Twilio", ("homoglyph", "idn")),  # Cyrillic i
        ("twil\u00edo.com", "Twilio", ("homoglyph", "idn")),  # an accent
        ("\u03bfkta.com", "Okta", ("homoglyph", "idn")),  # Greek omicron
        ("twi1io.com", "Twilio", ("homoglyph",)),  # digit one for l, plain ASCII
        ("g00gle.com", "Google", ("homoglyph",)),
        ("rnicrosoft.com", "Microsoft", ("homoglyph",)),  # rn for m
        ("paypai.com", "PayPal", ("homoglyph",)),  # i for l
        ("tw\u0456lio-sso.com", "Twilio", ("keyword", "homoglyph", "idn")),
        ("\u0430tt-login.com", "AT&T", ("keyword", "homoglyph", "idn")),  # Cyrillic a in a short token
        ("c\u043einbase.com", "Coinbase", ("homoglyph", "idn")),
        ("\uff54\uff57\uff49\uff4c\uff49\uff4f-sso.com", "Twilio", ("keyword",)),  # full width: NFKC first
    ],
)
def test_homoglyph_and_idn(domain: str, brand: str, techniques: tuple[str, ...]) -> None:
    assert_lookalike(domain, brand, *techniques)


def test_idn_result_is_in_unicode_form() -> None:
    result = matcher().check("XN--80AK6AA92E.COM.")
    assert result.domain == result.registrable == "\u0430\u0440\u0440\u04cf\u0435.com"


@pytest.mark.parametrize(
    ("domain", "brand"),
    [
        ("twilio.com.account-check.net", "Twilio"),
        ("okta.twilio.evil.net", "Twilio"),  # okta is a keyword here, twilio the brand
        ("twilio.evil-host.net", "Twilio"),
        ("login.twilio.example.ru", "Twilio"),
        ("att.com.secure-verify.net", "AT&T"),  # a short token next to its official domain
        ("login.att.example.net", "AT&T"),  # a short token next to a keyword label
        ("att.login-portal.net", "AT&T"),  # ... or a stem made of keywords
        ("twilio-sso.evil.net", "Twilio"),
        ("paypal.com-verify.info", "PayPal"),
    ],
)
def test_subdomain(domain: str, brand: str) -> None:
    assert_lookalike(domain, brand, "subdomain")


def test_subdomain_brand_beside_keyword_label_scores_higher_than_alone() -> None:
    with_keyword = assert_lookalike("okta.twilio.evil.net", "Twilio", "subdomain", "keyword")
    alone = assert_lookalike("twilio.evil-host.net", "Twilio", "subdomain")
    assert "keyword" not in alone.techniques
    assert with_keyword.score > alone.score


@pytest.mark.parametrize(
    ("domain", "brand"),
    [("twil-io.com", "Twilio"), ("cloud-flare.com", "Cloudflare"), ("coin-base.com", "Coinbase")],
)
def test_hyphenation(domain: str, brand: str) -> None:
    result = assert_lookalike(domain, brand, "hyphenation")
    assert result.techniques == ("hyphenation",)


@pytest.mark.parametrize(
    ("domain", "brand"),
    [
        ("twilio.net", "Twilio"),
        ("twilio.co.uk", "Twilio"),
        ("cloudflare.xyz", "Cloudflare"),
        ("coinbase.org", "Coinbase"),
        ("t-mobile.org", "T-Mobile"),
        ("att.org", "AT&T"),  # short, but the label of an official domain (att.com)
    ],
)
def test_tld_swap(domain: str, brand: str) -> None:
    result = assert_lookalike(domain, brand, "tld-swap")
    assert result.techniques == ("tld-swap",)


@pytest.mark.parametrize(
    ("domain", "brand"),
    [
        ("twilio.com", "Twilio"),
        ("www.twilio.com", "Twilio"),
        ("console.twilio.com", "Twilio"),
        ("TWILIO.COM.", "Twilio"),
        ("*.twilio.com", "Twilio"),
        ("sendgrid.net", "Twilio"),
        ("okta.com", "Okta"),
        ("acme.okta.com", "Okta"),
        ("att.com", "AT&T"),
        ("att.net", "AT&T"),
        ("t-mobile.com", "T-Mobile"),
        ("tmobile.com", "T-Mobile"),
        ("aws.amazon.com", "Amazon"),
        ("login.microsoftonline.com", "Microsoft"),
        ("us.hsbc.com", "HSBC"),
    ],
)
def test_official(domain: str, brand: str) -> None:
    result = matcher().check(domain)
    assert (result.verdict, result.brand, result.techniques, result.score) == ("official", brand, (), 0.0)


@pytest.mark.parametrize(
    "domain",
    [
        # ordinary words that contain a short token (att, tmo, cb, wf, aws, fb)
        "attic.com",
        "battery.com",
        "attorney.com",
        "matter.com",
        "attention.net",
        "atmosphere.com",
        "tmobility.com",
        "cbc.ca",
        "cbs.com",
        "cbssports.com",
        "wfaa.com",
        "laws.com",
        "fbi.gov",
        "attire-help.com",  # a word starting with att, then a keyword: not the token as its own part
        "att2.com",
        "cb-2.com",  # a short token with digits but no keyword
        "attit.com",
        "cbhr.com",  # a short token glued to a 2-letter keyword: too common a shape
        # ordinary domains near long tokens
        "twitter.com",
        "twilight.com",
        "cloud.com",
        "mobile.de",
        "applebees.com",
        "pineapple.com",
        "chaser.com",
        "zoominfo.com",
        "dropboxer.org",
        "coinbaseline.com",
        "paypalsucks.com",
        "linked.in",
        # keywords alone, and words with keywords inside
        "sso.com",
        "help-desk.com",
        "login.gov",
        "vpn-helpdesk.net",
        "itsupport.com",
        # restricted suffixes: not a squatter's registration
        "okta.mil",
        "twilio.gov.uk",
        # brands as subdomains of their own or of unrelated content, shapes that are not imitation
        "att.edu",
    ],
)
def test_clear(domain: str) -> None:
    result = matcher().check(domain)
    assert (result.verdict, result.brand, result.techniques, result.score) == ("clear", None, (), 0.0), result


def test_short_token_alone_as_subdomain_label_is_clear() -> None:
    # "cb" and "att" are everywhere as host labels (cb.example.org = a callback host, a county board ...)
    for domain in ("cb.example.org", "att.example.net", "tmo.somewhere.io"):
        assert matcher().check(domain).verdict == "clear", domain


def test_short_token_bare_under_foreign_suffix_needs_an_official_label() -> None:
    # tmo and cb are configured tokens, not labels of official domains: tmo.net / cb.de are not flagged
    assert matcher().check("tmo.net").verdict == "clear"
    assert matcher().check("cb.de").verdict == "clear"


def test_result_shape_and_to_dict() -> None:
    result = matcher().check("login.twilio-okta.com")
    assert result._replace(score=None, reasons=()) == DomainResult(
        domain="login.twilio-okta.com",
        registrable="twilio-okta.com",
        verdict="lookalike",
        brand="Twilio",
        techniques=("keyword", "idp-combo"),
        score=None,
        reasons=(),
        matcher="2",
    )
    assert result.score == pytest.approx(1 - 0.1 * 0.15, abs=1e-3)  # 1 - prod(1 - weight)
    assert "'okta' is the identity provider Okta" in result.reasons
    assert result.to_dict() == {
        "domain": "login.twilio-okta.com",
        "registrable": "twilio-okta.com",
        "verdict": "lookalike",
        "brand": "Twilio",
        "techniques": ["keyword", "idp-combo"],
        "score": result.score,
        "reasons": list(result.reasons),
        "matcher": "2",
    }
    assert json.loads(result.to_json()) == result.to_dict()


def test_more_techniques_score_higher() -> None:
    plain = matcher().check("twilio-sso.com")
    disguised = matcher().check("tw\u0456lio-sso.com")
    assert disguised.score > plain.score


def test_extra_keywords_are_added_to_the_defaults() -> None:
    brands = [Brand("Twilio", ("twilio.com",))]
    # glued to an ordinary word (no hyphen: brand-part does not apply), the word counts only as a keyword
    assert LookalikeMatcher(brands).check("twiliopayday.com").verdict == "clear"
    extended = LookalikeMatcher(brands, keywords=["payday"])
    assert extended.check("twiliopayday.com").techniques == ("keyword",)
    assert extended.check("twiliosso.com").techniques == ("keyword",)  # defaults still there


def test_one_pass_over_many_brands_picks_the_right_one() -> None:
    m = matcher()
    got = {d: m.check(d).brand for d in ("okta-twilio.net", "cloudflare-okta.com", "verizon-vpn.com")}
    assert got == {"okta-twilio.net": "Twilio", "cloudflare-okta.com": "Cloudflare", "verizon-vpn.com": "Verizon"}


def test_cache_does_not_change_answers() -> None:
    brands, keywords = load_brand_config(BRANDS_50)
    cold = LookalikeMatcher(brands, keywords, cache_size=0)
    warm = LookalikeMatcher(brands, keywords, cache_size=2)  # tiny: exercises eviction
    names = ["twilio-sso.com", "twilio-sso.net", "attic.com", "a.twilio-sso.com", "twlio.com", "twilio.com"] * 3
    assert list(cold.check_many(names)) == list(warm.check_many(names))
