"""The simulation host answers the tracked links only.

When ``[training] simulation_host`` is set and differs from the origin's host, settings.ALLOWED_HOSTS accepts it
(settings.py adds it) and :class:`SimulationHostMiddleware` answers every request for it with a plain 404 except
``/s/...`` (the tracked links and their lessons) and the static files they use: a drill's lookalike host must not
serve the console, the API, the sign-in pages or the gateway's checks.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

LINK_PREFIX = "/s/"


def simulation_host() -> tuple[str, int | None] | None:
    """(host name, port or None) of the simulation host when it is set and is not the origin's host."""
    configured = settings.SMISHGUARD.training.simulation_host
    if not configured:
        return None
    parts = urlsplit(f"//{configured}")
    name = (parts.hostname or "").lower()
    origin = urlsplit(settings.SMISHGUARD.origin)
    origin_port = origin.port or (443 if origin.scheme == "https" else 80)
    if name == (origin.hostname or "").lower() and (parts.port is None or parts.port == origin_port):
        return None
    return name, parts.port


class SimulationHostMiddleware:
    """A request for the simulation host outside /s/ and the static files: 404 (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.host = simulation_host()
        self.static = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.host is None or request.path.startswith((LINK_PREFIX, self.static)):
            return self.get_response(request)
        # The Host header as sent (behind a trusted proxy, X-Forwarded-Host when Django is told to use it), not
        # request.get_host(): no ALLOWED_HOSTS validation on every request of the gateway's hot path.
        meta = request.META
        raw = (settings.USE_X_FORWARDED_HOST and meta.get("HTTP_X_FORWARDED_HOST", "").split(",")[-1].strip()) or (
            meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")
        )
        try:
            parts = urlsplit("//" + raw)
            parts.port  # noqa: B018 - a malformed port raises here
        except ValueError:
            return self.get_response(request)
        name, port = self.host
        if (parts.hostname or "").lower() != name or (port is not None and parts.port not in (port, None)):
            return self.get_response(request)
        response = HttpResponse("Not found\n", status=404, content_type="text/plain; charset=utf-8")
        add_never_cache_headers(response)
        return response
