"""The registry of the console employee page's panels from other apps.

The employee page is accounts' (accounts.views.employees.detail); an app above accounts that has something to
show about one employee (passkeys: their security keys) registers a panel in its ``AppConfig.ready()``: a
template to include and a function ``(request, employee) -> dict`` whose result joins the page's context (the
page's own enrolment panel words its advice by the key counts passkeys' panel gives).  So accounts imports no
app above it (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

    from smishguard.accounts.models import Employee


@dataclass(frozen=True)
class EmployeePanel:
    name: str
    template: str
    context: Callable[[HttpRequest, Employee], Mapping[str, object]]
    order: int = 100


_panels: dict[str, EmployeePanel] = {}


def register_employee_panel(
    name: str,
    *,
    template: str,
    context: Callable[[HttpRequest, Employee], Mapping[str, object]],
    order: int = 100,
) -> None:
    """Add (or, under the same name, replace) a panel; panels show in ``order``, then by name."""
    _panels[name] = EmployeePanel(name, template, context, order)


def employee_panels() -> list[EmployeePanel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.name))


def unregister_employee_panel(name: str) -> None:
    """For tests that register a panel of their own."""
    _panels.pop(name, None)
