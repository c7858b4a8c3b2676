"""Registering a security key: creation options for an enrolment link or the signed-in employee, then the
verified key stored, once, with its audit event."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from smishguard.accounts.errors import EmployeeNotActive, EnrolmentLinkInvalid
from smishguard.accounts.models import Employee, EnrolmentLink
from smishguard.accounts.services import consume_link, usable_link
from smishguard.accounts.signals import notify
from smishguard.audit import Action, record, record_refusal
from smishguard.errors import NotAuthenticated, SmishguardError
from smishguard.passkeys import ceremonies
from smishguard.passkeys.challenges import claim_challenge, config, policy, refusal_detail, store_challenge
from smishguard.passkeys.errors import (
    BackupEligibleRefused,
    ChallengeNotFound,
    CredentialExists,
    PolicyRefused,
    UserVerificationMissing,
)
from smishguard.passkeys.key_profile import forget_key_profile
from smishguard.passkeys.keys import clean_key_name, keys_for
from smishguard.passkeys.models import Challenge, Credential

USER_HANDLE_BYTES = 32
# Policy refusals are recorded as POLICY_REFUSED; other registration failures as KEY_REGISTRATION_REFUSED.
_POLICY_ERRORS = (PolicyRefused, UserVerificationMissing, BackupEligibleRefused)


def _user_handle(employee: Employee) -> bytes:
    existing = (
        Credential.objects.filter(employee=employee).exclude(user_handle=b"").values_list("user_handle", flat=True)
    ).first()
    return bytes(existing) if existing else secrets.token_bytes(USER_HANDLE_BYTES)


def _exclude_list(employee: Employee) -> list[tuple[bytes, list[str]]]:
    return [(bytes(c.credential_id), list(c.transports or [])) for c in keys_for(employee)]


def begin_registration(*, token: str | None = None, employee: Employee | None = None) -> ceremonies.CeremonyOptions:
    """Creation options for the employee an enrolment token names, else for the signed-in ``employee``."""
    link = None
    if token is not None:
        link = usable_link(token)
        employee = link.employee
    elif employee is None or not getattr(employee, "is_authenticated", False):
        raise NotAuthenticated("an enrolment link or a signed-in session is needed to register a key")
    if employee.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive()
    handle = _user_handle(employee)
    cfg = config()
    options = ceremonies.registration_options(
        rp_id=cfg.rp_id,
        rp_name=cfg.rp_name,
        user_id=handle,
        user_name=employee.email,
        user_display_name=employee.name,
        policy=policy(),
        exclude_credentials=_exclude_list(employee),
    )
    store_challenge(options, Challenge.Purpose.REGISTER, employee=employee, link=link, user_handle=handle)
    return options


def finish_registration(
    data: dict[str, Any],
    *,
    token: str | None = None,
    name: str | None = None,
    employee: Employee | None = None,
    request: HttpRequest | None = None,
) -> Credential:
    """Verify a RegistrationResponseJSON and store the key.

    ``token`` is the enrolment link's token (consumed here, once); without one, ``employee`` must be the
    signed-in employee who asked for the options (adding a backup key from the portal).
    """
    if name is not None and name != "":
        name = clean_key_name(name)
    subject: Employee | None = employee if getattr(employee, "is_authenticated", False) else None
    try:
        response = ceremonies.parse_registration_response(data)
        challenge = claim_challenge(response.client_data.challenge, Challenge.Purpose.REGISTER)
        subject = challenge.employee
        link = _registration_link(challenge, token=token, employee=employee)
        if subject is None or subject.status != Employee.Status.ACTIVE:
            raise EmployeeNotActive()
        cfg = config()
        verified = ceremonies.verify_registration(
            response=response,
            expected_challenge=bytes(challenge.challenge),
            rp_id=cfg.rp_id,
            origin=cfg.origin,
            policy=policy(),
            trust=ceremonies.load_trust(policy()),
        )
        if Credential.objects.filter(credential_id=verified.credential_id).exists():
            raise CredentialExists()
        with transaction.atomic():
            if link is not None:
                consume_link(link, request=request, credential_id=ceremonies.to_base64url(verified.credential_id))
            count = Credential.objects.filter(employee=subject).count()
            try:
                with transaction.atomic():
                    credential = Credential.objects.create(
                        employee=subject,
                        credential_id=verified.credential_id,
                        public_key=verified.public_key,
                        sign_count=verified.sign_count,
                        aaguid=verified.aaguid,
                        model=verified.model,
                        attestation_format=verified.attestation_format,
                        attestation_verified=verified.attestation_verified,
                        backup_eligible=verified.backup_eligible,
                        backed_up=verified.backed_up,
                        transports=list(verified.transports),
                        name=name or f"Security key {count + 1}",
                        user_handle=bytes(challenge.user_handle),
                    )
            except IntegrityError:
                raise CredentialExists() from None
            record(
                Action.KEY_REGISTERED,
                request=request,
                actor=subject,
                subject=subject,
                key_id=credential.pk,
                key_name=credential.name,
                credential_id=ceremonies.to_base64url(verified.credential_id),
                aaguid=verified.aaguid,
                model=verified.model,
                attestation_format=verified.attestation_format,
                attestation_verified=verified.attestation_verified,
                backup_eligible=verified.backup_eligible,
                via="enrolment link" if link is not None else "portal",
                **_portal_detail(request, link),
            )
            if link is None:
                _notify_key_added(subject, credential, request=request)
    except SmishguardError as exc:
        action = Action.POLICY_REFUSED if isinstance(exc, _POLICY_ERRORS) else Action.KEY_REGISTRATION_REFUSED
        detail = refusal_detail(exc)
        if subject is None and request is not None:  # no employee: garbage is recorded once per source and window
            record_refusal(action, request=request, kind=detail["reason"], ceremony="registration", **detail)
            raise
        record(action, request=request, actor=subject, subject=subject, ceremony="registration", **detail)
        raise
    forget_key_profile()
    return credential


def _portal_detail(request: HttpRequest | None, link: EnrolmentLink | None) -> dict[str, object]:
    """For a key added while signed in: the step-up that allowed it (the API checked it is fresh)."""
    session = getattr(request, "sg_session", None)
    if link is not None or session is None:
        return {}
    last = session.last_assertion_at
    return {"stepped_up": last is not None, "last_assertion_at": last.isoformat() if last else None}


def _notify_key_added(employee: Employee, credential: Credential, *, request: HttpRequest | None) -> None:
    """Tell the employee on their phone that a key was added (``accounts.signals.security_notice``)."""
    when = credential.created_at.strftime("%Y-%m-%d %H:%M UTC")
    notify(
        employee,
        f"smishguard: a new security key \u201c{credential.name}\u201d was added to your account on {when}. "
        "If this was not you, call the IT help desk now.",
        key=f"key-added:{credential.pk}",
        kind="key_added",
        request=request,
    )


def _registration_link(challenge: Challenge, *, token: str | None, employee: Employee | None) -> EnrolmentLink | None:
    if challenge.enrolment_link_id is not None:
        if not token:
            raise EnrolmentLinkInvalid("the enrolment token is missing")
        link = usable_link(token)
        if link.pk != challenge.enrolment_link_id:
            raise ChallengeNotFound("this challenge was issued for another enrolment link")
        return link
    if employee is None or not getattr(employee, "is_authenticated", False) or employee.pk != challenge.employee_id:
        raise NotAuthenticated("sign in as the employee who started adding this key")
    return None
