"""Console: every live session, revoking one, revoking them all."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from smishguard.accounts import sessions
from smishguard.accounts.middleware import clear_session_cookie
from smishguard.accounts.models import Session
from smishguard.accounts.page_actions import plural
from smishguard.accounts.page_guards import admin_only


@require_GET
@admin_only
def all_sessions(request: HttpRequest) -> HttpResponse:
    live = sessions.live().select_related("employee", "credential").order_by("-last_seen_at")
    page = Paginator(live, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/console/sessions.html",
        {"page": page, "current_id": request.sg_session.pk, "nav": "console-sessions"},
    )


@require_POST
@admin_only
def revoke_session(request: HttpRequest, pk: int) -> HttpResponse:
    target = Session.objects.filter(pk=pk)
    session = get_object_or_404(target.select_related("employee"))
    count = sessions.revoke(target, reason="revoked by admin", request=request)
    if pk == request.sg_session.pk:
        messages.success(request, "You revoked your own session and are signed out.")
        response = redirect(settings.LOGIN_URL)
        clear_session_cookie(response)
        return response
    if count:
        messages.success(request, f"Revoked a session of {session.employee.name}. That device is signed out now.")
    else:
        messages.info(request, "That session had already ended.")
    return redirect("accounts:console-sessions")


@require_http_methods(["GET", "POST"])
@admin_only
def revoke_all(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        others = sessions.live().exclude(pk=request.sg_session.pk)
        return render(
            request,
            "accounts/console/revoke_all_confirm.html",
            {
                "session_count": others.count(),
                "employee_count": others.values("employee").distinct().count(),
                "nav": "console-sessions",
            },
        )
    sessions.require_fresh_assertion(request, what="revoking every session")
    if request.POST.get("confirm") != "REVOKE ALL":
        messages.error(request, "Type REVOKE ALL to confirm.")
        return redirect("accounts:console-revoke-all")
    include_mine = request.POST.get("include_mine") == "on"
    targets = Session.objects.all() if include_mine else Session.objects.exclude(pk=request.sg_session.pk)
    count = sessions.revoke(targets, reason="all sessions revoked by admin", request=request)
    messages.success(request, f"Revoked {plural(count, 'session')}. Everyone must sign in again with their key.")
    if include_mine:
        response = redirect(settings.LOGIN_URL)
        clear_session_cookie(response)
        return response
    return redirect("accounts:console-sessions")
