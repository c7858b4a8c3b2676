"""``GET /api/authz/auth-request``: the gateway's check in nginx's dialect (``auth_request``; docs/gateway.md).

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

The session is the ``sg_session`` cookie, looked up in the database on every request (by the session middleware,
or here when it did not run): a revocation counts on the very next check.  An admitted check writes nothing.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from smishguard.accounts import sessions
from smishguard.accounts.models import Session
from smishguard.audit import Action, record_refusal
from smishguard.clientaddr import client_ip
from smishguard.gateway import rules
from smishguard.gateway.errors import RequestRefused
from smishguard.gateway.normalise import normalise
from smishguard.gateway.policy import ALLOW, SIGN_IN, STEP_UP, Decision, Who, decide
from smishguard.metrics import mark_refusal
from smishguard.passkeys.views import RETURN_METHOD, RETURN_URL, STEP_UP_MODE  # the sign-in page's rd, rm, stepup

REASON = "X-Smishguard-Reason"
METHOD_HEADER = "HTTP_X_ORIGINAL_METHOD"
URL_HEADER = "HTTP_X_ORIGINAL_URL"

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def peer_may_ask(request: HttpRequest, trusted_proxies: tuple[str, ...]) -> bool:
    """Whether the immediate peer (REMOTE_ADDR, never X-Forwarded-For) is one of ``[gateway] trusted_proxies``."""
    try:
        peer = ipaddress.ip_address((request.META.get("REMOTE_ADDR") or "").strip())
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer.version == n.version and peer in n for n in _networks(trusted_proxies))


def _answer(status: int, reason: str | None = None, **headers: str) -> HttpResponse:
    response = HttpResponse(b"", status=status, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    if reason is not None:
        response[REASON] = reason
        mark_refusal(response, f"gateway_{reason}")  # GET /metrics: refusals by reason (a fixed, small set)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    # A refusal is the check's ordinary answer, not a fault: no "Forbidden: ..." warning from django.request for
    # each (the server's access log has every answer with its status).
    response._has_been_logged = True  # the flag Django's own log_response sets
    return response


def _session(request: HttpRequest) -> Session | None:
    """The live session of the request's cookie: the session middleware's look-up, else one made here."""
    if hasattr(request, "sg_session"):
        return request.sg_session
    return sessions.resolve(request.COOKIES.get(settings.SESSION_COOKIE_NAME))


def signin_location(url: str, method: str, *, step_up: bool = False) -> str:
    """The sign-in page (absolute, on smishguard's origin) that returns to ``url`` (``rd``) and its ``method``
    (``rm``) after the sign-in; in step-up mode (``stepup=1``) for a signed-in employee who must touch a key."""
    query = {RETURN_URL: url, RETURN_METHOD: method}
    if step_up:
        query[STEP_UP_MODE] = "1"
    return f"{settings.SMISHGUARD.origin.rstrip('/')}{reverse('passkeys:signin')}?{urlencode(query)}"


def _header_text(value: str) -> str:
    """A value for a response header: control characters (a newline would split the header) as spaces."""
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in value)


@csrf_exempt  # it changes nothing on any method; without it a POST would get the CSRF page, not the 405 below
def auth_request(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _answer(405, "bad_method", Allow="GET, HEAD")
    policy = rules.current()
    if not peer_may_ask(request, policy.trusted_proxies):
        record_refusal(
            Action.GATEWAY_CHECK_UNTRUSTED_PROXY,
            request=request,
            kind="untrusted_proxy",
            reason="untrusted_proxy",
            dialect="auth-request",
            peer=(request.META.get("REMOTE_ADDR") or "")[:64],
        )
        return _answer(401, "untrusted_proxy")
    method = request.META.get(METHOD_HEADER, "")
    url = request.META.get(URL_HEADER, "")
    if not method or not url:
        return _answer(403, "missing_header")
    try:
        asked = normalise(method, url)
    except RequestRefused as exc:
        return _answer(403, exc.reason)
    session = _session(request)
    who = None
    seconds_since_key = None
    if session is not None:
        employee = session.employee
        groups = frozenset(employee.groups.values_list("name", flat=True))
        who = Who(email=employee.email, groups=groups)
        if session.last_assertion_at is not None:
            seconds_since_key = (timezone.now() - session.last_assertion_at).total_seconds()
    decision = decide(policy, asked, who=who, client=client_ip(request), seconds_since_key=seconds_since_key)
    return _answer_decision(decision, session, who, url=url, method=asked.method)


def _answer_decision(decision: Decision, session: Session | None, who: Who | None, *, url: str, method: str):
    if decision.decision == ALLOW and session is not None and who is not None:
        employee = session.employee
        return _answer(
            200,
            Remote_User=employee.email,
            Remote_Email=employee.email,
            Remote_Name=_header_text(employee.name),
            Remote_Groups=_header_text(",".join(sorted(who.groups))),
        )
    if decision.decision == SIGN_IN or (decision.decision == ALLOW and session is None):
        return _answer(401, "signed_out", Location=signin_location(url, method))
    if decision.decision == STEP_UP:
        return _answer(401, "step_up", Location=signin_location(url, method, step_up=True))
    return _answer(403, refusal_reason(decision))


def refusal_reason(decision: Decision) -> str:
    """What a 403 says: ``unknown_host``, else ``forbidden``, whichever criterion refused (the rule's ``deny``, no
    rule, or a rule skipped for its method, network or subject).  The person refused learns that they may not,
    not which criterion to change to get in; ``smishguard gateway check`` gives an admin the whole why."""
    return "unknown_host" if decision.reason == "unknown_host" else "forbidden"
