"""The gateway's check, whatever the proxy's dialect: may this request through, and who is it for the app?

A dialect (``views.py``: nginx ``auth_request``, Traefik/Caddy forward-auth, Envoy ext_authz) reads the method and
the URL of the request being checked from where its proxy puts them, asks :func:`evaluate`, and turns the
:class:`Verdict` into the status and headers its proxy expects.  Everything that must be the same whatever the
dialect is here, once:

- the peer must be one of ``[gateway] trusted_proxies`` before any header describing the request is read
  (:func:`peer_may_ask`, :func:`refuse_untrusted_peer`, which audits the refusal once per source and window);
- the URL is decoded once and normalised, or refused (``normalise``);
- the session is the ``sg_session`` cookie, looked up in the database on every check with its employee's groups,
  in one statement (``accounts.sessions.resolve_values``: a revocation counts on the very next one);
- the route policy decides (``policy.decide``); an admission then still needs the key touch the employee's
  sessions were asked for (``Session.key_touch_required_at``: a step-up until a later key assertion) and, on a rule
  with ``training_required``, the rule's requirements (``requirements``: no overdue training, else 403
  ``training_overdue``);
- a decision on a customer-data route is stored before the answer leaves, and a bulk read is contained
  (``access.record``: the access record, containment);
- an admitted request carries the employee's identity to the app (:func:`identity_headers`): the ``Remote-*``
  headers and ``X-Smishguard-Assertion``, a JWT signed with the gateway's current key (``assertion``, ``keys``).
  The signed assertion of a session for an app is reused for a few seconds while its claims are the same
  (:class:`_Signed`): signing is the dearest step of an admitted check, and the session is still looked up on
  every check, so a revoked session gets nothing from it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.audit import Action, record_refusal
from smishguard.clientaddr import client_ip, in_networks, networks, parse_address
from smishguard.gateway import access, assertion, keys, requirements, rules
from smishguard.gateway.errors import RequestRefused
from smishguard.gateway.normalise import NormalRequest, normalise
from smishguard.gateway.policy import ALLOW, DENY, SIGN_IN, STEP_UP, Decision, Who, decide
from smishguard.passkeys.views import RETURN_METHOD, RETURN_URL, STEP_UP_MODE  # the sign-in page's rd, rm, stepup

# What a verdict tells the dialect to do.
ADMIT = "admit"  # 200 with the identity headers
SIGN_IN_PAGE = "sign_in"  # to the sign-in page (``location``): signed out, or a key touch too old (step-up)
REFUSE = "refuse"  # 403 with ``reason`` (and ``location``: where to meet a requirement, e.g. the training)
# The decision's reason when a key touch asked for (accounts.sessions.require_key_touch) turns an admission into a
# step-up; the answer's reason is step_up, as for any step-up.
KEY_TOUCH_DEMANDED = "key_touch_demanded"


@dataclass(frozen=True)
class Verdict:
    kind: str  # ADMIT | SIGN_IN_PAGE | REFUSE
    reason: str | None = None  # X-Smishguard-Reason of a refusal or a sign-in (signed_out, step_up, forbidden, ...)
    location: str | None = None  # SIGN_IN_PAGE: the sign-in page that returns to the URL checked; REFUSE: where
    # the person meets an unmet requirement (smishguard's /learn/ for training_overdue), else None
    identity: dict[str, str] = field(default_factory=dict)  # ADMIT: the headers for the app
    decision: Decision | None = None  # the policy's decision, where it got that far


def peer_may_ask(request: HttpRequest, trusted_proxies: tuple[str, ...] | None = None) -> bool:
    """Whether the immediate peer (REMOTE_ADDR, never X-Forwarded-For) is one of ``[gateway] trusted_proxies``."""
    if trusted_proxies is None:
        trusted_proxies = rules.current().trusted_proxies
    return in_networks(parse_address(request.META.get("REMOTE_ADDR")), networks(trusted_proxies))


def refuse_untrusted_peer(request: HttpRequest, dialect: str) -> None:
    """Audit a check asked by a peer outside ``[gateway] trusted_proxies`` (one event per source and window)."""
    record_refusal(
        Action.GATEWAY_CHECK_UNTRUSTED_PROXY,
        request=request,
        kind="untrusted_proxy",
        reason="untrusted_proxy",
        dialect=dialect,
        peer=(request.META.get("REMOTE_ADDR") or "")[:64],
    )


def signin_location(url: str, method: str, *, step_up: bool = False) -> str:
    """The sign-in page (absolute, on smishguard's origin) that returns to ``url`` (``rd``) and its ``method``
    (``rm``) after the sign-in; in step-up mode (``stepup=1``) for a signed-in employee who must touch a key."""
    query = {RETURN_URL: url, RETURN_METHOD: method}
    if step_up:
        query[STEP_UP_MODE] = "1"
    return f"{settings.SMISHGUARD.origin.rstrip('/')}{reverse('passkeys:signin')}?{urlencode(query)}"


# Control characters (C0 and DEL) -> a space, for str.translate.
_CONTROL_AS_SPACE = dict.fromkeys((*range(0x20), 0x7F), " ")


def header_text(value: str) -> str:
    """A value for a response header: control characters (a newline would split the header) as spaces."""
    return value.translate(_CONTROL_AS_SPACE)


def evaluate(request: HttpRequest, method: str, url: str) -> Verdict:
    """The verdict on the request ``method url`` that a trusted proxy asks about, for the session of ``request``."""
    if not method or not url:
        return Verdict(REFUSE, "missing_header")
    try:
        asked = normalise(method, url)
    except RequestRefused as exc:
        return Verdict(REFUSE, exc.reason)
    session = sessions.resolve_values(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    who = None
    seconds_since_key = None
    if session is not None:
        who = Who(email=session.email, groups=session.groups)
        if session.last_assertion_at is not None:
            seconds_since_key = (timezone.now() - session.last_assertion_at).total_seconds()
    client = client_ip(request)
    policy = rules.current()
    decision = decide(policy, asked, who=who, client=client, seconds_since_key=seconds_since_key)
    if decision.decision == ALLOW and session is not None:
        decision = _demands(policy, decision, session)
    if decision.customer is not None:  # customer data: stored before the answer leaves, and contained (access.py)
        outcome = access.record(request, asked, decision, session=session, who=who, client=client)
        if outcome.refusal is not None:
            return Verdict(REFUSE, outcome.refusal, decision=decision)
    return _verdict(decision, session, who, asked, url=url)


def _demands(policy: rules.GatewayPolicy, decision: Decision, session: sessions.SessionValues) -> Decision:
    """What may still stop a request the policy admits: a key touch asked for since the session's last one
    (``accounts.sessions.require_key_touch``, read with the session: no extra query) makes it a step-up; a
    requirement of the deciding rule that the employee does not meet (``training_required``: overdue training,
    asked of ``gateway.requirements`` on that rule's requests only) a refusal with the requirement's reason."""
    if session.key_touch_due:
        return Decision(STEP_UP, decision.rule, KEY_TOUCH_DEMANDED, decision.customer)
    if decision.rule is None:
        return decision
    names = policy.rules[decision.rule - 1].requirements
    if not names:
        return decision
    missing = requirements.unmet(names, session.employee_id)
    if missing is None:
        return decision
    return Decision(DENY, decision.rule, missing.reason, decision.customer)


def _verdict(
    decision: Decision, session: sessions.SessionValues | None, who: Who | None, asked: NormalRequest, *, url: str
):
    if decision.decision == ALLOW and session is not None and who is not None:
        return Verdict(ADMIT, identity=identity_headers(session, who, asked), decision=decision)
    if decision.decision == SIGN_IN or (decision.decision == ALLOW and session is None):
        return Verdict(SIGN_IN_PAGE, "signed_out", signin_location(url, asked.method), decision=decision)
    if decision.decision == STEP_UP:
        location = signin_location(url, asked.method, step_up=True)
        return Verdict(SIGN_IN_PAGE, "step_up", location, decision=decision)
    reason = refusal_reason(decision)
    found = requirements.by_reason(reason)
    if found is not None:  # where the person meets it (the nginx page's link, forward-auth's page)
        path = found.location(session.employee_id if session is not None else None)
        where = f"{settings.SMISHGUARD.origin.rstrip('/')}{path}"
        return Verdict(REFUSE, reason, where, decision=decision)
    return Verdict(REFUSE, reason, decision=decision)


def identity_headers(session: sessions.SessionValues, who: Who, asked: NormalRequest) -> dict[str, str]:
    """What an admitted request tells the app about the employee (header name -> value): the ``Remote-*``
    headers, and ``X-Smishguard-Assertion`` for the app's origin (left out, and logged, when the current signing
    key cannot be decrypted here: ``keys``)."""
    groups = sorted(who.groups)
    headers = {
        "Remote-User": session.email,
        "Remote-Email": session.email,
        "Remote-Name": header_text(session.name),
        "Remote-Groups": header_text(",".join(groups)),
    }
    signer = keys.signer()
    if signer is not None:
        headers[assertion.HEADER] = _assertion(session, groups, asked, signer)
    return headers


def app_origin(asked: NormalRequest) -> str:
    """``scheme://host[:port]`` of the checked URL: the assertion's ``aud`` (a default port is left out)."""
    host = f"[{asked.host}]" if ":" in asked.host else asked.host
    return f"{asked.scheme}://{host}{f':{asked.port}' if asked.port is not None else ''}"


class _Signed:
    """The assertions signed lately, reused while their claims are the same.

    Keyed by everything an assertion says but its times (the signing key, the issuer, the app's origin, the
    employee's id, email, name and groups, the key method, ``auth_time``): an assertion is handed out again for at most
    ``REUSE_SECONDS`` after it was signed, so it still has at least ``LIFETIME_SECONDS - REUSE_SECONDS`` to live
    when the app gets it.  Any change to a claim (a group added, a step-up, a new key) signs afresh.  Per
    process, bounded (the least recently used go first), never consulted before the session itself was found
    live in the database on this very check."""

    REUSE_SECONDS = 15
    SIZE = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: OrderedDict[tuple, tuple[float, str]] = OrderedDict()

    def get(self, key: tuple, now: float) -> str | None:
        with self._lock:
            found = self._tokens.get(key)
            if found is None or now - found[0] >= self.REUSE_SECONDS or now < found[0]:
                return None
            self._tokens.move_to_end(key)
            return found[1]

    def put(self, key: tuple, now: float, token: str) -> None:
        with self._lock:
            self._tokens[key] = (now, token)
            self._tokens.move_to_end(key)
            while len(self._tokens) > self.SIZE:
                self._tokens.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


_signed = _Signed()


def _assertion(session: sessions.SessionValues, groups: list[str], asked: NormalRequest, signer: keys.Signer) -> str:
    last = session.last_assertion_at
    methods = assertion.amr(backup_eligible=session.backup_eligible, user_verified=session.user_verified)
    auth_time = int(last.timestamp()) if last is not None else None
    issuer, audience = settings.SMISHGUARD.origin.rstrip("/"), app_origin(asked)
    key = (
        signer.kid,
        issuer,
        audience,
        session.employee_id,
        session.email,
        session.name,
        *groups,
        "",
        *methods,
        auth_time,
    )
    now = time.time()
    token = _signed.get(key, now)
    if token is not None:
        return token
    payload = assertion.claims(
        issuer=issuer,
        audience=audience,
        subject=str(session.employee_id),
        email=session.email,
        name=session.name,
        groups=groups,
        methods=methods,
        auth_time=auth_time,
        now=int(now),
    )
    token = assertion.sign(payload, private_key=signer.private_key, kid=signer.kid)
    _signed.put(key, now, token)
    return token


def refusal_reason(decision: Decision) -> str:
    """What a 403 says: ``unknown_host``, else ``forbidden``, whichever criterion refused (the rule's ``deny``, no
    rule, or a rule skipped for its method, network or subject); or the reason of a requirement the rule adds that
    the employee does not meet (``training_overdue``: what to do about it is theirs to know).  The person refused
    learns that they may not, not which criterion to change to get in; ``smishguard gateway check`` gives an admin
    the whole why."""
    if decision.reason == "unknown_host" or requirements.by_reason(decision.reason) is not None:
        return decision.reason
    return "forbidden"
