"""Brand-independent link features."""

import pytest

from smishguard.engine.sms import LinkFeatures, extract_links, link_features


def features(text: str) -> LinkFeatures:
    return link_features(extract_links(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no link here", {}),
        ("see example.com/a", {"has_link": True}),
        ("bit.ly/x", {"has_link": True, "shortener": True}),
        ("http://1.2.3.4/x", {"has_link": True, "raw_ip": True, "digits_in_domain": False}),
        ("pay at parcel-fee.top/x", {"has_link": True, "abused_tld": True}),
        ("claim at prize.xyz/x", {"has_link": True, "abused_tld": True}),
        ("reset at twilio-sso.com", {"has_link": True, "identity_keyword": True}),
        ("reset at oktalogin.net/x", {"has_link": True, "identity_keyword": True}),
        ("reset at acme-vpn.com", {"has_link": True, "identity_keyword": True}),
        ("go to acme-hr.com/x", {"has_link": True, "identity_keyword": True}),
        # a 2-letter word is matched only as a whole part: "<brand>hr" is the brand matcher's job
        ("go to acmehr.com/x", {"has_link": True}),
        ("go to mfa.acme-corp.net/x", {"has_link": True, "identity_keyword": True}),
        ("go to secure-account-verify-now.com/x", {"has_link": True, "identity_keyword": True, "many_hyphens": True}),
        ("go to usps-redelivery-fee.com/x", {"has_link": True, "many_hyphens": True}),
        ("go to wel01.us/r/rest05", {"has_link": True, "digits_in_domain": True}),
        ("go to a.b.c.d.example.com/x", {"has_link": True, "long_subdomain_chain": True}),
        ("go to xn--80ak6aa92e.com/x", {"has_link": True, "punycode_host": True}),
        ("go to hxxps://evil[.]com/x", {"has_link": True, "obfuscated": True}),
        # ordinary names that merely contain letters of a keyword are not identity words
        ("go to pitstop.com/x and edithotel.com/x", {"has_link": True}),
    ],
)
def test_link_features(text: str, expected: dict[str, bool]) -> None:
    got = features(text)
    flags = {name: getattr(got, name) for name in LinkFeatures.NAMES if name != "n_links"}
    assert {k for k, v in flags.items() if v} == {k for k, v in expected.items() if v}


def test_vector_matches_names_and_counts_links() -> None:
    got = features("a.com/x b.org/y c.net/z d.io/w")
    assert got.n_links == 4
    vector = got.as_vector()
    assert len(vector) == len(LinkFeatures.NAMES)
    assert vector[LinkFeatures.NAMES.index("n_links")] == 1.0  # capped at 3 links
    assert features("nothing").as_vector() == (0.0,) * len(LinkFeatures.NAMES)
