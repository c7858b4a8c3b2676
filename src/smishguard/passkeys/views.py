"""The security-key pages: sign-in and enrolment, the portal's "my security keys", the console's key coverage
and an admin's removal of an employee's key.  The WebAuthn ceremonies themselves run in static/js/webauthn.js
against the JSON API; the sign-in and enrolment pages only render the forms and say clearly when a link cannot
be used.  (The step-up page is in passkeys.stepup_page, beside the middleware that answers with it.)"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from smishguard.accounts import services as account_services
from smishguard.accounts import sessions
from smishguard.accounts.errors import EnrolmentLinkInvalid
from smishguard.accounts.middleware import clear_session_cookie
from smishguard.accounts.models import Employee, EnrolmentLink, token_digest
from smishguard.accounts.page_actions import act
from smishguard.accounts.page_guards import admin_only, safe_next, signed_in
from smishguard.accounts.redirects import safe_return_url
from smishguard.accounts.throttle import account_refusal, enrolment_account
from smishguard.passkeys import keys, stepup_page
from smishguard.passkeys.coverage import key_coverage
from smishguard.passkeys.models import Credential

NEW_KEY_DAYS = 14
# The gateway's sign-in link (gateway.check.signin_location): the original URL, its method, step-up mode.
RETURN_URL, RETURN_METHOD, STEP_UP_MODE = "rd", "rm", "stepup"
# An original request the sign-in returns to directly; after any other method (a form's POST) the browser lands
# on the default page and the sign-in page says so: a POST is not replayed (docs/gateway.md).
RETURNABLE_METHODS = ("GET", "HEAD")
_METHOD = re.compile(r"[A-Z]{1,20}")

# --- signing in and enrolling ----------------------------------------------------------------------------


def signin_return(request: HttpRequest) -> tuple[str, str]:
    """(where the browser goes after the sign-in, a note for the page).  ``rd`` (as Authelia: the original URL the
    gateway refused, with its method in ``rm``) when given, else ``next``; either only where
    ``accounts.redirects`` allows, else "/" (and login/verify then picks the employee's home page)."""
    rd = request.GET.get(RETURN_URL, "")
    if not rd:
        return safe_next(request), ""
    method = request.GET.get(RETURN_METHOD, "").strip().upper() or "GET"
    if method not in RETURNABLE_METHODS:
        shown = method if _METHOD.fullmatch(method) else "form"
        return "/", (
            f"The page you came from was sending a form ({shown}); it is not sent again. After signing in you "
            "land on your home page: go back to that page and send the form again."
        )
    return safe_return_url(rd, request=request, default="/"), ""


@ensure_csrf_cookie
@require_http_methods(["GET"])
def signin(request: HttpRequest) -> HttpResponse:
    next_url, note = signin_return(request)
    if request.user.is_authenticated:
        if request.GET.get(STEP_UP_MODE) == "1" and next_url != "/":
            # The gateway asks for a fresh key touch (a step_up rule): the step-up page, then on to rd.
            host = urlsplit(next_url).hostname or "This page"
            message = f"{host} asks for a fresh touch of one of your security keys."
            return stepup_page.page(request, next_url=next_url, message=message, back="/")
        return redirect(next_url)
    # A cookie whose session has ended: say why (to the browser holding it, about that session only), once.
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    ended = sessions.why_ended(cookie)
    response = render(
        request,
        "passkeys/signin.html",
        {"next": next_url, "email": request.GET.get("email", "")[:254], "ended": ended, "note": note},
    )
    if cookie is not None:
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
        link = account_services.usable_link(token)
    except EnrolmentLinkInvalid as exc:
        return render(request, "passkeys/enrol_invalid.html", {"reason": exc.message}, status=_link_status(token))
    return render(request, "passkeys/enrol.html", {"link": link, "employee": link.employee, "token": token})


# --- the portal: my security keys ------------------------------------------------------------------------


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
    return render(request, "passkeys/portal/keys.html", {"keys": my, "nav": "keys", "new_key_days": NEW_KEY_DAYS})


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
        back=reverse("passkeys:portal-keys"),
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
        back=reverse("passkeys:portal-keys"),
    )


# --- the console: key coverage, an employee's keys -------------------------------------------------------


@require_GET
@admin_only
def coverage(request: HttpRequest) -> HttpResponse:
    return render(request, "passkeys/console/coverage.html", {"coverage": key_coverage(), "nav": "coverage"})


def employee_keys(request: HttpRequest, employee: Employee) -> dict[str, object]:
    """The "Security keys" panel of the console's employee page (registered in PasskeysConfig.ready()), and the
    key counts that page's enrolment panel words its advice by."""
    all_keys = list(employee.credentials.order_by("revoked_at", "created_at"))
    # A key flagged as possibly cloned signs nobody in: it is not an active key (the page offers recovery).
    active_keys = [k for k in all_keys if k.revoked_at is None and k.flagged_at is None]
    flagged_keys = [k for k in all_keys if k.revoked_at is None and k.flagged_at is not None]
    return {
        "keys": all_keys,
        "active_key_count": len(active_keys),
        "flagged_key_count": len(flagged_keys),
        "had_keys": bool(all_keys),
    }


@require_POST
@admin_only
def console_remove_key(request: HttpRequest, pk: int, key_pk: int) -> HttpResponse:
    employee = get_object_or_404(Employee, pk=pk)
    credential = get_object_or_404(employee.credentials.filter(revoked_at__isnull=True), pk=key_pk)
    label = credential.name or credential.model or "the key"
    return act(
        request,
        lambda: keys.remove_key(credential, actor=request.user, request=request),
        success=f"Revoked {employee.name}'s key “{label}”.",
        back=reverse("accounts:console-employee", args=[employee.pk]),
    )
