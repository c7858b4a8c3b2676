"""The JSON API (django-ninja): one instance, errors as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from smishguard.accounts.page_guards import admin_only
from smishguard.errors import RateLimited, SmishguardError
from smishguard.health import database_outage
from smishguard.responses import error_response

log = logging.getLogger("smishguard.api")


class AdminSwagger(Swagger):
    """The browsable API documentation (/api/docs), for signed-in admins only; the schema stays public.

    Others are sent to sign in, or get the 403 page.  (ninja's ``docs_decorator`` would guard
    /api/openapi.json too.)  Swagger UI comes from django-ninja's own static files ("ninja" is an installed
    app, so its template loads them as files, not from a CDN), which the Content-Security-Policy allows.
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return admin_only(super().render_page)(request, api, **kwargs)


class NulCharacter(ValueError):
    """A string in a JSON body holds U+0000."""


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


class JsonParser(Parser):
    """JSON bodies, refusing a string that holds a NUL character (U+0000): PostgreSQL's text columns cannot store
    one (SQLite's can), and no field of ours has a use for it, so both modes answer 400 alike.  JSON can write it
    only as the escape \\u0000, so a body without that text is not searched."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        if b"\\u0000" in request.body and _holds_nul(data):
            raise NulCharacter("a string in the request body holds a NUL character (U+0000)")
        return data


api = NinjaAPI(
    title="smishguard API",
    version="1",
    description="Phishing-resistant sign-in, detection and response for SMS-phishing aimed at staff.",
    urls_namespace="api",
    docs=AdminSwagger(),
    parser=JsonParser(),
)


@api.exception_handler(SmishguardError)
def _ours(request: HttpRequest, exc: SmishguardError) -> HttpResponse:
    response = error_response(exc.status, exc.code, exc.message, **({"detail": exc.detail} if exc.detail else {}))
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "payload"))
        problems.append({"field": loc, "message": err.get("msg", "invalid")})
    summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems[:5])
    return error_response(400, "invalid_request", summary or "invalid request", problems=problems)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(413, "body_too_large", "the request body is too large")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, "not_authenticated", "sign in or present a valid API token")


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, NulCharacter):  # ninja wraps what the parser raised
        return error_response(400, "nul_character", str(exc.__cause__))
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return error_response(400, "malformed_json", "the request body is not valid JSON")
    return error_response(exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", "not found")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    outage = database_outage(request, exc)  # the database not answering: a 503, as for every other path
    if outage is not None:
        return outage
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def _mount() -> None:
    from smishguard.accounts.api import router as accounts_router
    from smishguard.detection.api import router as detection_router
    from smishguard.passkeys.api import router as passkeys_router
    from smishguard.reports.api import response_router

    api.add_router("/webauthn/", passkeys_router)
    api.add_router("/", accounts_router)
    api.add_router("/", detection_router)
    api.add_router("/", response_router)


_mount()


def _json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """django-ninja answers a method a path does not take with a plain-text 405: as every other error under
    /api/, a JSON error instead, with the same Allow header."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        json_response = error_response(
            405, "method_not_allowed", f"{request.method} is not allowed on this path; it takes {allowed}"
        )
        json_response["Allow"] = allowed
        return json_response

    return wrapped


def urls() -> tuple[list[Any], str, str]:
    """``api.urls`` (for ``path("api/", ...)``), each view answering a method it does not take as a JSON 405."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = _json_method_not_allowed(pattern.callback)
    return patterns, app_name, namespace
