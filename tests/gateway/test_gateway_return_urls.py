"""Issue 14: a sign-in may return to the hosts the gateway protects, through accounts' one return-URL function.

The gateway registers ``rules.protects_host`` with ``accounts.redirects`` in ``GatewayConfig.ready()``; every
refusal that function already makes still holds for those hosts (userinfo, backslashes, control characters,
lookalikes), and a host no rule names is refused.  The tests' origin is http (http://localhost:8000), so http is
accepted there as well; with an https origin only https is."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from django.test import RequestFactory

from smishguard.accounts.redirects import is_safe_return_url, safe_return_url

POLICY = """
[gateway]
[[gateway.rules]]
domain = "customers.example.com"
policy = "signed_in"

[[gateway.rules]]
domain = "*.apps.example.org"
policy = "deny"
"""

ALLOWED = [
    "https://customers.example.com/customers/42",
    "https://customers.example.com/customers/42?tab=notes#top",
    "https://customers.example.com:8443/x",
    "https://CUSTOMERS.example.com/x",
    "http://customers.example.com/x",  # the test origin is http
    "https://wiki.apps.example.org/page",
    "https://a.b.apps.example.org/",
]

REFUSED = [
    "https://evil.example/",
    "https://example.com/",
    "https://apps.example.org/",  # the wildcard is below apps.example.org, not the name itself
    "https://customers.example.com.evil.example/",
    "https://customers-example.com/",
    "https://xcustomers.example.com/",
    "https://wiki.apps.example.org.evil.example/",
    "https://customers.example.com@evil.example/",
    "https://user:pw@customers.example.com/",
    "https://customers.example.com%40evil.example/",
    "https://evil.example\\@customers.example.com/",
    "https://customers.example.com\\.evil.example/",
    "https:\\\\customers.example.com/",
    "/\\customers.example.com",
    "//customers.example.com/",
    "https:customers.example.com/",
    "https:/customers.example.com/",
    "https://customers.example.com\t.evil.example/",
    "https://customers.example.com./",
    "https://customers.example.com:0/",
    "https://customers.example.com:99999/",
    "https://customers.example.com:x/",
    "ftp://customers.example.com/",
    "javascript://customers.example.com/%0aalert(1)",
    "https://evil.example/#customers.example.com",
    "https://evil.example/?customers.example.com",
    "https://customers.exa%6dple.com/",
]


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(POLICY))


def check(candidate: str) -> bool:
    return is_safe_return_url(candidate, request=RequestFactory().get("/signin"))


@pytest.mark.parametrize("candidate", ALLOWED)
def test_a_protected_host_exact_or_wildcard_is_allowed(candidate):
    assert check(candidate) is True


@pytest.mark.parametrize("candidate", REFUSED)
def test_unprotected_hosts_and_tricks_are_refused(candidate):
    assert check(candidate) is False
    assert safe_return_url(candidate, default="/home") == "/home"


@pytest.mark.parametrize(
    "candidate", ["/\t/evil.example", "/%09/evil.example", "/%5C/evil.example", "//evil.example", "java\tscript:x"]
)
def test_the_refusals_of_the_function_still_hold_with_a_policy(candidate):
    assert check(candidate) is False


def test_with_an_https_origin_only_https_is_returned_to(settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, origin="https://auth.example.com")
    assert settings.SMISHGUARD.secure_origin
    assert check("https://customers.example.com/x") is True
    assert check("http://customers.example.com/x") is False


def test_a_changed_policy_counts_at_once(settings):
    assert check("https://billing.example.com/") is False
    policy = POLICY + '\n[[gateway.rules]]\ndomain = "billing.example.com"\npolicy = "signed_in"\n'
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw=tomllib.loads(policy))
    assert check("https://billing.example.com/") is True


def test_without_rules_no_other_host_is_allowed(settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, raw={})
    assert check("https://customers.example.com/x") is False
    assert check("/console/") is True
