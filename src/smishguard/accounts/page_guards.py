"""Who may see a page: signed-in employees for the portal, active admins for the console (the HTML edge's guards;
the JSON guard is ``accounts.guards.same_origin_json``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url

from smishguard.accounts.redirects import safe_return_url

View = Callable[..., HttpResponse]


def signin_url(next_path: str | None = None) -> str:
    url = resolve_url(settings.LOGIN_URL)  # the sign-in page is passkeys': named in settings, not imported
    if next_path and next_path != "/":
        url = f"{url}?{urlencode({'next': next_path})}"
    return url


def safe_next(request: HttpRequest, default: str = "/") -> str:
    """The ``next`` parameter if a sign-in may return there (``accounts.redirects``), else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return safe_return_url(candidate, request=request, default=default)


def signed_in(view: View) -> View:
    """Send signed-out visitors to the sign-in page, remembering where they were going."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(signin_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapper


def forbidden(request: HttpRequest, message: str = "This page is for the security team.") -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": message}, status=403)


def admin_only(view: View) -> View:
    """Console pages: signed-out visitors sign in first; employees who are not admins get a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(signin_url(request.get_full_path()))
        if not request.user.is_admin:
            return forbidden(request)
        return view(request, *args, **kwargs)

    return wrapper
