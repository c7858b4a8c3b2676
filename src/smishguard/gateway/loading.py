"""What loading the policy needs the database for: every group a rule names must exist."""

from __future__ import annotations

from smishguard.accounts.models import Group
from smishguard.config import ConfigError
from smishguard.gateway.rules import GatewayPolicy


def check_groups(policy: GatewayPolicy) -> None:
    """ConfigError naming the first rule whose ``subject`` names a group that does not exist."""
    named = policy.groups | policy.containment.group_names
    if not named:
        return
    existing = set(Group.objects.filter(name__in=named).values_list("name", flat=True))
    for rule in policy.rules:
        missing = sorted(rule.groups - existing)
        if missing:
            raise ConfigError(
                f"[[gateway.rules]] #{rule.number}: subject: no such group: {', '.join(missing)} "
                "(a group is made by putting an employee in it: `smishguard employees add EMAIL --group NAME` "
                "or the console)"
            )
    # [gateway.containment.groups.NAME]: the same check (gateway.containment's thresholds per group).
    missing = sorted(policy.containment.group_names - existing)
    if missing:
        raise ConfigError(
            f"[gateway.containment.groups.{missing[0]}]: no such group: {', '.join(missing)} "
            "(a group is made by putting an employee in it: `smishguard employees add EMAIL --group NAME` "
            "or the console)"
        )
