"""The home pages: the portal's overview (keys, sessions, recent events) and the console's front door."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from smishguard.accounts import sessions
from smishguard.accounts.page_guards import admin_only, signed_in
from smishguard.audit.models import Event
from smishguard.passkeys import keys


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


@require_GET
@admin_only
def console_home(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:console-employees")
