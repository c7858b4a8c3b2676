"""The gateway's decision: small named criteria, each evaluated on its own, combined in one place.

As Pomerium's ``pkg/policy/criteria`` does, each criterion (domain, resource, method, network, subject) is a
function of the rule and the request that says whether it holds; the first that fails names the reason.  As
Authelia's access control does, rules are tried in file order and the first rule whose criteria all hold decides;
a rule with any criterion that fails is skipped, and when none is left the ``default_policy`` decides:

1. No rule names the host (its ``domain``): ``deny``, ``unknown_host``, whatever the default policy.
2. A rule *matches* when its domain names the host, one of its ``resources`` matches the normalised path
   (``re.search``; no resources: every path), and each of ``methods``, ``networks`` and ``subject`` that it
   has holds: the method is listed, the client address is in a listed network, the employee is a listed user or
   in a listed group.  A subject cannot be judged without an employee: a signed-out request that meets a rule's
   other criteria stops there with ``sign_in`` (``signed_out``), since signing in may make it match (Authelia
   does the same).
3. The matching rule's policy: ``deny`` -> deny (``forbidden``); ``signed_in`` -> allow (``signed_in``), or
   ``sign_in`` (``signed_out``) without an employee; ``step_up`` -> allow (``step_up_fresh``) when the session's
   last key assertion is at most ``reauth_max_age`` seconds old, else ``step_up`` (``step_up``); without an
   employee ``sign_in`` (``signed_out``).
4. No rule matched: ``default_policy``.  ``signed_in`` allows a signed-in employee (``default``) and asks anyone
   else to sign in; ``deny`` refuses, and says why: among the rules that matched the domain and a resource but were
   skipped, the criterion of the one that came closest (checked in the order ``method``, ``network``,
   ``subject``: a rule that failed only on its subject came closer than one that failed on its method), else
   ``no_rule``.

``customer`` is the ``customer`` group of the resource that matched in the deciding rule (None otherwise).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from smishguard.clientaddr import in_networks, parse_address
from smishguard.gateway.normalise import NormalRequest
from smishguard.gateway.rules import CUSTOMER_GROUP, GatewayPolicy, Rule

ALLOW, DENY, SIGN_IN, STEP_UP = "allow", "deny", "sign_in", "step_up"


@dataclass(frozen=True)
class Who:
    """The employee behind the request, as far as the decision needs them."""

    email: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    decision: str  # allow | deny | sign_in | step_up
    rule: int | None  # the deciding rule's number (from 1), None for the default policy or an unknown host
    reason: str  # signed_in, step_up_fresh, default, signed_out, step_up, forbidden, unknown_host, no_rule, ...
    customer: str | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    def as_dict(self) -> dict[str, object]:
        return {"decision": self.decision, "rule": self.rule, "reason": self.reason, "customer": self.customer}


@dataclass(frozen=True)
class Asking:
    """Everything the criteria look at."""

    request: NormalRequest
    who: Who | None
    client: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    seconds_since_key: float | None


# --- the criteria: each (rule, asking) -> bool -------------------------------------------------------------------


def method(rule: Rule, asking: Asking) -> bool:
    return not rule.methods or asking.request.method in rule.methods


def network(rule: Rule, asking: Asking) -> bool:
    if not rule.networks:
        return True
    return in_networks(asking.client, rule.networks)


def subject(rule: Rule, asking: Asking) -> bool:
    if not rule.subjects:
        return True
    who = asking.who
    return who is not None and (who.email.lower() in rule.users or bool(who.groups & rule.groups))


# In order: the first that fails is the reason a rule was skipped.
CRITERIA: tuple[tuple[str, Callable[[Rule, Asking], bool]], ...] = (
    ("method", method),
    ("network", network),
    ("subject", subject),
)


def decide(
    policy: GatewayPolicy,
    request: NormalRequest,
    *,
    who: Who | None,
    client: str | None = None,
    seconds_since_key: float | None = None,
) -> Decision:
    """The decision on ``request`` for ``who`` (None: not signed in) from ``client`` (an IP address or None)."""
    if not policy.knows_host(request.host):
        return Decision(DENY, None, "unknown_host")
    asking = Asking(request, who, parse_address(client), seconds_since_key)
    closest: int | None = None  # the furthest criterion a skipped rule reached
    for rule in policy.rules:
        if not rule.matches_domain(request.host):
            continue
        found = rule.match_resource(request.path)
        if found is None:
            continue
        customer = _customer(found)
        failed = next((index for index, (_, holds) in enumerate(CRITERIA) if not holds(rule, asking)), None)
        if failed is None:
            return _apply(rule, asking, customer)
        if CRITERIA[failed][0] == "subject" and who is None:
            return Decision(SIGN_IN, rule.number, "signed_out", customer)
        closest = failed if closest is None else max(closest, failed)
    if policy.default_policy == "signed_in":
        if who is None:
            return Decision(SIGN_IN, None, "signed_out")
        return Decision(ALLOW, None, "default")
    return Decision(DENY, None, "no_rule" if closest is None else CRITERIA[closest][0])


def _apply(rule: Rule, asking: Asking, customer: str | None) -> Decision:
    if rule.policy == "deny":
        return Decision(DENY, rule.number, "forbidden", customer)
    if asking.who is None:
        return Decision(SIGN_IN, rule.number, "signed_out", customer)
    if rule.policy == "signed_in":
        return Decision(ALLOW, rule.number, "signed_in", customer)
    age = asking.seconds_since_key
    if age is None or rule.reauth_max_age is None or age > rule.reauth_max_age:
        return Decision(STEP_UP, rule.number, "step_up", customer)
    return Decision(ALLOW, rule.number, "step_up_fresh", customer)


def _customer(found: object) -> str | None:
    if found is True or found is None:
        return None
    value = found.groupdict().get(CUSTOMER_GROUP)  # type: ignore[attr-defined]
    return value or None
