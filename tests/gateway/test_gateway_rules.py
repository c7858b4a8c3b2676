"""Issue 14: ``[gateway]`` and ``[[gateway.rules]]`` in smishguard.toml, checked when loaded; each mistake is one
readable line naming the rule and the key.  Pure parsing: no database, same in both modes."""

from __future__ import annotations

import ipaddress
import tomllib

import pytest

from smishguard.config import ConfigError
from smishguard.gateway import rules
from smishguard.gateway.regex_safety import backtracking_risk

ISSUE_EXAMPLE = """
[gateway]
default_policy = "deny"
trusted_proxies = ["127.0.0.1/32", "::1/128"]
[[gateway.rules]]
domain = "customers.example.com"            # exact, or "*.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]   # path regexes; the named group "customer" marks customer data
methods = ["GET", "HEAD"]                   # optional
subject = ["group:support", "group:security", "user:ada@example.com"]   # optional
networks = ["10.0.0.0/8"]                   # optional
policy = "step_up"                          # deny | signed_in | step_up
reauth_max_age = 900                        # step_up: seconds since this session last touched a key
"""


def parse(text: str) -> rules.GatewayPolicy:
    return rules.parse(tomllib.loads(text))


def test_the_issues_example_loads():
    policy = parse(ISSUE_EXAMPLE)
    (rule,) = policy.rules
    assert policy.default_policy == "deny"
    assert policy.trusted_proxies == ("127.0.0.1/32", "::1/128")
    assert rule.number == 1
    assert rule.domains == ("customers.example.com",)
    assert [p.pattern for p in rule.resources] == ["^/customers/(?P<customer>[^/]+)"]
    assert rule.methods == ("GET", "HEAD")
    assert rule.groups == {"support", "security"}
    assert rule.users == {"ada@example.com"}
    assert rule.networks == (ipaddress.ip_network("10.0.0.0/8"),)
    assert (rule.policy, rule.reauth_max_age) == ("step_up", 900)
    assert policy.groups == {"support", "security"}
    assert "rule #1: customers.example.com" in rule.describe()


def test_no_gateway_table_is_default_deny_from_loopback_only():
    policy = rules.parse({})
    assert (policy.default_policy, policy.trusted_proxies, policy.rules) == ("deny", ("127.0.0.1/32", "::1/128"), ())


def test_defaults_of_a_rule():
    policy = parse(
        '[gateway]\ndefault_policy = "signed_in"\n'
        '[[gateway.rules]]\ndomain = ["*.Example.com.", "a.test"]\npolicy = "step_up"\n'
        '[[gateway.rules]]\ndomain = "b.test"\npolicy = "signed_in"\nmethods = ["get"]\nsubject = ["user:Ada@X.test"]\n'
    )
    first, second = policy.rules
    assert first.domains == ("*.example.com", "a.test")
    assert (first.resources, first.methods, first.subjects, first.networks) == ((), (), (), ())
    assert first.reauth_max_age == rules.DEFAULT_REAUTH_MAX_AGE == 900
    assert (second.reauth_max_age, second.methods, second.users) == (None, ("GET",), {"ada@x.test"})
    assert policy.default_policy == "signed_in"


def test_wildcard_domains_cover_names_below_not_the_apex():
    (rule,) = parse('[[gateway.rules]]\ndomain = "*.example.com"\npolicy = "deny"\n').rules
    assert rule.matches_domain("a.example.com")
    assert rule.matches_domain("b.a.example.com")
    assert not rule.matches_domain("example.com")
    assert not rule.matches_domain("badexample.com")
    assert not rule.matches_domain("a.example.com.evil.test")


RULE = '[[gateway.rules]]\ndomain = "c.example.com"\npolicy = "signed_in"\n'

# (TOML, the start of the one-line error)
BAD = [
    ("gateway = 3\n", "[gateway] must be a table"),
    ("[gateway]\nrule = []\n", "[gateway]: unknown key(s): rule"),
    ('[gateway]\ndefault_policy = "allow"\n', '[gateway] default_policy must be "deny" or "signed_in", not \'allow\''),
    (
        '[gateway]\ndefault_policy = "step_up"\n',
        '[gateway] default_policy must be "deny" or "signed_in", not \'step_up\'',
    ),
    ('[gateway]\ntrusted_proxies = ["10.0.0.0/33"]\n', "[gateway]: trusted_proxies: '10.0.0.0/33'"),
    ('[gateway]\ntrusted_proxies = ["0.0.0.0/0"]\n', "[gateway] trusted_proxies must not hold everything"),
    ("[gateway]\nrules = 1\n", "[gateway] rules must be an array of tables"),
    (RULE + 'path = "/x"\n', "[[gateway.rules]] #1: unknown key(s): path"),
    ('[[gateway.rules]]\npolicy = "deny"\n', "[[gateway.rules]] #1: domain is required"),
    ('[[gateway.rules]]\ndomain = "a.test"\n', "[[gateway.rules]] #1: policy is required"),
    ('[[gateway.rules]]\ndomain = "a.test"\npolicy = "allow"\n', "[[gateway.rules]] #1: policy must be"),
    (RULE + "reauth_max_age = 60\n", "[[gateway.rules]] #1: reauth_max_age is for step_up rules only"),
    (
        '[[gateway.rules]]\ndomain = "a.test"\npolicy = "step_up"\nreauth_max_age = "15m"\n',
        "[[gateway.rules]] #1: reauth_max_age must be a whole number of seconds >= 1, not '15m'",
    ),
    (
        '[[gateway.rules]]\ndomain = "a.test"\npolicy = "step_up"\nreauth_max_age = 0\n',
        "[[gateway.rules]] #1: reauth_max_age must be a whole number of seconds >= 1, not 0",
    ),
    ('[[gateway.rules]]\ndomain = "a.test"\npolicy = "deny"\nresources = "^/x"\n', "[[gateway.rules]] #1: resources"),
    ('[[gateway.rules]]\ndomain = 5\npolicy = "deny"\n', "[[gateway.rules]] #1: domain must be a string"),
    ('[[gateway.rules]]\ndomain = []\npolicy = "deny"\n', "[[gateway.rules]] #1: domain must not be empty"),
    ('[[gateway.rules]]\ndomain = "a b.test"\npolicy = "deny"\n', "[[gateway.rules]] #1: domain 'a b.test'"),
    ('[[gateway.rules]]\ndomain = "a.*.test"\npolicy = "deny"\n', "[[gateway.rules]] #1: domain 'a.*.test'"),
    ('[[gateway.rules]]\ndomain = "*.com"\npolicy = "deny"\n', "[[gateway.rules]] #1: domain '*.com' is too wide"),
    (RULE + 'resources = ["^/(x"]\n', "[[gateway.rules]] #1: resources: '^/(x' does not compile"),
    (RULE + 'resources = ["^/(a+)+$"]\n', "[[gateway.rules]] #1: resources: '^/(a+)+$' can backtrack"),
    (RULE + 'resources = ["^/(a|a)*$"]\n', "[[gateway.rules]] #1: resources: '^/(a|a)*$' can backtrack"),
    (RULE + 'methods = ["FETCH"]\n', "[[gateway.rules]] #1: methods: 'FETCH' is not one of"),
    (RULE + 'subject = ["support"]\n', "[[gateway.rules]] #1: subject 'support' must be"),
    (RULE + 'subject = ["role:x"]\n', "[[gateway.rules]] #1: subject 'role:x' must be"),
    (RULE + 'subject = ["user:ada"]\n', "[[gateway.rules]] #1: subject 'user:ada': not an email"),
    (RULE + 'networks = ["10.0.0.300/8"]\n', "[[gateway.rules]] #1: networks: '10.0.0.300/8' is not"),
    (RULE + RULE + 'networks = "10.0.0.0/8"\n', "[[gateway.rules]] #2: networks must be a list of strings"),
]


@pytest.mark.parametrize(("toml", "message"), BAD, ids=[message for _, message in BAD])
def test_a_mistake_is_one_line_naming_the_rule_and_key(toml, message):
    with pytest.raises(ConfigError) as caught:
        parse(toml)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


# pattern -> refused as catastrophic?
PATTERNS = [
    ("^/customers/(?P<customer>[^/]+)", False),
    ("^/customers/(?P<customer>[0-9]+)$", False),
    ("^/(a|b)*$", False),
    ("^/(?:ab|cd)+$", False),
    ("^/a{1,5}b+$", False),
    ("^/(?:x/)?y$", False),
    ("(a+)+", True),
    ("(a*)*", True),
    ("(a|a)*", True),
    ("(a|ab)+", True),
    ("(x|)*", True),
    ("(.*a){12}", True),
    (r"(\w+\s?)*$", True),
    ("^(([a-z])+.)+[A-Z]([a-z])+$", True),
    ("(?:[a-z]+/)*", True),  # safe in fact, refused by the conservative check (docs/gateway.md)
    (r"(a)\1*", True),
]


@pytest.mark.parametrize(("pattern", "refused"), PATTERNS, ids=[p for p, _ in PATTERNS])
def test_regexes_that_can_backtrack_catastrophically_are_refused(pattern, refused):
    assert (backtracking_risk(pattern) is not None) is refused


def test_the_example_config_has_a_gateway_section_that_loads():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "deploy" / "smishguard.toml").read_text(encoding="utf-8")
    policy = rules.parse(tomllib.loads(text))
    assert policy.default_policy == "deny"
    assert policy.trusted_proxies == rules.DEFAULT_TRUSTED_PROXIES
    assert [rule.policy for rule in policy.rules] == ["step_up", "signed_in"]
    assert policy.groups == {"support", "security"}


def test_the_fingerprint_follows_the_policy_not_the_files_layout():
    one = tomllib.loads(
        '[gateway]\ndefault_policy = "deny"\n[[gateway.rules]]\ndomain = "a.example.com"\npolicy = "deny"\n'
    )
    same = tomllib.loads(
        '# a comment\norigin = "https://auth.example.com"\n\n[[gateway.rules]]\npolicy = "deny"   # keys reordered\n'
        'domain = "a.example.com"\n\n[gateway]\ndefault_policy = "deny"\n'
    )
    other = tomllib.loads(
        '[gateway]\ndefault_policy = "deny"\n[[gateway.rules]]\ndomain = "b.example.com"\npolicy = "deny"\n'
    )
    assert rules.fingerprint(one) == rules.fingerprint(same)
    assert rules.fingerprint(one) != rules.fingerprint(other)
    assert rules.fingerprint({}) != rules.fingerprint(one)
    assert len(rules.fingerprint(one)) == 12
