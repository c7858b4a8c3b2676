"""What the passkeys ceremonies share: the policy, and challenges kept server-side, single-use, short-lived."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from smishguard.accounts.models import Employee, EnrolmentLink
from smishguard.config import Settings, WebAuthnPolicy
from smishguard.db import execute, one_writer
from smishguard.errors import SmishguardError
from smishguard.passkeys import ceremonies, sql
from smishguard.passkeys.errors import ChallengeExpired, ChallengeNotFound, ChallengeReplayed
from smishguard.passkeys.models import Challenge


def policy() -> WebAuthnPolicy:
    return settings.SMISHGUARD.webauthn


def config() -> Settings:
    return settings.SMISHGUARD


def db_time(value: datetime) -> Any:
    """A datetime as the database backend stores it (what the ORM would pass)."""
    return connection.ops.adapt_datetimefield_value(value)


def refusal_detail(exc: SmishguardError) -> dict[str, object]:
    """An error as the audit detail of a refusal: its code as ``reason``, its message and its detail."""
    detail: dict[str, object] = {"reason": exc.code, "message": exc.message}
    for key, value in exc.detail.items():
        detail[key] = value
    return detail


def store_challenge(
    options: ceremonies.CeremonyOptions,
    purpose: str,
    *,
    employee: Employee | int | None = None,
    link: EnrolmentLink | None = None,
    user_handle: bytes = b"",
) -> None:
    """Keep a ceremony's challenge server-side (one INSERT); ``employee`` is an Employee or its id."""
    now = timezone.now()
    if secrets.randbelow(64) == 0:  # now and then, forget challenges that expired over an hour ago
        Challenge.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    employee_id = employee.pk if isinstance(employee, Employee) else employee
    expires_at = now + timedelta(seconds=policy().challenge_ttl_seconds)
    with one_writer():
        # In sql.CHALLENGE_FIELDS order: challenge, purpose, employee, enrolment_link, created_at, expires_at,
        # used_at, user_handle.
        sql.INSERT_CHALLENGE.insert(
            [
                options.challenge,
                purpose,
                employee_id,
                link.pk if link is not None else None,
                now,
                expires_at,
                None,
                user_handle,
            ]
        )


def claim_challenge(value: bytes, purpose: str) -> Challenge:
    """Find a challenge and mark it used, once: UPDATE ... WHERE used_at IS NULL decides between racers."""
    row = (
        Challenge.objects.select_related("employee", "enrolment_link").filter(challenge=value, purpose=purpose).first()
    )
    if row is None:
        raise ChallengeNotFound()
    if row.used_at is not None:
        raise ChallengeReplayed()
    now = timezone.now()
    if row.expires_at <= now:
        raise ChallengeExpired()
    claimed = Challenge.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
    if claimed != 1:
        raise ChallengeReplayed()
    row.used_at = now
    return row


def take_challenge(challenge_pk: int, at: Any) -> bool:
    """Mark the challenge ``challenge_pk`` used at ``at`` (a database time), in one UPDATE; False when another
    request consumed it first (or it expired)."""
    return execute(sql.CLAIM_CHALLENGE, [at, challenge_pk, at]) == 1
