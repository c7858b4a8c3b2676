"""Signing in with a security key: request options for an email (real or fake keys, the same shape either
way), then the assertion checked in three steps around one looked-up row: look-up -> verify -> commit.

Every refusal is recorded as SIGNIN_FAILED with its reason (and the origin seen, for a lookalike).  The
challenge is single-use: the transaction that ends the ceremony (a session opened, a key flagged, or the
refusal recorded) consumes it, and a request that finds it consumed by another is refused as a replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.accounts.errors import EmployeeNotActive
from smishguard.accounts.models import Employee, Session
from smishguard.audit import Action, record, record_refusal
from smishguard.db import execute, fetch_all, fetch_one, one_writer
from smishguard.errors import SmishguardError
from smishguard.passkeys import ceremonies, sql
from smishguard.passkeys.challenges import config, db_time, policy, refusal_detail, store_challenge, take_challenge
from smishguard.passkeys.errors import (
    ChallengeExpired,
    ChallengeNotFound,
    ChallengeReplayed,
    CounterRegressed,
    CredentialRevoked,
    KeyFlagged,
    UnknownCredential,
)
from smishguard.passkeys.key_profile import fake_allow_list, key_profile, transports_of
from smishguard.passkeys.keys import flag_key
from smishguard.passkeys.models import Challenge, Credential

# --------------------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------------------


def begin_login(*, email: str | None = None) -> ceremonies.CeremonyOptions:
    """Request options.  With an email, the employee's keys are offered; an unknown, suspended or keyless
    email gets the same shape of answer (fake, deterministic ids), so nobody can list accounts."""
    employee_id = None
    allow: list[tuple[bytes, list[str]]] = []
    if email:
        normalized = email.strip().lower()
        key_profile()  # for a known email too: the same statements run whatever the answer
        rows = fetch_all(sql.LOGIN_KEYS, [normalized])
        if rows and rows[0][1] == Employee.Status.ACTIVE:
            allow = [(bytes(cid), transports_of(transports)) for _, _, cid, transports in rows if cid is not None]
            if allow:
                employee_id = rows[0][0]
        if not allow:
            allow = fake_allow_list(normalized)
    options = ceremonies.authentication_options(rp_id=config().rp_id, policy=policy(), allow_credentials=allow)
    store_challenge(options, Challenge.Purpose.LOGIN, employee=employee_id)
    return options


# --------------------------------------------------------------------------------------------------------
# The assertion: look-up -> verify -> commit
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    employee: Employee
    credential: Credential
    session: Session
    token: str  # the session cookie's value

    def to_dict(self) -> dict[str, str]:
        return {"email": self.employee.email, "name": self.employee.name}


def _loaded(cls: type[Model], /, **values: Any) -> Any:
    """A model instance as the ORM loads it with only some columns (``.only()``): the others load on access."""
    names = [f.attname for f in cls._meta.concrete_fields if f.attname in values]
    return cls.from_db(connection.alias, names, [values[n] for n in names])


class LoginRow(NamedTuple):
    """The sign-in look-up (``sql.FIND_LOGIN``), read by name: the challenge, and beside it the key the
    assertion names with its employee; the key's columns are None when no key has that id."""

    challenge_id: int
    challenge_employee_id: int | None  # the employee whose email asked for the options, if one did
    challenge_used: bool
    challenge_live: bool
    key_id: int | None
    employee_id: int | None
    public_key: bytes | None
    sign_count: int | None
    backup_eligible: bool | None
    user_handle: bytes | None
    revoked: bool | None
    flagged: bool | None
    key_name: str | None
    model: str | None
    email: str | None
    name: str | None
    status: str | None
    is_admin: bool | None

    def credential(self) -> Credential:
        """The key, with only the columns a sign-in needs and its employee attached (the rest load on access)."""
        credential = _loaded(
            Credential,
            id=self.key_id,
            employee_id=self.employee_id,
            sign_count=self.sign_count,
            backup_eligible=bool(self.backup_eligible),
            name=self.key_name,
            model=self.model,
        )
        credential.employee = self.employee()
        return credential

    def employee(self) -> Employee:
        return _loaded(
            Employee,
            id=self.employee_id,
            email=self.email,
            name=self.name,
            status=self.status,
            is_admin=bool(self.is_admin),
        )


def _look_up(response: ceremonies.AuthenticationResponse, at: Any) -> LoginRow:
    """The sign-in challenge and the key named, in one read-only statement.

    Raises if the challenge is unknown, used or expired, before anything is said about the key.  The challenge
    is consumed (``take_challenge``) in the transaction that ends the ceremony, whatever its outcome, and only
    the request whose take succeeds has its outcome recorded; any other is a replay.
    """
    found = fetch_one(
        sql.FIND_LOGIN, [at, response.credential_id, response.client_data.challenge, Challenge.Purpose.LOGIN]
    )
    if found is None:
        raise ChallengeNotFound()
    row = LoginRow._make(found)
    if row.challenge_used:
        raise ChallengeReplayed()
    if not row.challenge_live:
        raise ChallengeExpired()
    return row


def _check_key(row: LoginRow, response: ceremonies.AuthenticationResponse) -> None:
    """The key named may sign this employee in: known, offered for this sign-in, not revoked nor flagged."""
    if row.key_id is None:
        raise UnknownCredential()
    if row.challenge_employee_id is not None and row.employee_id != row.challenge_employee_id:
        raise UnknownCredential("this security key was not offered for this sign-in")
    handle = bytes(row.user_handle or b"")
    if response.user_handle and handle and handle != response.user_handle:
        raise UnknownCredential("the user handle does not match this security key")
    if row.revoked:
        raise CredentialRevoked()
    if row.flagged:
        raise KeyFlagged()


def _verify(row: LoginRow, response: ceremonies.AuthenticationResponse) -> ceremonies.VerifiedAssertion:
    """The assertion's signature, origin, RP ID, flags and counter (CounterRegressed: a possible clone), then
    the employee's status."""
    cfg = config()
    verified = ceremonies.verify_authentication(
        response=response,
        expected_challenge=response.client_data.challenge,
        rp_id=cfg.rp_id,
        origin=cfg.origin,
        policy=policy(),
        public_key=bytes(row.public_key or b""),
        stored_sign_count=row.sign_count or 0,
        backup_eligible=bool(row.backup_eligible),
    )
    if row.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive()
    return verified


def _commit(
    row: LoginRow,
    credential: Credential,
    verified: ceremonies.VerifiedAssertion,
    *,
    now: datetime,
    at: Any,
    request: HttpRequest | None,
) -> SignIn:
    """In one transaction: take the challenge, move the key's counter on, open the session, record it."""
    with one_writer(), transaction.atomic():
        if not take_challenge(row.challenge_id, at):
            raise ChallengeReplayed()
        params = [verified.sign_count, at, verified.backed_up, credential.pk]
        statement = sql.USE_KEY
        if verified.sign_count > 0:
            statement, params = sql.USE_KEY_COUNTER_ABOVE, [*params, verified.sign_count]
        if execute(statement, params) != 1:
            raise CredentialRevoked("this security key changed during sign-in; try again")
        credential.sign_count = verified.sign_count
        credential.last_used_at = now
        credential.backed_up = verified.backed_up
        token, session = sessions.create(
            credential.employee, request=request, credential=credential, user_verified=verified.user_verified
        )
        record(
            Action.SIGNIN_SUCCEEDED,
            request=request,
            actor=credential.employee,
            subject=credential.employee,
            key_id=credential.pk,
            key_name=credential.name,
            model=credential.model,
            user_verified=verified.user_verified,
            session_id=session.pk,
        )
    return SignIn(employee=credential.employee, credential=credential, session=session, token=token)


def finish_login(data: dict[str, Any], *, request: HttpRequest | None = None) -> SignIn:
    """Verify an AuthenticationResponseJSON, update the key's counter and open a session (see the module)."""
    now = timezone.now()
    at = db_time(now)
    response: ceremonies.AuthenticationResponse | None = None
    row: LoginRow | None = None
    try:
        response = ceremonies.parse_authentication_response(data)
        row = _look_up(response, at)
        _check_key(row, response)
        verified = _verify(row, response)
        return _commit(row, row.credential(), verified, now=now, at=at, request=request)
    except SmishguardError as exc:
        _refuse(exc, row=row, response=response, at=at, request=request)
        raise


def _refuse(
    exc: SmishguardError,
    *,
    row: LoginRow | None,
    response: ceremonies.AuthenticationResponse | None,
    at: Any,
    request: HttpRequest | None,
) -> None:
    """End a refused ceremony in one transaction: take the challenge (if the look-up found it), flag the key if
    its counter went backwards, and record SIGNIN_FAILED.  Raises ChallengeReplayed instead when another request
    took the challenge first (only that one's outcome counts)."""
    known_key = row is not None and row.key_id is not None
    subject: Employee | None = None
    if known_key:
        subject = row.employee()
    elif row is not None and row.challenge_employee_id is not None:
        subject = Employee.objects.filter(pk=row.challenge_employee_id).first()
    with transaction.atomic():
        if row is not None and not take_challenge(row.challenge_id, at):
            replayed = ChallengeReplayed()  # another request consumed this challenge first
            _signin_failed(replayed, request=request, subject=subject, response=response, key_id=row.key_id)
            raise replayed from None
        if isinstance(exc, CounterRegressed) and known_key:
            credential = row.credential()
            flag_key(
                credential,
                reason="signature counter went backwards",
                request=request,
                stored=exc.stored,
                seen=exc.seen,
            )
            subject = credential.employee
        _signin_failed(exc, request=request, subject=subject, response=response, key_id=row.key_id if row else None)


def _signin_failed(
    exc: SmishguardError,
    *,
    request: HttpRequest | None,
    subject: Employee | None,
    response: ceremonies.AuthenticationResponse | None,
    key_id: int | None,
) -> None:
    detail = refusal_detail(exc)
    if response is not None:
        detail["credential_id"] = ceremonies.to_base64url(response.credential_id)[:200]
    if key_id is not None:
        detail["key_id"] = key_id
    if subject is None and request is not None:  # nobody's key: garbage is recorded once per source and window
        record_refusal(Action.SIGNIN_FAILED, request=request, kind=detail["reason"], actor_label="anonymous", **detail)
        return
    record(Action.SIGNIN_FAILED, request=request, actor_label="anonymous", subject=subject, **detail)
