"""The registry of four-eyes request kinds that apps above ``accounts`` add (DESIGN.md: a lower app offers a
registry, a higher one fills it in its ``AppConfig.ready()``).

``accounts`` knows its own kinds (recovery, admin rights, an admin's first enrolment link).  An app above it with
something that must take two admins (the gateway: lifting an employee's containment) registers a kind: its name
(stored in ``RecoveryRequest.kind``, at most 16 characters), a label for the console, and what an approval does,
called by ``accounts.services.approve`` inside the approval's transaction with the request row locked, after the
second admin's eligibility was checked (``approval_refusals``: not the requester, not the subject, old enough).
It returns one sentence saying what was done (printed by ``smishguard employees approve``, shown in the console).
A kind whose request is about something the requester asks to do rather than about another employee (training: a
simulation launched to many people) says ``about_requester=True``: its request's employee is the requester, a new
one is opened each time (the app links it to what it is about), and the approver must be someone else.
Opening a request of the kind: ``accounts.services.open_request`` (an active admin, about someone else), after the
kind's ``can_open(employee)``, if it has one, raised nothing (e.g. the gateway: the employee is contained).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# (request, approver, http_request) -> what was done.  Typed loosely: accounts.models asks this module for a
# kind's label, so this module names no model (no import cycle inside accounts).
Approve = Callable[..., str]
# (employee) -> None, or a narrow error (smishguard.errors) saying why no request of the kind can be opened now.
CanOpen = Callable[..., None]


@dataclass(frozen=True)
class ApprovalKind:
    name: str
    label: str
    approve: Approve
    button: str = "Approve"  # the console's approve button
    can_open: CanOpen | None = None
    about_requester: bool = False  # the request is about the requester's own act (see the module's note)


_kinds: dict[str, ApprovalKind] = {}


def register_kind(
    name: str,
    *,
    label: str,
    approve: Approve,
    button: str = "Approve",
    can_open: CanOpen | None = None,
    about_requester: bool = False,
) -> None:
    """Add (or, under the same name, replace) a kind of four-eyes request."""
    if not name or len(name) > 16:
        raise ValueError(f"a request kind's name is 1-16 characters: {name!r}")
    _kinds[name] = ApprovalKind(name, label, approve, button, can_open, about_requester)


def registered(name: str) -> ApprovalKind | None:
    return _kinds.get(name)
