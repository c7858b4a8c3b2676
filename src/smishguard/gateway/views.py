"""The gateway's check endpoints under ``/api/authz/``, one per proxy dialect (docs/gateway.md).

Each reads the request being checked from where its proxy puts it, asks ``check.evaluate`` (the same decision for
every dialect) and answers as its proxy expects.  ``GET /api/authz/auth-request`` is nginx's ``auth_request``:
nginx asks, in a subrequest, about the request it is holding, described by ``X-Original-Method`` and
``X-Original-URL``; the answer has an empty body (nginx drops it) and says everything in its status and headers:

- 200: admitted, with ``Remote-User``, ``Remote-Email``, ``Remote-Name`` and ``Remote-Groups`` for the app;
- 401 with ``Location``: sign in (``X-Smishguard-Reason: signed_out``) or touch the key again (``step_up``);
  never a redirect status, which nginx's ``auth_request`` would take for an error: its ``error_page 401`` makes
  the redirect;
- 401 without ``Location``: the peer is not one of ``[gateway] trusted_proxies`` (``untrusted_proxy``): its
  ``X-Original-*`` headers are not read at all, and the refusal is audited once per source and window;
- 403: refused, with the reason in ``X-Smishguard-Reason``: the policy's (``forbidden``, ``unknown_host``), an
  unmet requirement of the rule (``training_overdue``, with ``Location``: smishguard's /learn/, for the refusal
  page's link), a URL ``normalise`` refuses (``encoded_slash``, ...), or a missing header (``missing_header``).

A check writes nothing but on a customer-data route, where every decision is recorded first (``check.evaluate``,
``access.record``).

The forward-auth and ext_authz dialects (Traefik, Caddy, Envoy) are at the end of this module.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt

from smishguard.gateway import check, forwarded
from smishguard.gateway.check import ADMIT, SIGN_IN_PAGE, Verdict
from smishguard.gateway.errors import RequestRefused
from smishguard.metrics import mark_refusal

REASON = "X-Smishguard-Reason"
METHOD_HEADER = "HTTP_X_ORIGINAL_METHOD"
URL_HEADER = "HTTP_X_ORIGINAL_URL"


def _answer(
    status: int, reason: str | None = None, headers: dict[str, str] | None = None, body: str = ""
) -> HttpResponse:
    content_type = "text/plain; charset=utf-8" if body else "text/plain"
    response = HttpResponse(body.encode(), status=status, content_type=content_type)
    response["Cache-Control"] = "no-store"
    if reason is not None:
        response[REASON] = reason
        mark_refusal(response, f"gateway_{reason}")  # GET /metrics: refusals by reason (a fixed, small set)
    for name, value in (headers or {}).items():
        response[name] = value
    # A refusal is the check's ordinary answer, not a fault: no "Forbidden: ..." warning from django.request for
    # each (the server's access log has every answer with its status).
    response._has_been_logged = True  # the flag Django's own log_response sets
    return response


@csrf_exempt  # it changes nothing on any method; without it a POST would get the CSRF page, not the 405 below
def auth_request(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _answer(405, "bad_method", {"Allow": "GET, HEAD"})
    if not check.peer_may_ask(request):
        check.refuse_untrusted_peer(request, "auth-request")
        return _answer(401, "untrusted_proxy")
    try:  # nginx sends the request target's bytes as they came: read them as UTF-8, as the other dialects do
        url = forwarded.wsgi_text(request.META.get(URL_HEADER, ""))
    except RequestRefused as exc:
        return _answer(403, exc.reason)
    verdict = check.evaluate(request, request.META.get(METHOD_HEADER, ""), url)
    if verdict.kind == ADMIT:
        return _answer(200, headers=verdict.identity)
    if verdict.kind == SIGN_IN_PAGE:
        return _answer(401, verdict.reason, {"Location": verdict.location or ""})
    # A refusal that names where to meet a requirement (training_overdue: smishguard's /learn/) says it in
    # Location too, for the refusal page's link (deploy/nginx-gateway.conf); the status stays 403.
    return _answer(403, verdict.reason, {"Location": verdict.location} if verdict.location else None)


# --- forward-auth (Traefik forwardAuth, Caddy forward_auth) and ext_authz (Envoy): docs/gateway.md, "Traefik,
# Caddy and Envoy".  Both read the request being checked through ``forwarded`` and shape ``check.evaluate``'s
# verdict as Authelia's endpoints of the same paths do: 200 with the identity; sign in (or step up) as a redirect
# for a browser (302 after GET, HEAD or OPTIONS, else 303) and as 401 with the same Location for anything else;
# 403 for a refusal.  Unlike nginx, these proxies pass the check's body on to the client: a refusal says in one
# line what happened.

FORWARD_AUTH = "forward-auth"
EXT_AUTHZ = "ext-authz"
REDIRECT_FOUND_METHODS = ("GET", "HEAD", "OPTIONS")  # 302; a redirect after any other method is a 303

# What a person reads in the body of a refusal (the reason code is in X-Smishguard-Reason and the last line).
READABLE = {
    "signed_out": "Sign in to smishguard to open this page.",
    "step_up": "Touch your security key again to open this page.",
    "forbidden": "You may not open this page.",
    "unknown_host": "smishguard's gateway does not protect this host.",
    "untrusted_proxy": "This proxy may not ask smishguard's gateway (it is not in [gateway] trusted_proxies).",
    "training_overdue": "Your security training is overdue: complete it, and this page opens again at once.",
}


def wants_page(request: HttpRequest) -> bool:
    """A browser navigating: ``Accept`` names ``text/html`` (not with ``q=0``) and it is not an XMLHttpRequest
    (``X-Requested-With: XMLHttpRequest``).  ``*/*`` alone (curl, an API client) is not a browser."""
    if request.META.get("HTTP_X_REQUESTED_WITH", "").strip().lower() == "xmlhttprequest":
        return False
    for item in request.META.get("HTTP_ACCEPT", "").split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        if media == "text/html" and _quality(params) > 0:
            return True
    return False


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def _body(status: int, reason: str) -> str:
    return f"{status} {READABLE.get(reason, 'smishguard refused this request.')}\nreason: {reason}\n"


def _redirecting(request: HttpRequest, verdict: Verdict, method: str) -> HttpResponse:
    """The verdict as forward-auth and ext_authz answer it (``method``: the method of the request checked)."""
    if verdict.kind == ADMIT:
        return _answer(200, headers=verdict.identity)
    reason = verdict.reason or "forbidden"
    if verdict.kind == SIGN_IN_PAGE:
        location = verdict.location or ""
        if wants_page(request):
            status = 302 if method in REDIRECT_FOUND_METHODS else 303
            return _answer(status, reason, {"Location": location}, body=f"Sign in: {location}\n")
        return _answer(401, reason, {"Location": location}, body=_body(401, reason))
    if verdict.location:  # an unmet requirement: where to meet it, a page for a browser, a line for the rest
        if wants_page(request):
            return _page(403, reason, verdict.location)
        return _answer(403, reason, {"Location": verdict.location}, body=_body(403, reason) + verdict.location + "\n")
    return _answer(403, reason, body=_body(403, reason))


def _page(status: int, reason: str, link: str) -> HttpResponse:
    """A short HTML page for a browser refused for an unmet requirement: what happened, and the link to meet it
    (no script or style: the strict CSP)."""
    body = format_html(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'><title>{}</title></head><body>"
        "<h1 id=title>{}</h1><p id=advice>{}</p><p><a id=link href='{}'>{}</a></p>"
        "<p><small>Reason: <code id=reason>{}</code></small></p></body></html>\n",
        PAGE_TITLES.get(reason, "Access refused"),
        PAGE_TITLES.get(reason, "Access refused"),
        READABLE.get(reason, "smishguard refused this request."),
        link,
        PAGE_LINKS.get(reason, "Continue"),
        reason,
    )
    response = _answer(status, reason, {"Location": link})
    response.content = str(body).encode()
    response["Content-Type"] = "text/html; charset=utf-8"
    return response


# The title and link text of a requirement's refusal page (forward-auth and ext_authz, for a browser; nginx has
# the same words in deploy/nginx-gateway.conf).
PAGE_TITLES = {"training_overdue": "Your security training is overdue"}
PAGE_LINKS = {"training_overdue": "Go to your training"}


def _untrusted(request: HttpRequest, dialect: str) -> HttpResponse:
    check.refuse_untrusted_peer(request, dialect)
    return _answer(401, "untrusted_proxy", body=_body(401, "untrusted_proxy"))


@csrf_exempt  # it changes nothing; any method is taken (Traefik sends GET, or the original with preserveRequestMethod)
def forward_auth(request: HttpRequest) -> HttpResponse:
    if not check.peer_may_ask(request):
        return _untrusted(request, FORWARD_AUTH)
    try:
        method, url = forwarded.forward_auth_request(request)
    except RequestRefused as exc:
        return _answer(403, exc.reason, body=_body(403, exc.reason))
    return _redirecting(request, check.evaluate(request, method, url), method)


@csrf_exempt  # Envoy asks with the original request's method, whatever it is: never the CSRF page
def ext_authz(request: HttpRequest, **_subpath: str) -> HttpResponse:
    if not check.peer_may_ask(request):
        return _untrusted(request, EXT_AUTHZ)
    try:
        method, url = forwarded.ext_authz_request(request, reverse("gateway:ext-authz"))
    except RequestRefused as exc:
        return _answer(403, exc.reason, body=_body(403, exc.reason))
    return _redirecting(request, check.evaluate(request, method, url), method)
