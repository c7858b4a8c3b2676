"""The HTML side of the step-up guard: a page that asks for a key touch, then returns to where the employee was.

``accounts.sessions.require_fresh_assertion`` raises StepUpRequired; for a page (not the JSON API, whose own
handler answers 403 ``step_up_required``) the middleware below answers with this page (403).  Its script
(static/js/webauthn.js, ``data-webauthn="stepup"``) runs the ceremony against /api/webauthn/stepup/* and then
goes back: to the page itself after a GET, to the page the form was on after a POST (the form is not replayed;
the employee presses its button again).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from smishguard.accounts.errors import StepUpRequired
from smishguard.accounts.page_guards import safe_next, signed_in
from smishguard.accounts.redirects import is_safe_return_url


def return_to(request: HttpRequest) -> str:
    """Where to go after the key touch: this page after a GET, the page the form was on after a POST."""
    if request.method == "GET":
        return request.get_full_path()
    default = "/console/" if getattr(request.user, "is_admin", False) else "/"
    referer = request.META.get("HTTP_REFERER", "")
    if not is_safe_return_url(referer, request=request):
        return default
    parts = urlsplit(referer)  # kept as a path: the page it names is on this site
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def page(
    request: HttpRequest, *, next_url: str, message: str, status: int = 200, back: str | None = None
) -> HttpResponse:
    """``back``: the "Back" link (default ``next_url``; the gateway's step-up sends it home, not back to rd)."""
    get_token(request)  # sets the CSRF cookie: the ceremony's JSON calls carry its token
    context = {"next": next_url, "message": message, "back": back or next_url}
    return render(request, "passkeys/stepup.html", context, status=status)


@ensure_csrf_cookie
@require_GET
@signed_in
def stepup(request: HttpRequest) -> HttpResponse:
    """/stepup?next=/console/recovery: touch a key now, then go on."""
    return page(request, next_url=safe_next(request, "/"), message="Touch one of your security keys to continue.")


class StepUpMiddleware:
    """Turn StepUpRequired raised by a page's view into the "touch your key" page (403)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, StepUpRequired) or request.path.startswith("/api/"):
            return None
        return page(request, next_url=return_to(request), message=exception.message, status=403)
