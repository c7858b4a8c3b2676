"""An employee's security keys: listing, naming, removing, and flagging one as possibly cloned.

Each writes its audit events in one transaction with its change and raises a narrow error from
:mod:`smishguard.passkeys.errors`.
"""

from __future__ import annotations

import logging
import unicodedata

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.accounts.models import Employee, Session
from smishguard.audit import Action, record
from smishguard.audit.recorder import cli_actor
from smishguard.passkeys import signals
from smishguard.passkeys.errors import InvalidKeyName, KeyNotFound, LastKey
from smishguard.passkeys.key_profile import forget_key_profile
from smishguard.passkeys.models import Credential

log = logging.getLogger("smishguard.passkeys")

MAX_KEY_NAME = 100


def keys_for(employee: Employee) -> QuerySet[Credential]:
    """The employee's active (not revoked) keys, oldest first."""
    return Credential.objects.active().filter(employee=employee)


def usable_keys(employee: Employee) -> QuerySet[Credential]:
    return keys_for(employee).filter(flagged_at__isnull=True)


def clean_key_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidKeyName("the key name must be text")
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_KEY_NAME:
        raise InvalidKeyName(f"a key name must be 1 to {MAX_KEY_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidKeyName("a key name cannot contain control characters")
    return cleaned


def get_key(key_id: int, *, employee: Employee) -> Credential:
    credential = keys_for(employee).filter(pk=key_id).first()
    if credential is None:
        raise KeyNotFound()
    return credential


def rename_key(credential: Credential, name: str, *, actor: Employee, request: HttpRequest | None = None) -> Credential:
    """Give a key a new name (1-100 printable characters); raises InvalidKeyName."""
    cleaned = clean_key_name(name)
    old = credential.name
    if cleaned == old:
        return credential
    with transaction.atomic():
        Credential.objects.filter(pk=credential.pk).update(name=cleaned)
        credential.name = cleaned
        record(
            Action.KEY_RENAMED,
            request=request,
            actor=actor,
            subject=credential.employee,
            key_id=credential.pk,
            old_name=old,
            new_name=cleaned,
        )
    return credential


def remove_key(credential: Credential, *, actor: Employee, request: HttpRequest | None = None) -> None:
    """Revoke a key (the row stays, for the audit trail) and end the sessions it opened.

    An employee cannot remove their own last key (LastKey); an admin may remove anyone's, e.g. a lost key, and so
    may the CLI operator (``actor`` None: ``smishguard keys revoke``, recorded as ``cli:<os user>``).
    """
    with transaction.atomic():
        current = Credential.objects.select_for_update().filter(pk=credential.pk).first()
        if current is None or current.revoked_at is not None:
            raise KeyNotFound("this key has already been removed")
        own = actor is not None and actor.pk == current.employee_id
        # Their last *working* key: a flagged one beside it signs nobody in (and removing a flagged key is fine).
        if own and current.flagged_at is None and usable_keys(current.employee).count() <= 1:
            raise LastKey()
        now = timezone.now()
        reason = "removed by owner" if own else ("removed by admin" if actor is not None else "revoked by operator")
        Credential.objects.filter(pk=current.pk).update(revoked_at=now, revoke_reason=reason)
        credential.revoked_at = now
        credential.revoke_reason = reason
        opened = Session.objects.filter(credential=current)
        current_session = getattr(request, "sg_session", None)
        if own and current_session is not None:
            opened = opened.exclude(pk=current_session.pk)  # removing a key does not sign you out here
        ended = sessions.revoke(
            opened,
            reason="key removed",
            request=request,
            actor_label=getattr(actor, "email", None) or cli_actor(),
        )
        record(
            Action.KEY_REMOVED,
            request=request,
            actor=actor,
            subject=current.employee,
            key_id=current.pk,
            key_name=current.name,
            model=current.model,
            reason=reason,
            sessions_revoked=ended,
        )
    forget_key_profile()


def flag_key(credential: Credential, *, reason: str, request: HttpRequest | None = None, **detail: object) -> None:
    """Mark a key as possibly cloned, in one transaction: every later sign-in with it is refused, every session it
    opened is revoked (audited), and ``signals.key_flagged`` is sent so the security team is alerted."""
    now = timezone.now()
    with transaction.atomic():
        changed = Credential.objects.filter(pk=credential.pk, flagged_at__isnull=True).update(
            flagged_at=now, flag_reason=reason[:200]
        )
        credential.flagged_at = now
        credential.flag_reason = reason[:200]
        opened = list(
            Session.objects.filter(credential_id=credential.pk, revoked_at__isnull=True).values_list("pk", flat=True)
        )
        record(
            Action.KEY_FLAGGED,
            request=request,
            actor_label="system",
            subject=credential.employee,
            key_id=credential.pk,
            key_name=credential.name,
            reason=reason,
            sessions_revoked=len(opened),
            **detail,
        )
        ended = sessions.revoke(
            Session.objects.filter(pk__in=opened),
            reason="security key flagged as possibly cloned",
            request=request,
            actor_label="system",
        )
        if changed:
            results = signals.key_flagged.send_robust(
                sender=Credential,
                credential=credential,
                employee=credential.employee,
                reason=reason,
                sessions_revoked=ended,
                detail=detail,
                request=request,
            )
            for receiver, outcome in results:
                if isinstance(outcome, Exception):
                    name = getattr(receiver, "__qualname__", repr(receiver))
                    log.error("key_flagged receiver %s failed: %s", name, type(outcome).__name__)


# The challenge and the key in one statement: the challenge row, and beside it the key the assertion names (with
