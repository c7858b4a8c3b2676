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
- 403: refused, with the reason in ``X-Smishguard-Reason``: the policy's (``forbidden``, ``unknown_host``), a
  URL ``normalise`` refuses (``encoded_slash``, ...), or a missing header (``missing_header``).

An admitted check writes nothing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from smishguard.gateway import check
from smishguard.gateway.check import ADMIT, SIGN_IN_PAGE
from smishguard.metrics import mark_refusal

REASON = "X-Smishguard-Reason"
METHOD_HEADER = "HTTP_X_ORIGINAL_METHOD"
URL_HEADER = "HTTP_X_ORIGINAL_URL"


def _answer(status: int, reason: str | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(b"", status=status, content_type="text/plain")
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
    verdict = check.evaluate(request, request.META.get(METHOD_HEADER, ""), request.META.get(URL_HEADER, ""))
    if verdict.kind == ADMIT:
        return _answer(200, headers=verdict.identity)
    if verdict.kind == SIGN_IN_PAGE:
        return _answer(401, verdict.reason, {"Location": verdict.location or ""})
    return _answer(403, verdict.reason)
