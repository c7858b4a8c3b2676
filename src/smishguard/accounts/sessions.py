"""Server-side sessions: create, resolve on every request, revoke at once.

Every request looks its session up in the database, so a revocation committed by any process (another
gunicorn worker, the CLI) is seen by the very next request everywhere; there is no cache to go stale.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts.errors import StepUpRequired
from smishguard.accounts.models import Employee, Session, token_digest
from smishguard.accounts.sql import (
    CHECK_SESSION,
    CHECK_SESSION_ROW,
    CREDENTIAL_ROW,
    EMPLOYEE_ROW,
    INSERT_SESSION,
    SESSION_BY_KEY,
    SESSION_ROW,
)
from smishguard.audit import Action, record
from smishguard.audit.recorder import client_ip
from smishguard.db import fetch_one
from smishguard.errors import NotAuthenticated

# last_seen_at is written at most this often per session, so a busy page does not write on every request.
TOUCH_INTERVAL = timedelta(seconds=60)


def policy():
    return settings.SMISHGUARD.sessions


def create(
    employee: Employee,
    *,
    request: HttpRequest | None,
    credential=None,
    auth_method: str = "webauthn",
    user_verified: bool = False,
):
    """Open a session; returns ``(cookie_token, session)``.  Only the token's digest is stored.

    One INSERT written out (``accounts.sql.INSERT_SESSION``: it runs on every sign-in, where the ORM's statement
    compiler costs more than the insert itself); the Session returned is the saved row, as
    ``Session.objects.create`` would return it.
    """
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    session = Session(
        key_hash=token_digest(token),
        employee=employee,
        auth_method=auth_method,
        credential=credential,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=policy().absolute_lifetime_seconds),
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:512] if request is not None else ""),
        last_assertion_at=now,  # a session is opened by a key assertion
        user_verified=user_verified,  # ... in which the person was verified (UV), or not
    )
    INSERT_SESSION.save(session)
    return token, session


def _by_key(key_hash: str) -> Session | None:
    """The session with this key hash, its employee and the key that opened it (``select_related("employee",
    "credential")``), in one statement written out (``accounts.sql.SESSION_BY_KEY``: it runs on every request
    with a cookie and every gateway check, where the ORM's query compiler cost more than the database)."""
    row = fetch_one(SESSION_BY_KEY, [key_hash])
    if row is None:
        return None
    session = SESSION_ROW.build(row)
    session.employee = EMPLOYEE_ROW.build(row[SESSION_ROW.width :])
    at = SESSION_ROW.width + EMPLOYEE_ROW.width
    session.credential = CREDENTIAL_ROW.build(row[at:]) if row[at] is not None else None
    return session


def _is_live(revoked_at, expires_at, last_seen_at, status: str, now: datetime) -> bool:
    """Not revoked, not past its absolute lifetime nor its idle timeout, its employee active."""
    return (
        revoked_at is None
        and expires_at > now
        and last_seen_at + timedelta(seconds=policy().idle_timeout_seconds) > now
        and status == Employee.Status.ACTIVE
    )


def _touch(pk: int, last_seen_at: datetime, now: datetime) -> bool:
    """Move the session's last_seen_at on, at most once per TOUCH_INTERVAL; whether it was written."""
    if now - last_seen_at < TOUCH_INTERVAL:
        return False
    Session.objects.filter(pk=pk).update(last_seen_at=now)
    return True


def resolve(token: str | None) -> Session | None:
    """The live session for a cookie token, or None (unknown, revoked, idle, expired, employee not active)."""
    if not token or len(token) > 128:
        return None
    session = _by_key(token_digest(token))
    if session is None:
        return None
    now = timezone.now()
    if not _is_live(session.revoked_at, session.expires_at, session.last_seen_at, session.employee.status, now):
        return None
    if _touch(session.pk, session.last_seen_at, now):
        session.last_seen_at = now
    return session


@dataclass(frozen=True, slots=True)
class SessionValues:
    """A live session as the gateway's check reads it (:func:`resolve_values`): plain values, no model."""

    pk: int
    employee_id: int
    email: str
    name: str
    created_at: datetime
    last_assertion_at: datetime | None  # the last key touch: sign-in or step-up
    user_verified: bool  # the person was verified (UV) at that touch
    backup_eligible: bool | None  # the key that opened it: a synced passkey; None when unknown (removed)
    ip: str | None  # where it was opened
    groups: frozenset[str]  # the employee's group names
    key_touch_required_at: datetime | None = None  # require_key_touch: a fresh touch asked for at this time

    @property
    def key_touch_due(self) -> bool:
        """A key touch was asked for (``require_key_touch``) after the session's last one: the gateway sends the
        person to step up before it admits anything, and a step-up (a later ``last_assertion_at``) ends it."""
        asked = self.key_touch_required_at
        return asked is not None and (self.last_assertion_at is None or asked > self.last_assertion_at)


def resolve_values(token: str | None) -> SessionValues | None:
    """:func:`resolve` for the gateway's check: the same session, judged by the same rules and touched alike, in
    one statement with its employee's groups (``accounts.sql.CHECK_SESSION``), as plain values."""
    if not token or len(token) > 128:
        return None
    row = fetch_one(CHECK_SESSION[connection.vendor], [token_digest(token)])
    if row is None:
        return None
    pk, employee_id, created, seen, expires, revoked, asserted, verified, ip, touch, status, email, name, backup = (
        CHECK_SESSION_ROW.values(row)
    )
    now = timezone.now()
    if not _is_live(revoked, expires, seen, status, now):
        return None
    _touch(pk, seen, now)
    groups = row[CHECK_SESSION_ROW.width]
    if isinstance(groups, str):  # SQLite: a JSON array
        groups = json.loads(groups)
    return SessionValues(
        pk=pk,
        employee_id=employee_id,
        email=email,
        name=name,
        created_at=created,
        last_assertion_at=asserted,
        user_verified=bool(verified),
        backup_eligible=backup,
        ip=ip,
        groups=frozenset(groups or ()),
        key_touch_required_at=touch,
    )


# Why a session was revoked, in words for the person whose browser held it (Session.revoke_reason -> sentence).
# Any other reason (an admin's or the CLI operator's, free text included) is "ended by the security team": the
# sentence never names who did it nor repeats an operator's words.
_ENDED_BECAUSE = {
    "signed out": "You signed out at {at}.",
    "ended by employee": "You ended this session at {at}, from another of your sessions.",
    "security key flagged as possibly cloned": (
        "Your session was ended at {at} because the security key you signed in with was flagged as possibly "
        "cloned. Sign in with another of your keys, or ask the security team for a recovery."
    ),
    "signature counter went backwards": (
        "Your session was ended at {at} because the security key you signed in with was flagged as possibly "
        "cloned. Sign in with another of your keys, or ask the security team for a recovery."
    ),
    "key removed": "Your session was ended at {at} because the security key you signed in with was removed.",
    "suspended": "Your session was ended at {at} because your account was suspended.",
    "offboarded": "Your session was ended at {at} because your account was offboarded.",
}


def _duration(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _at(moment) -> str:
    return f"{timezone.localtime(moment, UTC):%Y-%m-%d %H:%M} UTC"


def why_ended(token: str | None) -> str | None:
    """Why the session behind this cookie token no longer lets its holder in, as a sentence for them; None when
    there is no such session or it is still live.

    Only the browser holding the cookie can ask (the database keeps the token's digest alone), so the answer is
    about the asker's own session; it names no other person (not the admin who ended it).
    """
    if not token or len(token) > 128:
        return None
    session = Session.objects.select_related("employee").filter(key_hash=token_digest(token)).first()
    if session is None:
        return None
    now = timezone.now()
    if session.revoked_at is not None:
        sentence = _ENDED_BECAUSE.get(session.revoke_reason, "Your session was ended by the security team at {at}.")
        return sentence.format(at=_at(session.revoked_at))
    if session.expires_at <= now:
        lifetime = int((session.expires_at - session.created_at).total_seconds())
        return (
            f"Your session expired after {_duration(lifetime)} (at {_at(session.expires_at)}), the longest one lasts."
        )
    idle = policy().idle_timeout_seconds
    if session.last_seen_at + timedelta(seconds=idle) <= now:
        ended = session.last_seen_at + timedelta(seconds=idle)
        return f"Your session ended after {_duration(idle)} of inactivity (at {_at(ended)})."
    if session.employee.status != Employee.Status.ACTIVE:
        return f"Your account was {session.employee.status}: ask the security team."
    return None


def live() -> QuerySet[Session]:
    """Sessions that would be admitted now (not revoked, within both timeouts)."""
    now = timezone.now()
    idle_cutoff = now - timedelta(seconds=policy().idle_timeout_seconds)
    return Session.objects.filter(revoked_at__isnull=True, expires_at__gt=now, last_seen_at__gt=idle_cutoff)


def revoke(
    sessions: QuerySet[Session],
    *,
    reason: str,
    request: HttpRequest | None = None,
    actor_label: str | None = None,
    action: Action = Action.SESSION_REVOKED,
) -> int:
    """Revoke the given sessions in one statement and record one audit event per affected employee."""
    now = timezone.now()
    targets = list(sessions.filter(revoked_at__isnull=True).select_related("employee"))
    if not targets:
        return 0
    label = actor_label
    if label is None:
        user = getattr(request, "user", None)
        label = user.email if getattr(user, "is_authenticated", False) else "cli"
    Session.objects.filter(pk__in=[s.pk for s in targets]).update(
        revoked_at=now, revoked_by=label, revoke_reason=reason
    )
    by_employee: dict[int, list[Session]] = {}
    for s in targets:
        by_employee.setdefault(s.employee_id, []).append(s)
    for group in by_employee.values():
        record(
            action,
            request=request,
            actor_label=actor_label,
            subject=group[0].employee,
            reason=reason,
            sessions=len(group),
            session_ids=[s.pk for s in group],
        )
    return len(targets)


def require_fresh_assertion(request: HttpRequest, *, max_age: int | None = None, what: str = "") -> Session:
    """The one step-up guard: this request's session made a key assertion at most ``max_age`` seconds ago.

    ``max_age`` defaults to ``[sessions] step_up_max_age_seconds`` (300).  Raises NotAuthenticated without a
    session, StepUpRequired (recorded) when the last assertion is older; the JSON API answers it with a 403
    ``step_up_required``, HTML pages with a "touch your key" page that returns the employee to where they were.
    """
    session = getattr(request, "sg_session", None)
    if session is None:
        raise NotAuthenticated("sign in first")
    limit = policy().step_up_max_age_seconds if max_age is None else max_age
    last = session.last_assertion_at
    if last is not None and timezone.now() - last <= timedelta(seconds=limit):
        return session
    record(
        Action.STEPUP_REQUIRED,
        request=request,
        subject=session.employee,
        session_id=session.pk,
        what=what or request.path,
        max_age=limit,
        last_assertion_at=last.isoformat() if last is not None else None,
    )
    raise StepUpRequired(
        f"touch one of your security keys first: {what or 'this action'} needs a key touch in the last "
        f"{limit // 60 if limit >= 60 else limit} {'minutes' if limit >= 60 else 'seconds'}",
        max_age=limit,
    )


def require_key_touch(employee: Employee, *, reason: str, actor_label: str = "system") -> int:
    """Ask for a fresh key touch on each of ``employee``'s live sessions before their next protected request
    (the gateway sends them to step up while ``key_touch_required_at`` is later than ``last_assertion_at``).
    Recorded; the number of sessions marked."""
    now = timezone.now()
    marked = live().filter(employee=employee).update(key_touch_required_at=now)
    record(Action.KEY_TOUCH_DEMANDED, actor_label=actor_label, subject=employee, reason=reason, sessions=marked)
    return marked


def mark_assertion(session: Session, *, at=None, user_verified: bool = False) -> None:
    """Record that ``session`` just made a key assertion (a step-up ceremony succeeded), and whether the person
    was verified (UV) in it."""
    at = at or timezone.now()
    Session.objects.filter(pk=session.pk).update(last_assertion_at=at, user_verified=user_verified)
    session.last_assertion_at = at
    session.user_verified = user_verified
