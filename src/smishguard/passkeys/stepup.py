"""Step-up: a fresh key assertion by the signed-in employee, recorded on the session (sensitive actions ask
for one in the last few minutes: ``accounts.sessions.require_fresh_assertion``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.accounts.models import Employee, Session
from smishguard.audit import Action, record
from smishguard.errors import SmishguardError
from smishguard.passkeys import ceremonies
from smishguard.passkeys.challenges import claim_challenge, config, policy, refusal_detail, store_challenge
from smishguard.passkeys.errors import (
    ChallengeNotFound,
    CounterRegressed,
    CredentialRevoked,
    KeyFlagged,
    KeyNotFound,
    UnknownCredential,
)
from smishguard.passkeys.keys import flag_key, usable_keys
from smishguard.passkeys.models import Challenge, Credential


def begin_stepup(employee: Employee) -> ceremonies.CeremonyOptions:
    """Request options offering only the signed-in employee's own usable keys."""
    allow = [(bytes(c.credential_id), list(c.transports or [])) for c in usable_keys(employee)]
    if not allow:
        raise KeyNotFound("you have no usable security key to confirm with; ask the security team")
    options = ceremonies.authentication_options(rp_id=config().rp_id, policy=policy(), allow_credentials=allow)
    store_challenge(options, Challenge.Purpose.STEPUP, employee=employee)
    return options


def finish_stepup(data: dict[str, Any], *, session: Session, request: HttpRequest | None = None) -> Credential:
    """Verify an assertion by one of the session's employee's own keys and mark the session as stepped up.

    The same checks as at sign-in: a single-use challenge issued to this employee, the key theirs, neither
    revoked nor flagged, origin, RP ID, user verification per policy, the signature, and the counter (a counter
    that went backwards flags the key).  Success is recorded as STEPUP_SUCCEEDED, every refusal as
    STEPUP_FAILED with its reason.
    """
    employee = session.employee
    credential: Credential | None = None
    try:
        response = ceremonies.parse_authentication_response(data)
        challenge = claim_challenge(response.client_data.challenge, Challenge.Purpose.STEPUP)
        if challenge.employee_id != employee.pk:
            raise ChallengeNotFound("this challenge was issued for another employee")
        credential = Credential.objects.filter(credential_id=response.credential_id, employee=employee).first()
        if credential is None:
            raise UnknownCredential("this security key is not one of yours")
        if response.user_handle and credential.user_handle and bytes(credential.user_handle) != response.user_handle:
            raise UnknownCredential("the user handle does not match this security key")
        if credential.revoked_at is not None:
            raise CredentialRevoked()
        if credential.flagged_at is not None:
            raise KeyFlagged()
        cfg = config()
        try:
            verified = ceremonies.verify_authentication(
                response=response,
                expected_challenge=bytes(challenge.challenge),
                rp_id=cfg.rp_id,
                origin=cfg.origin,
                policy=policy(),
                public_key=bytes(credential.public_key),
                stored_sign_count=credential.sign_count,
                backup_eligible=credential.backup_eligible,
            )
        except CounterRegressed as exc:
            flag_key(
                credential,
                reason="signature counter went backwards",
                request=request,
                stored=exc.stored,
                seen=exc.seen,
                ceremony="step-up",
            )
            raise
        now = timezone.now()
        with transaction.atomic():
            used = Credential.objects.filter(pk=credential.pk, revoked_at__isnull=True, flagged_at__isnull=True)
            if verified.sign_count > 0:
                used = used.filter(sign_count__lt=verified.sign_count)
            if not used.update(sign_count=verified.sign_count, last_used_at=now, backed_up=verified.backed_up):
                raise CredentialRevoked("this security key changed during the step-up; try again")
            credential.sign_count = verified.sign_count
            credential.last_used_at = now
            sessions.mark_assertion(session, at=now, user_verified=verified.user_verified)
            record(
                Action.STEPUP_SUCCEEDED,
                request=request,
                actor=employee,
                subject=employee,
                key_id=credential.pk,
                key_name=credential.name,
                user_verified=verified.user_verified,
                session_id=session.pk,
            )
    except SmishguardError as exc:
        detail = refusal_detail(exc)
        if credential is not None:
            detail["key_id"] = credential.pk
        record(Action.STEPUP_FAILED, request=request, actor=employee, subject=employee, session_id=session.pk, **detail)
        raise
    return credential
