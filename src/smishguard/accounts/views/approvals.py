"""Console: four-eyes requests (recoveries, an admin's first enrolment link, admin rights), and the menu's count of
those waiting."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from smishguard.accounts import notices, services, sessions
from smishguard.accounts.models import RecoveryRequest
from smishguard.accounts.page_errors import flash_errors
from smishguard.accounts.page_guards import admin_only


def pending_requests(request: HttpRequest) -> int:  # noqa: ARG001 - a menu badge's signature (accounts.nav)
    """The menu's count beside "Four-eyes requests": requests waiting for a second admin."""
    return RecoveryRequest.objects.filter(status=RecoveryRequest.Status.PENDING).count()


@require_GET
@admin_only
def recovery(request: HttpRequest) -> HttpResponse:
    pending = RecoveryRequest.objects.filter(status=RecoveryRequest.Status.PENDING).select_related(
        "employee", "requested_by"
    )
    decided = (
        RecoveryRequest.objects.exclude(status=RecoveryRequest.Status.PENDING)
        .select_related("employee", "decided_by")
        .order_by("-decided_at", "-requested_at")[:20]
    )
    context = {
        "pending": pending,
        "decided": decided,
        "nav": "recovery",
        "min_age_days": settings.SMISHGUARD.approvals.min_age_days,
    }
    return render(request, "accounts/console/recovery.html", context)


@require_POST
@admin_only
@flash_errors("accounts:console-recovery")
def approve_recovery(request: HttpRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(RecoveryRequest.objects.select_related("employee"), pk=pk)
    sessions.require_fresh_assertion(request, what="approving a four-eyes request")
    approval = services.approve(rec.pk, approver=request.user, request=request)
    if approval.done:  # a kind an app registered (accounts.approvals)
        messages.success(request, f"Approved request #{rec.pk}: {approval.done}")
    elif approval.link is None:
        messages.success(request, f"Approved request #{rec.pk}: {rec.employee.name} is now an admin.")
    else:
        label = "recovery" if rec.kind == RecoveryRequest.Kind.RECOVERY else "first enrolment link"
        messages.success(request, f"Approved {label} #{rec.pk} for {rec.employee.name}.")
        # Shown once, on the next page, from server-side state (accounts.notices), never from a cookie.
        notices.hold(request, approval.link.url, approval.link.expires)
    return redirect("accounts:console-employee", pk=rec.employee.pk)


@require_POST
@admin_only
@flash_errors("accounts:console-recovery")
def refuse_recovery(request: HttpRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(RecoveryRequest.objects.select_related("employee"), pk=pk)
    services.refuse_recovery(rec.pk, approver=request.user, request=request)
    label = "recovery" if rec.kind == RecoveryRequest.Kind.RECOVERY else "request"
    messages.success(request, f"Refused {label} #{rec.pk} for {rec.employee.name}. Nothing was issued or granted.")
    return redirect("accounts:console-recovery")
