"""WSGI entry point for gunicorn (``smishguard serve``, or ``gunicorn smishguard.wsgi``).

Django's handler answers everything but the gateway's checks (``/api/authz/auth-request``, ``forward-auth``,
``ext-authz``): a proxy asks one for every request to every protected app, so they are the busiest requests
smishguard answers, and Django's request machinery around the check's view (the request signals, ten
middleware each wrapped in its exception handling, the URL resolver) cost as much as the check itself.  They
take a short way (DESIGN.md, hot paths): :class:`CheckHandler` does for them what that machinery does that a
check needs, and calls the same view.
"""

import io
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smishguard.settings")
django_application = get_wsgi_application()  # (django.setup() first: the modules below import models)

# ruff: noqa: E402 - imported once Django is set up
from collections.abc import Callable, Iterable

from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix
from django_permissions_policy import PermissionsPolicyMiddleware

from smishguard.clientaddr import peer_is_trusted
from smishguard.gateway.dispatch import view_for
from smishguard.health import answered
from smishguard.logs import REQUEST_ID_HEADER, REQUEST_ID_KEY, current_request_id, request_id_for
from smishguard.metrics import count_request
from smishguard.web.middleware import ContentSecurityPolicyMiddleware, StrictTransportSecurityMiddleware

# The middleware of settings.MIDDLEWARE that only add headers to an answer, in their order there.
HEADER_MIDDLEWARE = (
    SecurityMiddleware,
    StrictTransportSecurityMiddleware,
    ContentSecurityPolicyMiddleware,
    PermissionsPolicyMiddleware,
)


class CheckHandler:
    """A check, the short way.  What Django's handler and middleware do for any request, done here for a check:

    - the database connection looked after as the request signals do (``close_if_unusable_or_obsolete``, before
      and after: a connection broken by a database outage is replaced on the next request), but inside a
      transaction held open around the request (a test's), which Django's test client leaves alone too;
    - a request id, in the log lines and in ``X-Request-ID`` (``logs.RequestIdMiddleware``'s);
    - an exception answered as Django answers it (``response_for_exception``: a database that does not answer
      gets ``health.database_outage``'s 503 through ``handler500``), and the end of an outage noted
      (``health.answered``, as ``HealthMiddleware``);
    - each answer counted (``metrics.count_request``, as ``RequestMetricsMiddleware``);
    - the security headers every answer carries: worked out once, by the header middleware themselves
      (:data:`HEADER_MIDDLEWARE`) on an answer of the kind a check gives, since none of them depends on the
      request (HSTS follows the configured origin: ``StrictTransportSecurityMiddleware``).

    Not done, since a check needs none of it: the forwarding-header filter (the check reads X-Forwarded-* only
    through ``clientaddr.client_ip_from_meta``, which asks whether the peer is trusted itself, and
    ``header_as_sent``), static files, the body-size limit, rate limits, the session middleware (the check looks
    the session up itself), CSRF (the views are csrf_exempt), messages, error pages, step-up pages.
    tests/gateway/test_gateway_dispatch.py compares its answers, headers included, with Django's.
    """

    def __init__(self) -> None:
        self._headers: list[tuple[str, str]] | None = None

    def security_headers(self) -> list[tuple[str, str]]:
        """The header middleware's headers, worked out on first use: once per process, as Django's handler makes
        its middleware once (StrictTransportSecurityMiddleware reads the origin then)."""
        if self._headers is None:
            sample = HttpResponse(b"", content_type="text/plain")
            before = set(sample.headers)
            answer: Callable[[HttpRequest], HttpResponse] = lambda _request: sample  # noqa: E731
            for middleware in reversed(HEADER_MIDDLEWARE):
                answer = middleware(answer)
            answer(WSGIRequest({"REQUEST_METHOD": "GET", "PATH_INFO": "/api/authz/", "wsgi.input": io.BytesIO()}))
            self._headers = [(name, value) for name, value in sample.items() if name not in before]
        return self._headers

    def __call__(self, environ: dict, start_response: Callable, view: Callable[[HttpRequest], HttpResponse]):
        database = connections[DEFAULT_DB_ALIAS]
        tidy = not database.in_atomic_block  # (in a transaction held open around it, a test's: left alone)
        if tidy:
            database.close_if_unusable_or_obsolete()
        set_script_prefix(get_script_name(environ))
        request = WSGIRequest(environ)
        request_id = environ[REQUEST_ID_KEY] = request_id_for(environ, peer_is_trusted(request))
        token = current_request_id.set(request_id)
        try:
            try:
                response = view(request)
            except Exception as exc:  # noqa: BLE001 - answered as Django answers it (logged there)
                response = response_for_exception(request, exc)
            answered(response.status_code)
            count_request(request.method or "", request.path_info, response)
        finally:
            current_request_id.reset(token)
        headers = [*response.items()]
        headers += [(name, value) for name, value in self.security_headers() if name not in response]
        headers.append((REQUEST_ID_HEADER, request_id))
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        body = response.content
        if tidy:
            database.close_if_unusable_or_obsolete()
        return [body]


_checks = CheckHandler()


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    view = view_for(environ.get("PATH_INFO", ""))
    if view is not None:
        return _checks(environ, start_response, view)
    return django_application(environ, start_response)
