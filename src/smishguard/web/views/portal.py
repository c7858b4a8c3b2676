"""The employee portal: my overview, my security keys, my sessions."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from smishguard.accounts import sessions
from smishguard.accounts.middleware import clear_session_cookie
from smishguard.accounts.models import Session
from smishguard.accounts.page_guards import signed_in
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.passkeys import keys
from smishguard.passkeys.models import Credential
from smishguard.web.views.common import act, plural

NEW_KEY_DAYS = 14


@require_GET
@signed_in
def overview(request: HttpRequest) -> HttpResponse:
    me = request.user
    my_keys = list(keys.keys_for(me))
    my_sessions = sessions.live().filter(employee=me).count()
    events = Event.objects.filter(subject=me)[:8]
    return render(
        request,
        "web/portal/overview.html",
        {"keys": my_keys, "session_count": my_sessions, "events": events, "nav": "overview"},
    )


@ensure_csrf_cookie
@require_GET
@signed_in
def my_keys(request: HttpRequest) -> HttpResponse:
    my = list(keys.keys_for(request.user))
    # A key added in the last NEW_KEY_DAYS days, or during this session, is marked "new": a key the employee
    # does not recognise is the sign of a stolen session.
    since = min(timezone.now() - timedelta(days=NEW_KEY_DAYS), request.sg_session.created_at)
    for key in my:
        key.is_new = key.created_at >= since
    return render(request, "web/portal/keys.html", {"keys": my, "nav": "keys", "new_key_days": NEW_KEY_DAYS})


def _my_key(request: HttpRequest, pk: int) -> Credential:
    credential = keys.keys_for(request.user).filter(pk=pk).first()
    if credential is None:
        raise Http404("no such key")
    return credential


@require_POST
@signed_in
def rename_key(request: HttpRequest, pk: int) -> HttpResponse:
    credential = _my_key(request, pk)
    name = request.POST.get("name", "")
    return act(
        request,
        lambda: keys.rename_key(credential, name, actor=request.user, request=request),
        success=lambda c: f"Key renamed to “{c.name}”.",
        back=reverse("web:portal-keys"),
    )


@require_POST
@signed_in
def remove_key(request: HttpRequest, pk: int) -> HttpResponse:
    credential = _my_key(request, pk)
    label = credential.name or credential.model or "the key"
    return act(
        request,
        lambda: keys.remove_key(credential, actor=request.user, request=request),
        success=f"Removed “{label}”. It can no longer be used to sign in.",
        back=reverse("web:portal-keys"),
    )


@require_GET
@signed_in
def my_sessions(request: HttpRequest) -> HttpResponse:
    mine = sessions.live().filter(employee=request.user).select_related("credential").order_by("-last_seen_at")
    return render(
        request,
        "web/portal/sessions.html",
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
        response = redirect("web:signin")
        clear_session_cookie(response)
        return response
    sessions.revoke(target, reason="ended by employee", request=request)
    messages.success(request, "Session ended. That device is signed out.")
    return redirect("web:portal-sessions")


@require_POST
@signed_in
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    others = Session.objects.filter(employee=request.user).exclude(pk=request.sg_session.pk)
    count = sessions.revoke(others, reason="ended by employee", request=request)
    if count:
        messages.success(request, f"Ended {plural(count, 'other session')}. Only this browser is signed in now.")
    else:
        messages.info(request, "There were no other sessions to end.")
    return redirect("web:portal-sessions")
