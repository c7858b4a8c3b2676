"""Authenticate each request from its server-side session cookie."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from smishguard.accounts import sessions
from smishguard.responses import error_response


class SessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = sessions.resolve(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        request.sg_session = session
        request.user = session.employee if session is not None else AnonymousUser()
        return self.get_response(request)


def set_session_cookie(response: HttpResponse, token: str) -> None:
    response.set_cookie(
        settings.SESSION_COOKIE_NAME,
        token,
        max_age=settings.SMISHGUARD.sessions.absolute_lifetime_seconds,
        httponly=True,
        secure=settings.SECURE_COOKIES,
        samesite="Lax",
        path="/",
        domain=settings.COOKIE_DOMAIN,  # SMISHGUARD_COOKIE_DOMAIN, else host-only (None)
    )


def clear_session_cookie(response: HttpResponse) -> None:
    response.delete_cookie(settings.SESSION_COOKIE_NAME, path="/", samesite="Lax", domain=settings.COOKIE_DOMAIN)


class BodySizeLimitMiddleware:
    """Refuse an API request whose declared body is larger than the limit with a JSON 413, before parsing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.limit:
            return error_response(413, "body_too_large", f"the request body is larger than {self.limit} bytes")
        return self.get_response(request)
