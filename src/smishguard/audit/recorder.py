"""``record()``: the one way to write a security event."""

from __future__ import annotations

import getpass
import hashlib
import logging
import time
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from smishguard.audit.actions import Action
from smishguard.audit.models import Event
from smishguard.audit.sql import INSERT_EVENT
from smishguard.clientaddr import client_ip
from smishguard.metrics import count_signin

log = logging.getLogger("smishguard.audit")

_USER_AGENT_MAX = 512


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _without_nul(value: Any) -> Any:
    """``value`` with each NUL character (U+0000) in its strings, keys included, as U+FFFD: PostgreSQL's text and
    jsonb columns cannot hold one, and an event must be written whatever a client put in what it records (an
    email a rate limit names, say).  The event still shows that something stood there."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def _count(action: str, detail: dict[str, Any]) -> None:
    """Sign-ins by result for GET /metrics (smishguard.metrics): an increment, counted whether the event is
    written or, for a refusal, only counted."""
    if action == Action.SIGNIN_SUCCEEDED:
        count_signin("success")
    elif action == Action.SIGNIN_FAILED:
        count_signin(str(detail.get("reason") or "unknown"))


def _insert(event: Event) -> None:
    """Write a new event with one INSERT written out (``audit.sql.INSERT_EVENT``): what ``event.save()`` does for
    a new row (Event has no signal receivers), without compiling the statement on every call, which cost more
    than the insert.  Every sign-in and every refusal records an event, so this is on the hottest write path."""
    INSERT_EVENT.save(event)


def record(
    action: Action,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    actor_label: str | None = None,
    subject: Any = None,
    subject_label: str | None = None,
    **detail: Any,
) -> Event:
    """Append one event.  ``actor`` defaults to the request's signed-in employee, else the CLI's OS user."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            actor = user
    if actor_label is None:
        if actor is not None:
            actor_label = actor.email
        elif request is not None:
            actor_label = "anonymous"
        else:
            actor_label = cli_actor()
    if subject_label is None:
        subject_label = getattr(subject, "email", "") if subject is not None else ""
    user_agent = ""
    if request is not None:
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:_USER_AGENT_MAX]
    event = Event(
        at=timezone.now(),
        action=Action(action).value,
        actor=actor,
        actor_label=_without_nul(actor_label),
        subject=subject,
        subject_label=_without_nul(subject_label),
        ip=client_ip(request),
        user_agent=_without_nul(user_agent),
        detail=_without_nul(detail),
    )
    _insert(event)
    _count(event.action, detail)
    log.info("audit %s actor=%s subject=%s", event.action, actor_label, subject_label)
    return event


# Refusals not recorded one by one wait here for their source's next event (kept a week).
_PENDING_KEPT_SECONDS = 7 * 24 * 3600


def record_refusal(
    action: Action,
    *,
    request: HttpRequest,
    kind: str = "",
    window: int | None = None,
    **detail: Any,
) -> Event | None:
    """Record the refusal of an anonymous request once per source and window: garbage must not fill the trail.

    The source is the client address with ``action`` and ``kind`` (a reason, a scope).  The first refusal of a
    window (``window`` seconds, else ``[rate_limits] audit_window_seconds``) is recorded with
    ``earlier_refusals``: how many from that source since its previous event were only counted; the others are
    only counted.  Counted in the rate limits' shared cache (one atomic statement a call).  Returns the event,
    or None when the refusal was only counted.
    """
    from django.conf import settings
    from django.core.cache import caches

    counters = caches[settings.RATELIMIT_USE_CACHE]
    window = window or settings.SMISHGUARD.rate_limits.audit_window_seconds
    source = hashlib.sha256(f"{Action(action).value}|{client_ip(request)}|{kind}".encode()).hexdigest()[:40]
    pending = f"audit-pending:{source}"
    if not counters.add(f"audit-first:{source}:{int(time.time()) // window}", 1, window):
        if not counters.add(pending, 1, _PENDING_KEPT_SECONDS):
            counters.incr(pending)
        _count(Action(action).value, detail)
        return None
    earlier = counters.get(pending) or 0
    if earlier:
        counters.incr(pending, -earlier)  # (not a delete: one counted meanwhile by another worker stays)
    return record(action, request=request, earlier_refusals=earlier, **detail)
