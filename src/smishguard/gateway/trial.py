"""Try a request against the route policy: ``smishguard gateway check`` and the console's "try a request" form.

Both ask the same question the same way — the URL normalised as the gateway does, the employee's groups from the
database, the rules of the running policy — and show the deciding rule, the decision and why.  A request the
gateway would refuse before any rule (a malformed URL), an unknown or inactive employee, a bad client address or
a policy naming a group that does not exist is a :class:`TrialError` with one readable line.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from smishguard.accounts.models import Employee
from smishguard.config import ConfigError
from smishguard.errors import SmishguardError
from smishguard.gateway import loading
from smishguard.gateway.errors import RequestRefused
from smishguard.gateway.normalise import NormalRequest, normalise
from smishguard.gateway.policy import Decision, Who, decide
from smishguard.gateway.rules import GatewayPolicy, Rule

EXPLAINED = {
    "signed_in": "the rule admits any signed-in employee it covers",
    "step_up_fresh": "the session touched its key within the rule's reauth_max_age",
    "default": "no rule matched; default_policy is signed_in",
    "signed_out": "not signed in: the sign-in page",
    "step_up": "the session's last key touch is older than the rule's reauth_max_age: touch the key again",
    "forbidden": "the rule denies this request",
    "unknown_host": "no rule names this host",
    "no_rule": "no rule covers this path; default_policy is deny",
    "method": "the closest rule covering this path does not take this method; default_policy is deny",
    "network": "the closest rule covering this path does not take this client address; default_policy is deny",
    "subject": "the closest rule covering this path does not name this employee or their groups; "
    "default_policy is deny",
}


class TrialError(SmishguardError):
    """The request cannot be tried (one readable line)."""

    code = "invalid_trial"


@dataclass(frozen=True)
class Trial:
    request: NormalRequest
    who: Who | None
    decision: Decision
    rule: Rule | None

    @property
    def asker(self) -> str:
        return self.who.email if self.who is not None else "a visitor who is not signed in"

    @property
    def explanation(self) -> str:
        return EXPLAINED.get(self.decision.reason, self.decision.reason)

    def lines(self, policy: GatewayPolicy) -> list[str]:
        """What ``smishguard gateway check`` prints."""
        lines = [
            f"{self.request.method} {self.request.url} as {self.asker}",
            self.rule.describe()
            if self.rule is not None
            else f"no rule decides (default_policy {policy.default_policy})",
            f"decision: {self.decision.decision} ({self.decision.reason}: {self.explanation})",
        ]
        if self.decision.customer is not None:
            lines.append(f"customer: {self.decision.customer}")
        return lines


def run(
    policy: GatewayPolicy,
    *,
    url: str,
    email: str | None = None,
    method: str = "GET",
    address: str | None = None,
    seconds_since_key: float = 0.0,
) -> Trial:
    """The gateway's decision on ``method url`` for the employee ``email`` (None: not signed in), signed in
    ``seconds_since_key`` ago, from ``address`` (None: unknown)."""
    try:
        loading.check_groups(policy)
    except ConfigError as exc:
        raise TrialError(str(exc)) from None
    method = method.strip()
    try:
        request = normalise(method.upper() if method.isascii() else method, url.strip())
    except RequestRefused as exc:
        raise TrialError(f"the gateway refuses this request ({exc.reason}): {exc.message}") from None
    if address:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise TrialError(f"{address!r} is not an IP address") from None
    if not seconds_since_key >= 0:  # also NaN
        raise TrialError("the seconds since the last key touch must be a number >= 0")
    who = None
    if email:
        email = email.strip().lower()
        employee = Employee.objects.filter(email=email).prefetch_related("groups").first()
        if employee is None:
            raise TrialError(f"no employee with the email {email!r}")
        if employee.status != Employee.Status.ACTIVE:
            raise TrialError(f"{email} is {employee.status}: they cannot sign in")
        who = Who(email=employee.email, groups=frozenset(g.name for g in employee.groups.all()))
    decision = decide(
        policy,
        request,
        who=who,
        client=address or None,
        seconds_since_key=seconds_since_key if who is not None else None,
    )
    rule = next((r for r in policy.rules if r.number == decision.rule), None)
    return Trial(request=request, who=who, decision=decision, rule=rule)
