"""Evidence weighed per part (engine/domains/parts.py): each new form with made-up brands, and each precision guard.

Made-up companies: Acme (the company), Okta and OneLogin (identity providers, configured as brands), Globex and
Initrode (other companies), Orange and Bell (names that are ordinary words), Box and qbk (short tokens).
"""

from __future__ import annotations

from functools import cache

import lookalike_eval
import pytest

from smishguard.engine.domains import TECHNIQUES, Brand, BrandConfigError, LookalikeMatcher, load_brand_config
from smishguard.engine.domains.parts import DISTINCT, IDP, ORDINARY, SHORT
from smishguard.engine.domains.words import Splitter, derive_ordinary_words, is_ordinary_word


@cache
def matcher() -> LookalikeMatcher:
    return LookalikeMatcher(*load_brand_config(lookalike_eval.EVAL_BRANDS))


def check(domain: str, brand: str | None, *techniques: str) -> None:
    result = matcher().check(domain)
    if brand is None:
        assert result.verdict == "clear", result
        return
    assert (result.verdict, result.brand) == ("lookalike", brand), result
    for t in techniques:
        assert t in result.techniques, (t, result)
    assert set(result.techniques) <= set(TECHNIQUES)
    assert 0.0 < result.score <= 1.0


@pytest.mark.parametrize(
    ("domain", "brand", "technique"),
    [
        # an identity provider beside another company's name (the 2023-2024 waves' commonest form)
        ("hooli-okta.com", "Okta", "idp-combo"),
        ("okta-hooli.net", "Okta", "idp-combo"),
        ("login.wonkainc-okta.com", "Okta", "idp-combo"),
        ("onelogin-umbrella.com", "OneLogin", "idp-combo"),
        # ... and beside the company's own name: the company is the brand named
        ("acme-okta.com", "Acme", "idp-combo"),
        ("okta-acme.com", "Acme", "idp-combo"),
        ("acmeinc-okta.com", "Acme", "idp-combo"),
        # the brand as a whole hyphen-separated part, beside anything
        ("acme-zeta.com", "Acme", "brand-part"),
        ("acme-jv.net", "Acme", "brand-part"),
        ("ops-acme.com", "Acme", "brand-part"),
        ("acme-365.com", "Acme", "brand-part"),
        ("1-acme.com", "Acme", "brand-part"),
        ("corporate-acme.com", "Acme", "brand-part"),
        ("acme-outage.com", "Acme", "brand-part"),
        ("acme365.com", "Acme", "brand-part"),  # digits cut a run as a hyphen does
        # glued to an affix or a region (with or without a keyword), or to a word with a keyword part
        ("myacme.com", "Acme", "brand-compound"),
        ("ouracme.net", "Acme", "brand-compound"),
        ("acmeone.com", "Acme", "brand-compound"),
        ("acmeuk-sso.com", "Acme", "brand-compound"),
        ("acmeusa.com", "Acme", "brand-compound"),
        ("acmecloud-vpn.com", "Acme", "brand-compound"),
        # two protected brands
        ("initrode-acme.com", "Initrode", "brand-pair"),
        ("acmebot-globex.com", "Globex", "brand-pair"),
        # an extra letter at the end; and the same on the skeleton (a disguised letter too)
        ("acmes.com", "Acme", "addition"),
        ("acmer.net", "Acme", "addition"),
        ("initrodes.com", "Initrode", "addition"),
        ("initr0des.com", "Initrode", "addition"),
        ("globexs-login.com", "Globex", "addition"),
        # ordinary-word and short brands: a whole part beside a keyword part or an identity provider
        ("orange-sso.com", "Orange Telecom", "keyword"),
        ("orange-okta.com", "Orange Telecom", "idp-combo"),
        ("orange-portal-news.com", "Orange Telecom", "brand-part"),
        ("box-okta.com", "Box", "idp-combo"),
        ("qbk-okta.com", "Quark Bank", "idp-combo"),
        ("qbk-vpn-eu.com", "Quark Bank", "brand-part"),
    ],
)
def test_new_forms(domain: str, brand: str, technique: str) -> None:
    check(domain, brand, technique)


@pytest.mark.parametrize(
    "domain",
    [
        # ordinary-word brands in ordinary names: no keyword, no identity provider beside them
        "orange-county-news.com",
        "orangetheory.com",
        "bellhop.com",
        "taco-bell-menu.com",
        "bell-tower.org",
        # short tokens: inside words, or as a part without a keyword
        "boxing-news.com",
        "box-office-hits.com",
        "xbox-games.net",
        "qbk-racing.com",
        "qbk2.com",
        # a distinctive brand glued to a word that is not an affix, a region or a keyword, with no keyword part
        "acmeticket.com",
        "vandelaystudio.com",
        # the brand's letters inside or across other words: the split a reader makes does not isolate it
        "pacmen.com",
        "macmeadow.com",
        "globexpress.com",
        "okapi-tours.com",
        # one extra letter: only on distinctive brands (orange -> oranges is a word)
        "oranges.com",
        "bells.net",
    ],
)
def test_precision_guards(domain: str) -> None:
    check(domain, None)


@pytest.mark.parametrize("domain", ["acme.com", "login.acme.com", "acme-cdn.net", "okta.com"])
def test_official_domains_are_never_read_for_parts(domain: str) -> None:
    assert matcher().check(domain).verdict == "official"


def test_the_company_is_named_before_its_identity_provider() -> None:
    # acme-okta carries two brands; the company configured both; the alert is about the company's staff
    result = matcher().check("okta-acme.com")
    assert result.brand == "Acme"
    assert "idp-combo" in result.techniques


def test_token_classes() -> None:
    reader = matcher().part_reader
    brands = {b.name: i for i, b in enumerate(matcher().brands)}
    assert reader.token_class(brands["Okta"], "okta") == IDP
    assert reader.token_class(brands["Acme"], "acme") == DISTINCT  # in the dictionary, but rare on the web
    assert reader.token_class(brands["Orange Telecom"], "orange") == ORDINARY
    assert reader.token_class(brands["Box"], "box") == SHORT


def test_a_brand_whose_token_is_a_keyword_is_an_identity_provider() -> None:
    brands = [Brand("Globex", ("globex.com",)), Brand("Cyclops", ("cyclops.io",))]
    assert LookalikeMatcher(brands).check("hooli-cyclops.com").techniques == ("brand-part",)
    with_keyword = LookalikeMatcher(brands, ["cyclops"]).check("hooli-cyclops.com")
    assert (with_keyword.brand, with_keyword.techniques) == ("Cyclops", ("idp-combo",))


@pytest.mark.parametrize(("domain", "label", "form"), lookalike_eval.read_forms())
def test_own_labelled_forms(domain: str, label: str, form: str) -> None:
    """The frozen evaluation set (eval/forms.tsv): each line as labelled."""
    verdict = matcher().check(domain).verdict
    assert (verdict == "lookalike") == (label == "phish"), (domain, form, verdict)


def test_splitter_keeps_words_whole_where_a_reader_would() -> None:
    s = Splitter(["acme", "citi", "icloud"])
    assert s.split("myacme") == ("my", "acme")
    assert s.split("acmeuk") == ("acme", "uk")
    assert s.split("citizen") == ("citizen",)  # not citi + zen
    assert s.split("huaweicloud") == ("huawei", "cloud")  # not huawe + icloud
    assert "".join(s.split("xqzvtr")) == "xqzvtr"  # unknown letters are kept, never lost


def test_bundled_ordinary_words_are_derived_from_the_dictionary_and_the_counts() -> None:
    assert is_ordinary_word("orange")
    assert is_ordinary_word("bell")
    assert not is_ordinary_word("acme")  # in Webster's, but rare
    assert not is_ordinary_word("google")  # frequent, not in Webster's
    bundled = [
        w
        for w in (lookalike_eval.REPO / "src/smishguard/engine/domains/data/ordinary_words.txt")
        .read_text("utf-8")
        .splitlines()
        if w and not w.startswith("#")
    ]
    assert bundled == derive_ordinary_words()


def test_partners_are_never_flagged_and_say_why() -> None:
    brands = [Brand("Acme", ("acme.com",), partners=("acme-reseller.com", "cdn.acmecdn.net"))]
    m = LookalikeMatcher(brands)
    for host in ("acme-reseller.com", "shop.acme-reseller.com", "cdn.acmecdn.net", "x.cdn.acmecdn.net"):
        result = m.check(host)
        assert (result.verdict, result.brand) == ("partner", "Acme"), result
        assert "partner of Acme" in result.reasons[0]
    assert m.check("acmecdn.net").verdict == "clear"  # only the partner's own name, not its whole domain
    assert m.check("acme-reseller-login.com").verdict == "lookalike"


def test_a_partner_cannot_also_be_official() -> None:
    with pytest.raises(BrandConfigError, match="official and as a partner"):
        Brand("Acme", ("acme.com",), partners=("acme.com",))


def test_partners_in_the_toml_file(tmp_path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[[brands]]\nname = "Acme"\ndomains = ["acme.com"]\npartners = ["Acme-Reseller.com"]\n')
    (brand,), _ = load_brand_config(path)
    assert brand.partners == ("acme-reseller.com",)
    path.write_text('[[brands]]\nname = "Acme"\ndomains = ["acme.com"]\npartners = "acme-reseller.com"\n')
    with pytest.raises(BrandConfigError, match="partners must be a list"):
        load_brand_config(path)


def test_min_score_draws_the_line_and_keeps_the_evidence() -> None:
    brands = [Brand("Acme", ("acme.com",))]
    assert LookalikeMatcher(brands).check("acme-zeta.com").verdict == "lookalike"
    strict = LookalikeMatcher(brands, min_score=0.85)
    below = strict.check("acme-zeta.com")  # brand-part alone: 0.8
    assert (below.verdict, below.brand, below.techniques) == ("clear", "Acme", ("brand-part",))
    assert below.score == pytest.approx(0.8)
    assert "under the line 0.85" in below.reasons[-1]
    assert strict.check("acme-sso.com").verdict == "lookalike"  # keyword: 0.9
    with pytest.raises(ValueError, match="min_score"):
        LookalikeMatcher(brands, min_score=1.5)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("hooli-okta.com", "'okta' is the protected identity provider Okta, standing as a whole part"),
        ("hooli-okta.com", "'hooli' is another company's name or another word"),
        ("hooli-okta.com", "registered under .com, not an official domain of Okta (okta.com, oktacdn.com)"),
        ("myacme.com", "'my' is a word companies and squatters glue to a name"),
        ("acmeuk-sso.com", "'uk' is a region"),
        ("acmeuk-sso.com", "'sso' is a sign-in or IT word"),
        ("acme-365.com", "'365' is a number"),
        ("initrode-acme.com", "'acme' is another protected brand (Acme)"),
        ("acme-zeta.com", "if it is Acme's own, add it to the official domains (or to the partners if a partner's)"),
    ],
)
def test_reasons_a_person_understands(domain: str, expected: str) -> None:
    assert expected in matcher().check(domain).reasons


def test_reasons_do_not_suggest_adding_an_attack_with_a_keyword_to_the_official_domains() -> None:
    reasons = matcher().check("acme-sso.com").reasons
    assert not any("add it to the official domains" in r for r in reasons)
    assert matcher().check("example.org").reasons == ()


def test_an_identity_providers_name_is_called_so_even_when_it_is_not_configured() -> None:
    result = LookalikeMatcher([Brand("Acme", ("acme.com",))]).check("acme-okta.com")
    assert "idp-combo" in result.techniques
    assert "'okta' is an identity provider's name" in result.reasons


def test_a_short_identity_provider_token_is_held_to_the_short_rules() -> None:
    m = LookalikeMatcher([Brand("Duo", ("duo.com",))])  # duo is a default keyword: an identity provider
    assert m.check("duo-lingo.com").verdict == "clear"  # beside an ordinary word only
    assert m.check("duo-sso.com").verdict == "lookalike"
