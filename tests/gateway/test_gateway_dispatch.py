"""Issue 14: the checks' short way through the server (``smishguard.wsgi``, ``gateway.dispatch``) answers as
Django's handler does: the same view for the same path, and the same status, headers (security headers and
request id included) and body, in both modes."""

from __future__ import annotations

import dataclasses
import io

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from gateway_checks import DIALECTS_POLICY, use_policy

from smishguard import wsgi
from smishguard.accounts import sessions
from smishguard.gateway import views
from smishguard.gateway.dispatch import view_for
from smishguard.metrics import REQUESTS


@pytest.fixture(autouse=True)
def gateway(settings):
    use_policy(settings, DIALECTS_POLICY)


CHECK_PATHS = [
    "/api/authz/auth-request",
    "/api/authz/forward-auth",
    "/api/authz/ext-authz",
    "/api/authz/ext-authz/",
    "/api/authz/ext-authz/customers/1",
    "/api/authz/ext-authz/a%2Fb/\n",
]
OTHER_PATHS = [
    "/api/authz/",
    "/api/authz/auth-request/",
    "/api/authz/auth-requestx",
    "/api/authz/ext-authzx",
    "/api/authz/forward-auth/x",
    "/api/authz",
    "/api/me",
    "/healthz",
    "/",
]


@pytest.mark.parametrize("path", CHECK_PATHS)
def test_a_check_path_goes_to_the_view_the_urlconf_routes_it_to(path):
    assert view_for(path) is resolve(path).func


@pytest.mark.parametrize("path", OTHER_PATHS)
def test_any_other_path_goes_through_django(path):
    assert view_for(path) is None
    try:
        match = resolve(path)
    except Resolver404:
        return
    assert match.func not in (views.auth_request, views.forward_auth, views.ext_authz)


def _environ(path: str, **headers: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "RAW_URI": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **headers,
    }


def _answer(app, environ: dict) -> tuple[str, dict[str, str], bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    # As Django's test client does: the request signals do not close the connection that holds the test's
    # transaction (the short way leaves a connection inside a transaction alone by itself).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer = app(environ, start_response)
        body = b"".join(answer)
        getattr(answer, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    names = [name.lower() for name, _ in seen["headers"]]
    assert len(names) == len(set(names)), names  # no header twice
    return seen["status"], dict(seen["headers"]), body


def _requests_counted(status_class: str) -> float:
    return REQUESTS.labels("GET", "gateway", status_class)._value.get()


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        # nginx: signed out (401 with Location), a bad URL (403), from an untrusted peer (401)
        (
            "/api/authz/auth-request",
            {"HTTP_X_ORIGINAL_METHOD": "GET", "HTTP_X_ORIGINAL_URL": "https://customers.example.com/customers/7"},
            "401",
        ),
        (
            "/api/authz/auth-request",
            {"HTTP_X_ORIGINAL_METHOD": "GET", "HTTP_X_ORIGINAL_URL": "https://customers.example.com/a%2Fb"},
            "403",
        ),
        ("/api/authz/auth-request", {"REMOTE_ADDR": "127.0.0.2"}, "401"),
        # Traefik: a browser signed out (302, with a body), a refusal (403 with a body)
        (
            "/api/authz/forward-auth",
            {
                "HTTP_ACCEPT": "text/html",
                "HTTP_X_FORWARDED_METHOD": "GET",
                "HTTP_X_FORWARDED_PROTO": "https",
                "HTTP_X_FORWARDED_HOST": "customers.example.com",
                "HTTP_X_FORWARDED_URI": "/customers/7",
            },
            "302",
        ),
        (
            "/api/authz/forward-auth",
            {
                "HTTP_X_FORWARDED_METHOD": "GET",
                "HTTP_X_FORWARDED_PROTO": "https",
                "HTTP_X_FORWARDED_HOST": "customers.example.com",
                "HTTP_X_FORWARDED_URI": "/admin",
            },
            "403",
        ),
        # Envoy: the original path after the prefix
        (
            "/api/authz/ext-authz/customers/7",
            {"HTTP_HOST": "customers.example.com", "HTTP_X_FORWARDED_PROTO": "https"},
            "401",
        ),
    ],
)
def test_the_short_way_answers_as_djangos_handler_does(db, path, headers, status):
    environ = _environ(path, **headers)
    before = _requests_counted("4xx") + _requests_counted("3xx")
    short = _answer(wsgi.application, dict(environ, **{"wsgi.input": io.BytesIO(b"")}))
    assert _requests_counted("4xx") + _requests_counted("3xx") == before + 1  # counted, as the middleware counts
    django = _answer(wsgi.django_application, dict(environ, **{"wsgi.input": io.BytesIO(b"")}))
    assert short[0].startswith(status)
    assert short[0] == django[0]
    assert short[2] == django[2]
    short_headers, django_headers = dict(short[1]), dict(django[1])
    assert len(short_headers.pop("X-Request-ID")) == len(django_headers.pop("X-Request-ID")) == 16
    assert short_headers == django_headers
    for name in ("Content-Security-Policy", "Permissions-Policy", "X-Content-Type-Options", "Referrer-Policy"):
        assert name in short_headers


def test_an_admitted_check_the_short_way_carries_the_same_identity_and_the_trusted_request_id(bob, settings):
    settings.SMISHGUARD = dataclasses.replace(settings.SMISHGUARD, trusted_proxies=("127.0.0.1/32",))
    token, _session = sessions.create(bob, request=None)
    environ = _environ(
        "/api/authz/auth-request",
        HTTP_COOKIE=f"sg_session={token}",
        HTTP_X_ORIGINAL_METHOD="GET",
        HTTP_X_ORIGINAL_URL="https://vault.example.com/",
        HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef",
    )
    short = _answer(wsgi.application, dict(environ))
    django = _answer(wsgi.django_application, dict(environ, **{"wsgi.input": io.BytesIO(b"")}))
    assert short[0] == django[0] == "200 OK"
    assert short[1] == django[1]  # the assertion too: the one signed for the first is reused for the second
    assert short[1]["X-Request-ID"] == "0123456789abcdef0123456789abcdef"  # nginx's $request_id, from a trusted peer
    assert short[1]["Remote-User"] == "bob@example.com"
