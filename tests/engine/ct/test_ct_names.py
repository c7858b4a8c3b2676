"""Name normalisation: what the lookalike matcher sees from a certificate."""

from __future__ import annotations

import pytest

from smishguard.engine.ct import normalize_name, normalize_names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Twilio-SSO.com", "twilio-sso.com"),
        ("*.twilio-okta.com", "twilio-okta.com"),
        ("*.*.example.com", "example.com"),
        ("www.example.com.", "www.example.com"),
        ("  mail.google.com ", "mail.google.com"),
        ("xn--80ak6aa92e.com", "\u0430\u0440\u0440\u04cf\u0435.com"),  # Cyrillic look-alike of apple.com
        ("login.XN--80AK6AA92E.com", "login.\u0430\u0440\u0440\u04cf\u0435.com"),
        ("xn--bcher-kva.example", "b\u00fccher.example"),
        ("xn--zz.example", "xn--zz.example"),  # not valid punycode: kept as written
        ("Acme Corp", None),  # an organisation name in the CN, not a host
        ("localhost", None),
        ("10.0.0.1", None),
        ("", None),
        ("*.", None),
        ("a..example.com", None),
        ("foo*.example.com", None),
        ("user@example.com", None),
        ("https://example.com/", None),
    ],
)
def test_normalize_name(raw: str, expected: str | None) -> None:
    assert normalize_name(raw) == expected


def test_normalize_names_dedupes_in_first_seen_order() -> None:
    names = normalize_names(["www.Example.com", "*.example.com", "example.com", "WWW.EXAMPLE.COM", "Acme"])
    assert names == ("www.example.com", "example.com")


def test_normalize_names_skips_non_strings() -> None:
    assert normalize_names(["a.example", None, 5, "b.example"]) == ("a.example", "b.example")  # type: ignore[list-item]
