"""The gateway's checks take a short way through Django (DESIGN.md, hot paths).

A proxy asks ``/api/authz/*`` on every request to every protected app, so the check is the busiest endpoint
smishguard has.  It needs none of what the rest of the middleware does for pages and the JSON API: static files,
the body-size limit, the rate limits (the issue keeps them off the checks), the session middleware (the check
looks the session up itself, ``check._session``), CSRF (the checks change nothing a browser could forge: they are
csrf_exempt), messages, error pages, step-up pages, frame options.  Placed after the request id, the metrics, the
client address (``clientaddr``), the security headers and ``/healthz`` (which must see the checks' answers to tell
the end of a database outage), this middleware sends a request under ``/api/authz/`` straight to its view, found
by Django's own resolver; every other request goes on down the chain.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

PREFIX = "/api/authz/"


class GatewayCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)  # the JSON 404 of the rest of the chain
        if match.namespace != "gateway":
            return self.get_response(request)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
