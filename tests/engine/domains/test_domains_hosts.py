"""Host normalisation, the registrable domain, and bad input (one clear error, never a crash)."""

from __future__ import annotations

import pytest

from smishguard.engine.domains import (
    Brand,
    DomainResult,
    InvalidDomain,
    LookalikeMatcher,
    normalise_host,
    registrable_domain,
)


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("Twilio.COM", "twilio.com"),
        ("  twilio.com\n", "twilio.com"),
        ("twilio.com.", "twilio.com"),
        ("*.twilio.com", "twilio.com"),
        ("xn--80ak6aa92e.com", "\u0430\u0440\u0440\u04cf\u0435.com"),
        ("XN--80AK6AA92E.COM", "\u0430\u0440\u0440\u04cf\u0435.com"),
        ("\u0430\u0440\u0440\u04cf\u0435.com", "\u0430\u0440\u0440\u04cf\u0435.com"),
        ("b\u00fccher.de", "b\u00fccher.de"),
        ("xn--bcher-kva.de", "b\u00fccher.de"),
        ("twilio\u3002com", "twilio.com"),  # ideographic full stop
        ("\uff54\uff57\uff49\uff4c\uff49\uff4f\uff0e\uff43\uff4f\uff4d", "twilio.com"),  # full-width letters and dot
        ("_dmarc.twilio.com", "_dmarc.twilio.com"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
    ],
)
def test_normalise_host(raw: str, host: str) -> None:
    assert normalise_host(raw) == host


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("twilio.com", "twilio.com"),
        ("a.b.twilio.com", "twilio.com"),
        ("login.twilio.co.uk", "twilio.co.uk"),
        ("twilio-sso.herokuapp.com", "twilio-sso.herokuapp.com"),  # private suffixes count
        ("x.y.github.io", "y.github.io"),
        ("xn--80ak6aa92e.com", "\u0430\u0440\u0440\u04cf\u0435.com"),
        ("www.xn--80aswg.xn--p1ai", "\u0441\u0430\u0439\u0442.\u0440\u0444"),  # сайт.рф
        ("foo.bar.kawasaki.jp", "foo.bar.kawasaki.jp"),  # PSL wildcard *.kawasaki.jp
        ("www.city.kawasaki.jp", "city.kawasaki.jp"),  # ... and its exception !city.kawasaki.jp
        ("intranet.corp", "intranet.corp"),  # unknown suffix: the last label stands in
        ("co.uk", "co.uk"),
    ],
)
def test_registrable_domain(host: str, registrable: str) -> None:
    assert registrable_domain(host) == registrable


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty name"),
        ("   ", "empty name"),
        (".", "empty name"),
        ("a" * 300, "300 characters long"),
        (".".join(["abcdefghi"] * 26), "259 characters long"),
        ("x" * 64 + ".com", "64 characters long; a label has at most 63"),
        ("xn--zz", "not valid punycode"),
        ("xn--zz.com", "not valid punycode"),
        ("xn--twilio-.com", "starts or ends with a hyphen"),
        ("xn--twilio-.b\u00fccher.de", "decodes to no non-ASCII text"),
        ("twi\x00lio.com", "control character (U+0000)"),
        ("twilio\x1b.com", "control character (U+001B)"),
        ("tw\u00edlio\u0007.com", "control character (U+0007)"),
        ("twi lio.com", "whitespace"),
        ("1.2.3.4", "IP address"),
        ("192.168.0.1", "IP address"),
        ("::1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("example.123", "last label is all digits"),
        ("https://twilio.com/login", "looks like a URL"),
        ("twilio..com", "empty label"),
        (".twilio.com", "empty label"),
        ("-twilio.com", "starts or ends with a hyphen"),
        ("twilio-.com", "starts or ends with a hyphen"),
        ("twi!lio.com", "'!'"),
        ("twi\u2603lio\u00a0.com", "whitespace"),  # no-break space
        ("tw\u00edlio$.com", "'$'"),
    ],
)
def test_invalid_domain(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDomain) as info:
        normalise_host(raw)
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 200  # a 300-character name is not echoed whole


@pytest.mark.parametrize("raw", [None, 42, b"twilio.com"])
def test_non_string_is_invalid(raw: object) -> None:
    with pytest.raises(InvalidDomain, match="expected a string"):
        normalise_host(raw)  # type: ignore[arg-type]


def test_check_raises_invalid_domain() -> None:
    m = LookalikeMatcher([Brand("Twilio", ("twilio.com",))])
    with pytest.raises(InvalidDomain, match="IP address"):
        m.check("10.0.0.1")
    with pytest.raises(InvalidDomain, match="not valid punycode"):
        m.check("xn--zz.com")


def test_check_many_keeps_going_after_bad_lines() -> None:
    m = LookalikeMatcher([Brand("Twilio", ("twilio.com",))])
    names = ["twilio-sso.com", "", "a" * 300, "xn--zz", "bad\x07.com", "127.0.0.1", "twilio.com", "example.org"]
    out = list(m.check_many(names))
    assert len(out) == len(names)
    kinds = [r.verdict if isinstance(r, DomainResult) else "error" for r in out]
    assert kinds == ["lookalike", "error", "error", "error", "error", "error", "official", "clear"]
    assert all(isinstance(r, InvalidDomain) for r in out[1:6])


def test_fast_and_slow_paths_agree() -> None:
    # ASCII names take a fast path in check(); the same names in forms that need the full normalisation
    # must give the same result.
    m = LookalikeMatcher([Brand("Twilio", ("twilio.com",))])
    for name in ("twilio-sso.com", "twlio.com", "attic.com", "a.twilio.com", "twilio.evil.net"):
        assert m.check(name) == m.check(name.upper() + ".") == m.check("*." + name)
