"""Rate limits per client address and per account, on django-ratelimit over the shared counters.

Where: sign-in (``/api/webauthn/login/*``), enrolment (``/api/webauthn/register/*``, ``/enrol/<token>``), the
token-authenticated API (``/api/scan``, ``/api/reports``, ``/api/blocklists*``, ``/api/stix/*``), Twilio's
webhooks (``/hooks/twilio/*``), the portal's report form (POST ``/portal/report``) and a drill's tracked link
(``/s/<rid>``: per recipient, and per address only when the link is unknown; counted by training's landing
views with :func:`check` so that their 429 page names no one); not the gateway's ``/api/authz/*``.  Per
address: :class:`RateLimitMiddleware`, before the session is looked up or the view runs; on sign-in it also
counts the account (the email asked for, known or not; the key presented), both in one SQL
statement.  The other accounts are counted by :func:`limit_account` / :func:`account_refusal` where the view
knows them (the enrolment link; the API token; the texting number; the signed-in employee).

A refusal is a 429 with ``Retry-After`` and ``{"error": {"code": "rate_limited", ...}}`` (an HTML page for
pages).  The audit trail gets one event per source and window: the first refusal of a window is recorded, with
the number of refusals from that source since its last event (``earlier_refusals``); the others only add to
that number, so a flood writes one row a window and its size is kept.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django_ratelimit import ALL

# django-ratelimit's own key, window and address helpers, so that the one-statement path counts exactly the keys
# its get_usage counts (tests/ratelimits check they agree); pinned to django-ratelimit 4.x in pyproject.toml.
from django_ratelimit.core import EXPIRATION_FUDGE, _get_ip, _get_window, _make_cache_key, get_usage

from smishguard.audit import Action, record_refusal
from smishguard.errors import RateLimited
from smishguard.redaction import redact_path
from smishguard.responses import error_response

# (path, or prefix ending in "/"; group; method, or None for any)
ROUTES: tuple[tuple[str, str, str | None], ...] = (
    ("/api/webauthn/login/", "signin", None),
    ("/api/webauthn/register/", "enrol", None),
    ("/enrol/", "enrol", None),
    ("/api/scan", "api", None),
    ("/api/reports", "api", None),
    ("/api/blocklists", "api", None),
    ("/api/blocklists/", "api", None),
    ("/api/stix/", "api", None),
    ("/hooks/twilio/", "twilio", None),
    ("/portal/report", "report", "POST"),
)

# Counted only when they fail, after the failure, on counters of their own under the group's limits; a failure
# over a limit is answered 429.  A successful sign-in thus makes one counter statement (its login/options), not
# three.  What bounds the work: a login/verify without a live challenge fails at one look-up (junk costs no
# signature check, and its audit row is written once per source and window); one with a challenge uses it up, and
# challenges come only from login/options, counted before the view runs.  So signature checks and the failures
# recorded against a real key are held to the login/options limits, and a run of failures gets 429s; a correct
# assertion is never refused for the failures of others behind the same address.
COUNTED_WHEN_FAILED = {"/api/webauthn/login/verify": "signin-failed"}


@dataclass(frozen=True)
class Refusal:
    group: str
    scope: str  # "address" or "account"
    limit: int
    window_seconds: int
    retry_after: int

    @property
    def message(self) -> str:
        return f"too many requests; try again in {self.retry_after} s"


def group_for(request: HttpRequest) -> str | None:
    path = request.path
    for route, group, method in ROUTES:
        if (path.startswith(route) if route.endswith("/") else path == route) and method in (None, request.method):
            return group
    return None


def check(
    request: HttpRequest,
    group: str,
    *,
    address: bool = True,
    account: str | None = None,
    counter: str | None = None,
) -> Refusal | None:
    """Count this request against ``group``'s limits per client address (``address``) and per ``account`` (if
    given); the first Refusal when one is over.  On the database counters both are counted in one statement.

    ``counter`` names counters of their own under the group's limits (by default the group's): those of the
    requests counted only when they fail (:data:`COUNTED_WHEN_FAILED`)."""
    limits = settings.SMISHGUARD.rate_limits
    if not limits.enabled:
        return None
    counters = caches[settings.RATELIMIT_USE_CACHE]
    if not hasattr(counters, "hit_many"):  # any other Django cache (Redis): django-ratelimit's get_usage per limit
        first = hit(request, group, "address", counter=counter) if address else None
        second = hit(request, group, "account", account, counter=counter) if account is not None else None
        return first or second
    rules = [("address", limit_address(request))] if address else []
    if account is not None:
        rules.append(("account", account))
    if not rules:
        return None
    return _check_at_once(request, group, rules, counters, limits, counter=counter)


def limit_address(request: HttpRequest) -> str:
    """The address a request is counted under: what django-ratelimit's ``_get_ip`` gives (the client address of
    RATELIMIT_IP_META_KEY, masked by RATELIMIT_IPV4_MASK / RATELIMIT_IPV6_MASK), with the mask worked out once
    per address rather than on every request (tests/ratelimits check they agree)."""
    client_ip = settings.RATELIMIT_IP_META_KEY
    if not callable(client_ip):  # a META key or a dotted path: django-ratelimit's own way
        return _get_ip(request)
    return _masked(client_ip(request), settings.RATELIMIT_IPV4_MASK, settings.RATELIMIT_IPV6_MASK)


@functools.lru_cache(maxsize=4096)
def _masked(ip: str, ipv4_mask: int, ipv6_mask: int) -> str:
    mask = ipv6_mask if ":" in ip else ipv4_mask  # as django_ratelimit.core._get_ip does
    return str(ipaddress.ip_network(f"{ip}/{mask}", strict=False).network_address)


def _check_at_once(
    request: HttpRequest,
    group: str,
    rules: list[tuple[str, str]],
    counters: Any,
    limits: Any,
    *,
    counter: str | None = None,
) -> Refusal | None:
    """What get_usage(increment=True) does for each rule, with django-ratelimit's own keys, windows and IP masks,
    but every counter counted in one statement (CounterCache.hit_many): the sign-in path's cost is one statement."""
    entries = {}
    for scope, value in rules:
        count, seconds = limits.rate(group, scope)
        window = _get_window(value, seconds)
        key = _make_cache_key(f"{counter or group}:{scope}", window, (count, seconds), value, ALL)
        entries[key] = (scope, value, count, seconds, window)
    counts = counters.hit_many({key: entry[3] + EXPIRATION_FUDGE for key, entry in entries.items()})
    refused = None
    for key, (scope, value, count, seconds, window) in entries.items():
        if counts.get(key, 0) > count:
            refusal = Refusal(group, scope, count, seconds, max(1, min(seconds, window - int(time.time()))))
            _note(request, refusal, value if scope == "account" else None)
            refused = refused or refusal
    return refused


def hit(
    request: HttpRequest,
    group: str,
    scope: str,
    account: str | None = None,
    *,
    counter: str | None = None,
) -> Refusal | None:
    """Count this request against ``group``'s limit per ``scope`` with django-ratelimit's get_usage (any cache)."""
    limits = settings.SMISHGUARD.rate_limits
    if not limits.enabled:
        return None
    count, seconds = limits.rate(group, scope)
    if scope == "address":
        key: str | Callable[[str, HttpRequest], str] = "ip"
    else:
        value = account or ""
        key = lambda _group, _request: value  # noqa: E731 - django-ratelimit's key callable
    usage = get_usage(request, group=f"{counter or group}:{scope}", key=key, rate=(count, seconds), increment=True)
    if usage is None:
        return None
    if not usage["should_limit"]:
        return None
    refusal = Refusal(group, scope, count, seconds, max(1, min(seconds, int(usage["time_left"]))))
    if usage["limit"]:  # (0 when the counter could not be read: refused, with nothing to count)
        _note(request, refusal, account)
    return refusal


def _note(request: HttpRequest, refusal: Refusal, account: str | None) -> None:
    """Audited once per source and window (the limit's), with the number of refusals only counted before."""
    label = (account or "")[:254] if refusal.scope == "account" else ""
    record_refusal(
        Action.REQUEST_RATE_LIMITED,
        request=request,
        kind=f"{refusal.group}:{refusal.scope}:{account or ''}",
        window=refusal.window_seconds,
        subject_label=label,
        group=refusal.group,
        by=refusal.scope,
        limit=refusal.limit,
        window_seconds=refusal.window_seconds,
        path=redact_path(request.path)[:200],  # no enrolment token, no tracked link's rid in the trail
    )


def refused_response(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """429 with Retry-After: the JSON error for the API and the webhooks, a page for pages."""
    if request.path.startswith(("/api/", "/hooks/")):
        response: HttpResponse = error_response(429, "rate_limited", refusal.message)
    else:
        from django.shortcuts import render

        response = render(request, "429.html", {"retry_after": refusal.retry_after}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def enrolment_account(token: str) -> str:
    """An enrolment link as an account: a digest, never the token itself (it would reach the audit trail)."""
    return "link:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def limit_account(request: HttpRequest, group: str, account: str) -> None:
    """Count this request against the account's limit; raises RateLimited (429) when it is over."""
    refusal = check(request, group, address=False, account=account)
    if refusal is not None:
        raise RateLimited(refusal.message, retry_after=refusal.retry_after)


def account_refusal(request: HttpRequest, group: str, account: str) -> HttpResponse | None:
    """For views that answer pages: None, or the 429 page to send."""
    refusal = check(request, group, address=False, account=account)
    return None if refusal is None else refused_response(request, refusal)


def signin_account(request: HttpRequest) -> str | None:
    """The account a sign-in request names: login/options' email (known or not, as begin_login normalises it),
    login/verify's key (rawId).  Read from the JSON body, which Django keeps for the view."""
    if request.method != "POST" or request.content_type != "application/json":
        return None
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError, RequestDataTooBig):  # the view answers these (deep nesting: RecursionError)
        return None
    if not isinstance(body, dict):
        return None
    if request.path.endswith("/options"):
        email = body.get("email")
        return email.strip().lower() if isinstance(email, str) and email.strip() else None
    raw_id = body.get("rawId")
    return f"key:{raw_id[:200]}" if isinstance(raw_id, str) and raw_id else None


class RateLimitMiddleware:
    """The limits of the paths of ROUTES per address, before the session is looked up or the view runs; on
    sign-in also per account, both in one statement.  The other accounts are counted in their views."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        group = group_for(request)
        if group is None or not settings.SMISHGUARD.rate_limits.enabled:
            return self.get_response(request)
        account = signin_account(request) if group == "signin" else None
        failures = COUNTED_WHEN_FAILED.get(request.path)
        if failures is not None:
            response = self.get_response(request)
            if response.status_code >= 400 and response.status_code != 429:
                refusal = check(request, group, account=account, counter=failures)
                if refusal is not None:
                    return refused_response(request, refusal)
            return response
        refusal = check(request, group, account=account)
        if refusal is not None:
            return refused_response(request, refusal)
        return self.get_response(request)
