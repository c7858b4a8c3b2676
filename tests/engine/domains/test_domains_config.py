"""Brand objects and the TOML configuration file."""

from __future__ import annotations

from pathlib import Path

import pytest

from smishguard.engine.domains import DEFAULT_KEYWORDS, Brand, BrandConfigError, load_brand_config

HERE = Path(__file__).parent

ISSUE_EXAMPLE = """
keywords = ["extra", "words"]          # added to the built-in identity/IT keywords
[[brands]]
name = "T-Mobile"
domains = ["t-mobile.com", "tmobile.com"]
tokens = ["tmobile", "t-mobile", "tmo"]
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "brands.toml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_issue_example(tmp_path: Path) -> None:
    brands, keywords = load_brand_config(write(tmp_path, ISSUE_EXAMPLE))
    assert brands == [Brand("T-Mobile", ("t-mobile.com", "tmobile.com"), ("tmobile", "t-mobile", "tmo"))]
    assert keywords == ["extra", "words"]


def test_shipped_fixture_files_load() -> None:
    fifty, _ = load_brand_config(HERE / "brands_50.toml")
    extra, _ = load_brand_config(HERE / "brands_extra_50.toml")
    assert len(fifty) == len(extra) == 50
    assert len({b.name for b in fifty + extra}) == 100


def test_other_top_level_settings_are_left_alone(tmp_path: Path) -> None:
    text = '[gateway]\nroutes = []\n[[brands]]\nname = "Okta"\ndomains = ["okta.com"]\n'
    brands, keywords = load_brand_config(write(tmp_path, text))
    assert [b.name for b in brands] == ["Okta"]
    assert keywords == []


def test_brand_normalises_domains_and_tokens() -> None:
    b = Brand(" Twilio ", ["TWILIO.com.", "xn--80ak6aa92e.com"], ["Twilio", "TWILIO"])  # type: ignore[arg-type]
    assert b.name == "Twilio"
    assert b.domains == ("twilio.com", "\u0430\u0440\u0440\u04cf\u0435.com")
    assert b.tokens == ("twilio",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("this is = not [toml", "not valid TOML"),
        (b"\xff\xfe keywords", "not UTF-8"),
        ('keywords = "sso"', "keywords must be a list"),
        ("keywords = [1]", "keyword 1 is not a string"),
        ('keywords = ["two words"]', "must be letters or digits"),
        ('brands = "Twilio"', "brands must be an array of tables"),
        ('[[brands]]\ndomains = ["twilio.com"]', "brand #1: missing name"),
        ('[[brands]]\nname = ""\ndomains = ["twilio.com"]', "brand #1: missing name"),
        ('[[brands]]\nname = "Twilio"', "brand 'Twilio': missing domains"),
        ('[[brands]]\nname = "Twilio"\ndomains = "twilio.com"', "domains must be a list"),
        ('[[brands]]\nname = "Twilio"\ndomains = []', "at least one official domain"),
        ('[[brands]]\nname = "Twilio"\ndomains = [3]', "every entry of domains must be a string"),
        ('[[brands]]\nname = "Twilio"\ndomains = ["twilio..com"]', "domain 'twilio..com' is not valid"),
        ('[[brands]]\nname = "Twilio"\ndomains = ["1.2.3.4"]', "IP address"),
        ('[[brands]]\nname = "Twilio"\ndomains = ["twilio"]', "it has no dot"),
        ('[[brands]]\nname = "Twilio"\ndomains = ["twilio.com"]\ntokens = "twilio"', "tokens must be a list"),
        ('[[brands]]\nname = "Twilio"\ndomains = ["twilio.com"]\ntokens = ["t"]', "at least 2 letters"),
        ('[[brands]]\nname = "Twilio"\ndomains = ["twilio.com"]\ntokens = ["a.b"]', "cannot contain a dot"),
        ('[[brands]]\nname = "Twilio"\ndomian = ["twilio.com"]', "unknown key 'domian'"),
        (
            '[[brands]]\nname = "Twilio"\ndomains = ["twilio.com"]\n[[brands]]\nname = "twilio"\n'
            'domains = ["twilio.net"]',
            "defined twice",
        ),
    ],
)
def test_malformed_config(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(BrandConfigError) as info:
        load_brand_config(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BrandConfigError, match="cannot read the file"):
        load_brand_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "domains": ("a.com",)}, "non-empty name"),
        ({"name": "X", "domains": "a.com"}, "domains must be a list"),
        ({"name": "X", "domains": ("a.com",), "tokens": "x"}, "tokens must be a list"),
    ],
)
def test_brand_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(BrandConfigError, match=message):
        Brand(**kwargs)


def test_default_keywords_cover_the_oktapus_words() -> None:
    for word in ("sso", "okta", "login", "vpn", "help", "helpdesk", "servicedesk", "hr", "mfa", "duo",
                 "citrix", "support", "it", "reset", "secure", "account", "portal", "corp", "internal"):  # fmt: skip
        assert word in DEFAULT_KEYWORDS
