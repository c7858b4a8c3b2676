"""Open redirects on trusted domains (issue 15): a link to an official or partner domain whose path or query carries
another address is judged by that address too."""

from __future__ import annotations

from functools import cache

import pytest

from smishguard.engine.domains import Brand, LookalikeMatcher
from smishguard.engine.sms import verdict
from smishguard.engine.sms.links import MAX_CARRIED, carried_hosts


@cache
def matcher() -> LookalikeMatcher:
    return LookalikeMatcher(
        [Brand("Acme", ("acme.com",), partners=("acme-reseller.com",)), Brand("Okta", ("okta.com",))]
    )


@pytest.mark.parametrize(
    ("url", "hosts"),
    [
        ("https://acme.com/redirect?u=https://acme-sso.com/login", ("acme-sso.com",)),
        ("https://acme.com/r?u=https%3A%2F%2Facme-sso.com%2Fx", ("acme-sso.com",)),  # encoded once
        ("https://acme.com/r?u=https%253A%252F%252Fevil.example%252F", ("evil.example",)),  # encoded twice
        ("https://acme.com/r?to=//acme-login.net/", ("acme-login.net",)),  # scheme-relative
        ("https://acme.com/r?next=www.acme-okta.com", ("acme-okta.com",)),
        ("https://acme.com/r?u=https://user:pw@evil.example:8443/x", ("evil.example",)),  # user and port dropped
        ("https://acme.com/out/https://acme-hr.com/", ("acme-hr.com",)),  # in the path
        ("https://acme.com/news?a=1&b=2", ()),
        ("https://acme.com", ()),
    ],
)
def test_carried_hosts(url: str, hosts: tuple[str, ...]) -> None:
    assert carried_hosts(url) == hosts


def test_at_most_a_few_addresses_are_read_from_one_link() -> None:
    url = "https://acme.com/r?" + "&".join(f"u{i}=https://h{i}.example" for i in range(20))
    assert len(carried_hosts(url)) == MAX_CARRIED


def test_a_lookalike_behind_an_official_redirect_is_smishing() -> None:
    text = "Acme IT: your password expires today, renew at https://acme.com/redirect?u=https://acme-sso.com/login"
    v = verdict(text, matcher=matcher())
    assert v.verdict == "smishing"
    lookalike = next(r for r in v.reasons if r.code == "lookalike-domain")
    assert "carries acme-sso.com" in lookalike.detail
    assert "redirect through Acme's own domain" in lookalike.detail
    assert {d.domain for d in v.domains} == {"acme.com", "acme-sso.com"}
    assert v.score >= 0.9 - 1e-9  # raised to the lookalike's own score


def test_a_lookalike_behind_a_partners_redirect_is_smishing_too() -> None:
    v = verdict("Your order: https://shop.acme-reseller.com/go?u=https%3A%2F%2Fglobex-okta.com", matcher=matcher())
    assert v.verdict == "smishing"
    assert any(r.code == "partner-domain" for r in v.reasons)
    assert any(r.code == "lookalike-domain" and "globex-okta.com" in r.detail for r in v.reasons)


def test_another_address_behind_an_official_redirect_is_named() -> None:
    v = verdict("Acme: see https://acme.com/r?u=https%3A%2F%2Fevil.example%2Fx", matcher=matcher())
    assert any(r.code == "redirect" and "evil.example" in r.detail for r in v.reasons)
    assert "evil.example" in {d.domain for d in v.domains}


def test_a_plain_official_link_carries_nothing() -> None:
    v = verdict("Acme: the canteen menu is at https://acme.com/menu?week=49", matcher=matcher())
    assert not any(r.code in ("redirect", "lookalike-domain") for r in v.reasons)
    assert [d.domain for d in v.domains] == ["acme.com"]


def test_a_redirect_on_a_domain_that_is_not_trusted_is_not_followed() -> None:
    # Only a trusted (official or partner) domain lends its name to what it carries.
    v = verdict("see https://example.org/r?u=https://acme-sso.com", matcher=matcher())
    assert [d.domain for d in v.domains] == ["example.org"]
