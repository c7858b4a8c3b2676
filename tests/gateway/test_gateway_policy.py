"""Issue 14: the gateway's decision (smishguard.gateway.policy): first matching rule wins, a rule whose criteria do
not all hold is skipped, default deny, an unknown host refused.  Pure functions: the same in both modes."""

from __future__ import annotations

import tomllib

import pytest

from smishguard.gateway import rules
from smishguard.gateway.normalise import normalise
from smishguard.gateway.policy import Decision, Who, decide

POLICY = rules.parse(
    tomllib.loads(
        """
[gateway]
default_policy = "deny"

[[gateway.rules]]   # 1: nobody edits customers from outside the office
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["POST", "PUT", "PATCH", "DELETE"]
networks = ["198.51.100.0/24"]
policy = "deny"

[[gateway.rules]]   # 2: support and security read customers after a recent key touch
domain = "customers.example.com"
resources = ["^/customers/(?P<customer>[^/]+)"]
methods = ["GET", "HEAD"]
subject = ["group:support", "group:security", "user:ada@example.com"]
networks = ["10.0.0.0/8", "2001:db8::/32"]
policy = "step_up"
reauth_max_age = 900

[[gateway.rules]]   # 3: the customer list, for anyone signed in
domain = "customers.example.com"
resources = ["^/customers/?$", "^/static/"]
policy = "signed_in"

[[gateway.rules]]   # 4: the admin pages, nobody
domain = "customers.example.com"
resources = ["^/admin"]
policy = "deny"

[[gateway.rules]]   # 5: any other internal app, signed in
domain = "*.apps.example.com"
policy = "signed_in"
"""
    )
)

ADA = Who("ada@example.com")
SUPPORT = Who("bob@example.com", frozenset({"support"}))
SALES = Who("carol@example.com", frozenset({"sales"}))
OFFICE = "10.1.2.3"
CAFE = "203.0.113.9"

C = "https://customers.example.com"

# (method, URL, who, client, seconds since key) -> Decision
CASES = [
    (
        "step_up rule, fresh key",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        OFFICE,
        60,
        Decision("allow", 2, "step_up_fresh", "7"),
    ),
    (
        "step_up rule, at the limit",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        OFFICE,
        900,
        Decision("allow", 2, "step_up_fresh", "7"),
    ),
    (
        "step_up rule, stale key",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        OFFICE,
        901,
        Decision("step_up", 2, "step_up", "7"),
    ),
    (
        "step_up rule, no key touch known",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        OFFICE,
        None,
        Decision("step_up", 2, "step_up", "7"),
    ),
    ("a listed user", "HEAD", f"{C}/customers/7/notes", ADA, OFFICE, 0, Decision("allow", 2, "step_up_fresh", "7")),
    (
        "IPv6 in a listed network",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        "2001:db8::5",
        0,
        Decision("allow", 2, "step_up_fresh", "7"),
    ),
    (
        "IPv4-mapped IPv6",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        "::ffff:10.1.2.3",
        0,
        Decision("allow", 2, "step_up_fresh", "7"),
    ),
    (
        "signed out, subject rule",
        "GET",
        f"{C}/customers/7",
        None,
        OFFICE,
        None,
        Decision("sign_in", 2, "signed_out", "7"),
    ),
    (
        "wrong group: skipped, default deny",
        "GET",
        f"{C}/customers/7",
        SALES,
        OFFICE,
        0,
        Decision("deny", None, "subject"),
    ),
    (
        "wrong network: skipped, default deny",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        CAFE,
        0,
        Decision("deny", None, "network"),
    ),
    ("no client address, network rule", "GET", f"{C}/customers/7", SUPPORT, None, 0, Decision("deny", None, "network")),
    (
        "bad client address, network rule",
        "GET",
        f"{C}/customers/7",
        SUPPORT,
        "nonsense",
        0,
        Decision("deny", None, "network"),
    ),
    (
        "wrong method for rule 2, wrong network for rule 1: the closer is said",
        "POST",
        f"{C}/customers/7",
        SUPPORT,
        OFFICE,
        0,
        Decision("deny", None, "network"),
    ),
    (
        "deny rule first",
        "DELETE",
        f"{C}/customers/7",
        SUPPORT,
        "198.51.100.4",
        0,
        Decision("deny", 1, "forbidden", "7"),
    ),
    (
        "deny rule even signed out",
        "DELETE",
        f"{C}/customers/7",
        None,
        "198.51.100.4",
        None,
        Decision("deny", 1, "forbidden", "7"),
    ),
    ("signed_in rule", "GET", f"{C}/customers", SALES, CAFE, 5000, Decision("allow", 3, "signed_in")),
    (
        "signed_in rule, second resource",
        "POST",
        f"{C}/static/app.css",
        SALES,
        None,
        None,
        Decision("allow", 3, "signed_in"),
    ),
    ("signed_in rule, signed out", "GET", f"{C}/customers/", None, CAFE, None, Decision("sign_in", 3, "signed_out")),
    (
        "dot segments reach the deny rule",
        "GET",
        f"{C}/customers/../admin/users",
        ADA,
        OFFICE,
        0,
        Decision("deny", 4, "forbidden"),
    ),
    (
        "encoded dots reach the deny rule",
        "GET",
        f"{C}/customers/%2e%2e/admin",
        ADA,
        OFFICE,
        0,
        Decision("deny", 4, "forbidden"),
    ),
    ("repeated slashes", "GET", f"{C}//customers//7", SUPPORT, OFFICE, 0, Decision("allow", 2, "step_up_fresh", "7")),
    ("allowed path in the query", "GET", f"{C}/admin?x=/customers/1", ADA, OFFICE, 0, Decision("deny", 4, "forbidden")),
    (
        "allowed path in the query, no rule",
        "GET",
        f"{C}/other?x=/customers",
        SALES,
        OFFICE,
        0,
        Decision("deny", None, "no_rule"),
    ),
    (
        "uppercase host",
        "GET",
        "https://CUSTOMERS.example.com/customers",
        SALES,
        None,
        0,
        Decision("allow", 3, "signed_in"),
    ),
    ("wildcard domain", "GET", "https://wiki.apps.example.com/x", SALES, None, 0, Decision("allow", 5, "signed_in")),
    (
        "wildcard domain, signed out",
        "GET",
        "https://wiki.apps.example.com/x",
        None,
        None,
        None,
        Decision("sign_in", 5, "signed_out"),
    ),
    (
        "the wildcard's apex is unknown",
        "GET",
        "https://apps.example.com/x",
        SALES,
        None,
        0,
        Decision("deny", None, "unknown_host"),
    ),
    ("unknown host", "GET", "https://evil.example/customers/1", ADA, OFFICE, 0, Decision("deny", None, "unknown_host")),
    (
        "unknown host, signed out",
        "GET",
        "https://evil.example/",
        None,
        None,
        None,
        Decision("deny", None, "unknown_host"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_the_decision(case):
    _name, method, url, who, client, seconds, expected = case
    decision = decide(POLICY, normalise(method, url), who=who, client=client, seconds_since_key=seconds)
    assert decision == expected


def test_default_signed_in_admits_any_employee_on_a_known_host_and_asks_a_visitor_to_sign_in():
    policy = rules.parse(
        tomllib.loads(
            '[gateway]\ndefault_policy = "signed_in"\n'
            '[[gateway.rules]]\ndomain = "a.example.com"\nresources = ["^/admin"]\npolicy = "deny"\n'
        )
    )
    page = normalise("GET", "https://a.example.com/page")
    assert decide(policy, page, who=SALES) == Decision("allow", None, "default")
    assert decide(policy, page, who=None) == Decision("sign_in", None, "signed_out")
    assert decide(policy, normalise("GET", "https://a.example.com/admin"), who=SALES) == Decision(
        "deny", 1, "forbidden"
    )
    assert decide(policy, normalise("GET", "https://b.example.com/"), who=SALES).reason == "unknown_host"


def test_the_reason_is_the_criterion_of_the_skipped_rule_that_came_closest():
    """Two rules cover the path; the first fails on its method, the second (later) on its subject: "subject"."""
    policy = rules.parse(
        tomllib.loads(
            '[[gateway.rules]]\ndomain = "a.example.com"\nmethods = ["POST"]\npolicy = "signed_in"\n'
            '[[gateway.rules]]\ndomain = "a.example.com"\nsubject = ["group:x"]\npolicy = "signed_in"\n'
        )
    )
    assert decide(policy, normalise("GET", "https://a.example.com/"), who=SALES) == Decision("deny", None, "subject")
    assert decide(policy, normalise("PUT", "https://a.example.com/"), who=SALES) == Decision("deny", None, "subject")
    only_method = rules.parse(
        tomllib.loads('[[gateway.rules]]\ndomain = "a.example.com"\nmethods = ["POST"]\npolicy = "signed_in"\n')
    )
    assert decide(only_method, normalise("GET", "https://a.example.com/"), who=SALES).reason == "method"


def test_a_decision_is_immutable_and_says_itself_as_four_keys():
    decision = Decision("allow", 2, "step_up_fresh", "7")
    assert decision.allowed
    assert decision.as_dict() == {"decision": "allow", "rule": 2, "reason": "step_up_fresh", "customer": "7"}
    with pytest.raises(AttributeError):
        decision.decision = "deny"  # type: ignore[misc]
