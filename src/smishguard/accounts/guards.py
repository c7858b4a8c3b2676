"""The one guard for state-changing JSON endpoints that read or set the session cookie.

A cookie travels with any request the browser makes, whoever's page made it, so such an endpoint must know the
request came from smishguard's own pages.  ``same_origin_json`` requires both:

* a JSON body (``Content-Type: application/json``): an HTML form on another site can send only
  ``text/plain``, ``application/x-www-form-urlencoded`` or ``multipart/form-data`` without a CORS preflight
  (which smishguard never grants); a body-less DELETE needs no type;
* a same-origin request: an ``Origin`` header equal to the configured origin (``SMISHGUARD_ORIGIN``) or, where
  a browser sends no Origin, ``Sec-Fetch-Site: same-origin``.  A request with neither is refused: every browser
  that runs the sign-in page sends at least one of them on a POST, and other clients can send Origin.

Refusals are 415 / 403 JSON errors, answered before the body is parsed or the view does anything.
Put it under the route decorator::

    @router.post("/login/verify", ...)
    @same_origin_json
    def login_verify(request, payload): ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.decorators import decorate_view

from smishguard.accounts.errors import CrossOriginRequest, UnsupportedMediaType
from smishguard.errors import SmishguardError
from smishguard.responses import error_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# The OpenAPI request body of a POST under ``same_origin_json`` that reads no fields (``openapi_extra=`` on its
# route): it still takes ``Content-Type: application/json``, so the schema says a JSON object is sent (``{}``).
JSON_OBJECT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A JSON object (`{}`): no field is read; the JSON Content-Type is what a cross-site form "
        "cannot send.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _has_body(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 1
    return length > 0 or "HTTP_TRANSFER_ENCODING" in request.META


def is_same_origin(request: HttpRequest) -> bool:
    """Whether the browser says this request came from smishguard's own origin."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return origin.strip().rstrip("/").lower() == settings.SMISHGUARD.origin.rstrip("/").lower()
    return request.META.get("HTTP_SEC_FETCH_SITE", "").strip().lower() == "same-origin"


def require_same_origin_json(request: HttpRequest) -> None:
    """Raise ``UnsupportedMediaType`` or ``CrossOriginRequest`` unless a state-changing request is JSON from
    smishguard's own origin."""
    if request.method in SAFE_METHODS:
        return
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and (request.method != "DELETE" or _has_body(request)):
        raise UnsupportedMediaType()
    if not is_same_origin(request):
        raise CrossOriginRequest()


def _guard_run(run: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a django-ninja operation's ``run``: the check comes before the body is parsed or the view runs."""

    @wraps(run)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            require_same_origin_json(request)
        except SmishguardError as exc:
            return error_response(exc.status, exc.code, exc.message)
        return run(request, *args, **kwargs)

    return guarded


# Under the route decorator of a django-ninja operation: ``@router.post(...)`` then ``@same_origin_json``.
same_origin_json = decorate_view(_guard_run)
