"""API tokens for integrations: issued by an admin, shown once, stored as a digest, compared in constant time."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from smishguard.accounts import scopes as registered_scopes
from smishguard.accounts.errors import InvalidToken
from smishguard.accounts.models import ApiToken, Employee, token_digest
from smishguard.accounts.throttle import limit_account
from smishguard.audit import Action, record, record_refusal
from smishguard.errors import NotFound

TOKEN_PREFIX = "sg_"  # noqa: S105 - a visible prefix that marks our tokens, not a secret
_TOUCH = timedelta(seconds=60)


def issue(
    name: str, *, scopes: list[str], actor: Employee | None = None, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns ``(row, secret)``.  The secret is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidToken("a token needs a name of 1 to 100 characters")
    known = registered_scopes.names()
    unknown = set(scopes) - set(known)
    if unknown or not scopes:
        raise InvalidToken(f"scopes must be some of {', '.join(known)}")
    for scope in scopes:
        requires = registered_scopes.get(scope).requires
        if requires and requires not in scopes:
            raise InvalidToken(f"the {scope} scope goes with the {requires} scope: give both")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(
            name=name,
            token_hash=token_digest(secret),
            prefix=secret[:10],
            scopes=sorted(set(scopes)),
            created_by=actor.email if actor else "cli",
        )
        record(
            Action.API_TOKEN_ISSUED,
            request=request,
            actor=actor,
            subject_label=name,
            token_id=row.pk,
            scopes=row.scopes,
        )
    return row, secret


def revoke(token_id: int, *, actor: Employee | None = None, request: HttpRequest | None = None) -> ApiToken:
    with transaction.atomic():
        try:
            row = ApiToken.objects.select_for_update().get(pk=token_id)
        except ApiToken.DoesNotExist:
            raise NotFound(f"no API token {token_id}") from None
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
            record(Action.API_TOKEN_REVOKED, request=request, actor=actor, subject_label=row.name, token_id=row.pk)
    return row


def authenticate(secret: str | None, scope: str) -> ApiToken | None:
    """The live token with ``scope`` for ``secret``, or None.  The digest comparison is constant-time."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = token_digest(secret)
    row = ApiToken.objects.filter(token_hash=digest).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.revoked_at is not None or scope not in row.scopes:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


class TokenAuth(HttpBearer):
    """django-ninja auth: ``Authorization: Bearer sg_...`` with the given scope."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        row = authenticate(token, self.scope)
        if row is None:
            # Nothing of the presented secret is recorded: it may be some other credential pasted by mistake.
            record_refusal(Action.API_TOKEN_REFUSED, request=request, kind=self.scope, scope=self.scope)
        else:
            limit_account(request, "api", f"token:{row.pk}")
        return row
