"""Sign-in, sign-out and enrolment pages.  The WebAuthn ceremonies themselves run in static/js/webauthn.js
against the JSON API; these pages only render the forms and say clearly when a link cannot be used."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from smishguard.accounts import services, sessions
from smishguard.accounts.errors import EnrolmentLinkInvalid
from smishguard.accounts.middleware import clear_session_cookie
from smishguard.accounts.models import EnrolmentLink, Session, token_digest
from smishguard.accounts.page_guards import safe_next
from smishguard.accounts.throttle import account_refusal, enrolment_account
from smishguard.audit import Action


@ensure_csrf_cookie
@require_http_methods(["GET"])
def signin(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url)
    # A cookie whose session has ended: say why (to the browser holding it, about that session only), once.
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    ended = sessions.why_ended(cookie)
    response = render(
        request,
        "web/signin.html",
        {"next": next_url, "email": request.GET.get("email", "")[:254], "ended": ended},
    )
    if cookie is not None:
        clear_session_cookie(response)
    return response


@require_http_methods(["GET", "POST"])
def signout(request: HttpRequest) -> HttpResponse:
    session = getattr(request, "sg_session", None)
    if session is None:
        return redirect("web:signin")
    if request.method == "GET":
        return render(request, "web/signout.html")
    sessions.revoke(
        Session.objects.filter(pk=session.pk),
        reason="signed out",
        request=request,
        action=Action.SESSION_SIGNED_OUT,
    )
    messages.success(request, "You are signed out.")
    response = redirect("web:signin")
    clear_session_cookie(response)
    return response


def _link_status(token: str) -> int:
    """410 Gone for a link that existed but can no longer be used; 400 for one that never existed."""
    if not token or len(token) > 128:
        return 400
    link = EnrolmentLink.objects.filter(token_hash=token_digest(token)).first()
    if link is None:
        return 400
    return 410 if (link.used_at or link.revoked_at or not link.is_usable) else 400


@ensure_csrf_cookie
@require_http_methods(["GET"])
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    refused = account_refusal(request, "enrol", enrolment_account(token))
    if refused is not None:
        return refused
    try:
        link = services.usable_link(token)
    except EnrolmentLinkInvalid as exc:
        return render(request, "web/enrol_invalid.html", {"reason": exc.message}, status=_link_status(token))
    return render(request, "web/enrol.html", {"link": link, "employee": link.employee, "token": token})
