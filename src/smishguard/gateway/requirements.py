"""Requirements a rule may add to its policy, met or not per employee, that apps above the gateway define.

A ``[[gateway.rules]]`` table with ``training_required = true`` admits an employee only when the ``training``
requirement is met; ``training`` (above the gateway) registers it in its ``AppConfig.ready()``
(``training/compliance_hooks.py``): ``register(name, check, reason=..., url=...)``, where ``check(employee_id)``
answers True when the employee meets it and ``url`` says where they meet it: a path on smishguard's origin, or a
function of the employee id that gives one (asked only when a refusal is answered: the overdue module's page). The
check runs on every request such a rule would admit, never on another rule's (no cost for them), and nothing of its
answer is kept: what changes it (a pass) counts on the very next request. A requirement nobody registered is unmet
(the gateway fails closed) and says so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("smishguard.gateway")

# The requirement each rule key asks for: ``training_required = true`` -> "training".
TRAINING = "training"


@dataclass(frozen=True)
class Requirement:
    name: str
    check: Callable[[int], bool]  # employee id -> met
    reason: str  # X-Smishguard-Reason of the 403 when unmet (training_overdue)
    url: str | Callable[[int], str]  # where the person meets it: a path on smishguard's origin, or employee id -> path

    def location(self, employee_id: int | None) -> str:
        """The path where the employee meets it."""
        if callable(self.url):
            return self.url(employee_id) if employee_id is not None else "/"
        return self.url


_registry: dict[str, Requirement] = {}


def register(name: str, check: Callable[[int], bool], *, reason: str, url: str | Callable[[int], str]) -> None:
    """Make ``check`` the requirement ``name`` (registering the same name again replaces it)."""
    _registry[name] = Requirement(name, check, reason, url)


def registered(name: str) -> Requirement | None:
    return _registry.get(name)


def by_reason(reason: str) -> Requirement | None:
    """The registered requirement whose refusal says ``reason`` (None for any other reason)."""
    return next((found for found in _registry.values() if found.reason == reason), None)


def unmet(names: tuple[str, ...], employee_id: int) -> Requirement | None:
    """The first of ``names`` the employee does not meet (None: all met).  An unregistered name is unmet, with
    the reason ``forbidden``."""
    for name in names:
        found = _registry.get(name)
        if found is None:
            log.error("gateway: the requirement %r is not registered: the rule refuses everyone", name)
            return Requirement(name, lambda _employee_id: False, "forbidden", "/")
        if not found.check(employee_id):
            return found
    return None
