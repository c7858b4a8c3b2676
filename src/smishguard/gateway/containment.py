"""Releasing a contained employee: one admin asks, a second approves (accounts' four-eyes flow).

Containment itself happens at the check (``gateway.access``).  A release is a four-eyes request of the kind
``gateway_release`` that this app registers with ``accounts.approvals`` (``GatewayConfig.ready()``):

- :func:`request_release` (``smishguard gateway release EMAIL --as ADMIN``, or the button on the console's
  employee page): an active admin who is not the contained employee opens the request through
  ``accounts.services.open_request``, which judges who asks and asks :func:`_may_open_release` (audited
  ``gateway:containment:release_requested``); nothing is lifted yet;
- a second admin approves it (``smishguard employees approve ID --as OTHER_ADMIN``, or Four-eyes requests in the
  console): ``accounts.services.approve`` checks that they count (not the requester, not the employee, admin rights
  and key old enough) and calls :func:`_approve_release` in its transaction, which lifts the containment (audited
  ``gateway:containment:released``).  The employee then signs in again (their sessions were revoked).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import services
from smishguard.accounts.models import Employee, RecoveryRequest
from smishguard.audit import Action, record
from smishguard.errors import Conflict
from smishguard.gateway.models import Containment

RELEASE_KIND = "gateway_release"
RELEASE_LABEL = "Release from containment (bulk read)"


def containment_of(employee: Employee) -> Containment | None:
    """The employee's containment when they are contained now, else None."""
    return Containment.objects.filter(employee_id=employee.pk, contained_at__isnull=False).first()


def pending_release(employee: Employee) -> RecoveryRequest | None:
    return services.pending_request(employee, RELEASE_KIND)


def _may_open_release(employee: Employee) -> None:
    """A release is asked for only while the employee is contained (accounts.services.open_request asks)."""
    if containment_of(employee) is None:
        raise Conflict(f"{employee.email} is not contained")


def request_release(
    employee: Employee, *, actor: Employee, request: HttpRequest | None = None, reason: str = ""
) -> RecoveryRequest:
    """Open the four-eyes request that lifts ``employee``'s containment (the pending one, if there is one).

    accounts.services.open_request judges who asks (an active admin, not the contained employee) and asks
    :func:`_may_open_release` whether the employee is contained."""
    return services.open_request(
        employee,
        RELEASE_KIND,
        Action.GATEWAY_RELEASE_REQUESTED,
        actor=actor,
        request=request,
        reason=reason or "release from containment",
    )


def _approve_release(rec: RecoveryRequest, approver: Employee, request: HttpRequest | None) -> str:
    """A second admin approved (accounts.services.approve, in its transaction): lift the containment."""
    employee = rec.employee
    state = Containment.objects.select_for_update().filter(employee_id=employee.pk).first()
    if state is None or state.contained_at is None:
        raise Conflict(f"{employee.email} is not contained (any more)")
    Containment.objects.filter(employee_id=employee.pk).update(
        contained_at=None,
        released_at=timezone.now(),
        released_by=f"{rec.requested_by_label}, approved by {approver.email}"[:254],
    )
    record(
        Action.GATEWAY_CONTAINMENT_RELEASED,
        request=request,
        actor=approver,
        subject=employee,
        request_id=rec.pk,
        requested_by=rec.requested_by_label,
        approved_by=approver.email,
        contained_at=state.contained_at.isoformat(),
        customers=state.customers,
        max_customers=state.max_customers,
    )
    return f"{employee.email} is released: customer data is open to them again (after a new sign-in)"


def register() -> None:
    from smishguard.accounts import approvals

    approvals.register_kind(
        RELEASE_KIND,
        label=RELEASE_LABEL,
        approve=_approve_release,
        button="Approve the release",
        can_open=_may_open_release,
    )
