"""The employee portal's sessions page ("my sessions"), and signing out."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from smishguard.accounts import sessions
from smishguard.accounts.middleware import clear_session_cookie
from smishguard.accounts.models import Session
from smishguard.accounts.page_actions import plural
from smishguard.accounts.page_guards import signed_in
from smishguard.audit import Action


@require_http_methods(["GET", "POST"])
def signout(request: HttpRequest) -> HttpResponse:
    session = getattr(request, "sg_session", None)
    if session is None:
        return redirect(settings.LOGIN_URL)
    if request.method == "GET":
        return render(request, "accounts/signout.html")
    sessions.revoke(
        Session.objects.filter(pk=session.pk),
        reason="signed out",
        request=request,
        action=Action.SESSION_SIGNED_OUT,
    )
    messages.success(request, "You are signed out.")
    response = redirect(settings.LOGIN_URL)
    clear_session_cookie(response)
    return response


@require_GET
@signed_in
def my_sessions(request: HttpRequest) -> HttpResponse:
    mine = sessions.live().filter(employee=request.user).select_related("credential").order_by("-last_seen_at")
    return render(
        request,
        "accounts/portal/sessions.html",
        {
            "sessions": mine,
            "current_id": request.sg_session.pk,
            "idle_minutes": settings.SMISHGUARD.sessions.idle_timeout_seconds // 60,
            "lifetime_hours": settings.SMISHGUARD.sessions.absolute_lifetime_seconds // 3600,
            "nav": "sessions",
        },
    )


@require_POST
@signed_in
def end_session(request: HttpRequest, pk: int) -> HttpResponse:
    target = sessions.live().filter(employee=request.user, pk=pk)
    if not target.exists():
        raise Http404("no such session")
    if pk == request.sg_session.pk:
        sessions.revoke(target, reason="signed out", request=request, action=Action.SESSION_SIGNED_OUT)
        messages.success(request, "You ended this session and are signed out.")
        response = redirect(settings.LOGIN_URL)
        clear_session_cookie(response)
        return response
    sessions.revoke(target, reason="ended by employee", request=request)
    messages.success(request, "Session ended. That device is signed out.")
    return redirect("accounts:portal-sessions")


@require_POST
@signed_in
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    others = Session.objects.filter(employee=request.user).exclude(pk=request.sg_session.pk)
    count = sessions.revoke(others, reason="ended by employee", request=request)
    if count:
        messages.success(request, f"Ended {plural(count, 'other session')}. Only this browser is signed in now.")
    else:
        messages.info(request, "There were no other sessions to end.")
    return redirect("accounts:portal-sessions")
