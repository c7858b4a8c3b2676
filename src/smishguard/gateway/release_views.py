"""The console's side of containment: a panel on the employee page (registered with ``accounts.panels``) saying
whether the employee is contained, with the button that opens the release request (``gateway.containment``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from smishguard.accounts.models import Employee
from smishguard.accounts.page_actions import act
from smishguard.accounts.page_guards import admin_only
from smishguard.gateway import containment


def employee_containment(request: HttpRequest, employee: Employee) -> dict[str, object]:  # noqa: ARG001
    """The "Gateway containment" panel's context: the containment (when contained) and a pending release."""
    state = containment.containment_of(employee)
    return {
        "containment": state,
        "pending_release": containment.pending_release(employee) if state is not None else None,
    }


@require_POST
@admin_only
def request_release(request: HttpRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    return act(
        request,
        lambda: containment.request_release(employee, actor=request.user, request=request),
        success=lambda rec: (
            f"Release request #{rec.pk} for {employee.name} is open: a second admin approves it "
            "under Four-eyes requests."
        ),
        back=reverse("accounts:console-employee", args=[employee.pk]),
    )
