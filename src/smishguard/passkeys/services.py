"""Security keys with the database: ceremonies (challenges, enrolment, sign-in) and key management.

Views and the API call these.  Each writes its audit events, keeps writes in one transaction so a failure
leaves no half-written record, and raises a narrow error from :mod:`smishguard.passkeys.errors`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import sessions
from smishguard.accounts.errors import EmployeeNotActive, EnrolmentLinkInvalid
from smishguard.accounts.models import Employee, EnrolmentLink, Session
from smishguard.accounts.services import consume_link, usable_link
from smishguard.accounts.signals import notify
from smishguard.audit import Action, record, record_refusal
from smishguard.audit.recorder import cli_actor
from smishguard.config import Settings, WebAuthnPolicy
from smishguard.db import one_writer as _one_writer
from smishguard.errors import NotAuthenticated, SmishguardError
from smishguard.passkeys import ceremonies, signals
from smishguard.passkeys.errors import (
    BackupEligibleRefused,
    ChallengeExpired,
    ChallengeNotFound,
    ChallengeReplayed,
    CounterRegressed,
    CredentialExists,
    CredentialRevoked,
    InvalidKeyName,
    KeyFlagged,
    KeyNotFound,
    LastKey,
    OriginMismatch,
    PolicyRefused,
    UnknownCredential,
    UserVerificationMissing,
)
from smishguard.passkeys.models import Challenge, Credential

log = logging.getLogger("smishguard.passkeys")

MAX_KEY_NAME = 100
USER_HANDLE_BYTES = 32
# Policy refusals are recorded as POLICY_REFUSED; other registration failures as KEY_REGISTRATION_REFUSED.
_POLICY_ERRORS = (PolicyRefused, UserVerificationMissing, BackupEligibleRefused)


def policy() -> WebAuthnPolicy:
    return settings.SMISHGUARD.webauthn


def _config() -> Settings:
    return settings.SMISHGUARD


# --------------------------------------------------------------------------------------------------------
# Challenges: server-side, single-use, short-lived
# --------------------------------------------------------------------------------------------------------


def _db_time(value: datetime) -> Any:
    """A datetime as the database backend stores it (what the ORM would pass)."""
    return connection.ops.adapt_datetimefield_value(value)


# The sign-in path runs a few fixed statements: written out once here rather than compiled by the ORM on every
# request (the ORM's query compiler cost more than SQLite itself).  Plain SQL that SQLite and PostgreSQL share,
# on the tables of Challenge, Credential and Employee; every value is a parameter.
_INSERT_CHALLENGE = (
    "INSERT INTO passkeys_challenge (challenge, purpose, employee_id, enrolment_link_id, created_at, expires_at, "
    "used_at, user_handle) VALUES (%s, %s, %s, %s, %s, %s, NULL, %s)"
)


def _store_challenge(
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
    with _one_writer(), connection.cursor() as cursor:
        cursor.execute(
            _INSERT_CHALLENGE,
            [
                options.challenge,
                purpose,
                employee_id,
                link.pk if link is not None else None,
                _db_time(now),
                _db_time(now + timedelta(seconds=policy().challenge_ttl_seconds)),
                user_handle,
            ],
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


# --------------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------------


def keys_for(employee: Employee) -> QuerySet[Credential]:
    """The employee's active (not revoked) keys, oldest first."""
    return Credential.objects.active().filter(employee=employee)


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
    cfg = _config()
    options = ceremonies.registration_options(
        rp_id=cfg.rp_id,
        rp_name=cfg.rp_name,
        user_id=handle,
        user_name=employee.email,
        user_display_name=employee.name,
        policy=policy(),
        exclude_credentials=_exclude_list(employee),
    )
    _store_challenge(options, Challenge.Purpose.REGISTER, employee=employee, link=link, user_handle=handle)
    return options


def clean_key_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidKeyName("the key name must be text")
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_KEY_NAME:
        raise InvalidKeyName(f"a key name must be 1 to {MAX_KEY_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidKeyName("a key name cannot contain control characters")
    return cleaned


def _refusal_detail(exc: SmishguardError) -> dict[str, object]:
    detail: dict[str, object] = {"reason": exc.code, "message": exc.message}
    for key, value in exc.detail.items():
        detail[key] = value
    return detail


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
        cfg = _config()
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
        detail = _refusal_detail(exc)
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


# --------------------------------------------------------------------------------------------------------
# Sign-in
# --------------------------------------------------------------------------------------------------------


class KeyProfile(NamedTuple):
    """What real sign-in answers are made of: how many keys an employee is offered, and each key's id length
    and transports, with how often each occurs (sorted, so that a draw from it is stable)."""

    counts: tuple[tuple[int, int], ...]  # (keys offered, employees)
    kinds: tuple[tuple[tuple[int, tuple[str, ...]], int], ...]  # ((id length, transports), keys)


# Used while no employee has a usable key: security keys (64- and 48-byte ids over USB/NFC) and platform or
# phone passkeys (16-, 20- and 32-byte ids, internal/hybrid), one to three per person.
FALLBACK_KEY_PROFILE = KeyProfile(
    counts=((1, 6), (2, 3), (3, 1)),
    kinds=(
        ((16, ("hybrid", "internal")), 2),
        ((20, ("hybrid", "internal")), 1),
        ((32, ("internal",)), 1),
        ((48, ("usb",)), 2),
        ((64, ("nfc", "usb")), 4),
    ),
)
KEY_PROFILE_TTL_SECONDS = 600.0

# The make-up of every active employee's usable keys, in two statements, read at most every
# KEY_PROFILE_TTL_SECONDS per process by a login/options with an email, known or not (so both run the same
# statements); a key registered or removed in this process reads it again at the next one.
_KEY_KINDS = (
    "SELECT length(c.credential_id), c.transports, COUNT(*) FROM passkeys_credential c "
    "JOIN accounts_employee e ON e.id = c.employee_id "
    "WHERE c.revoked_at IS NULL AND c.flagged_at IS NULL AND e.status = %s "
    "GROUP BY length(c.credential_id), c.transports"
)
_KEY_COUNTS = (
    "SELECT n, COUNT(*) FROM (SELECT COUNT(*) AS n FROM passkeys_credential c "
    "JOIN accounts_employee e ON e.id = c.employee_id "
    "WHERE c.revoked_at IS NULL AND c.flagged_at IS NULL AND e.status = %s GROUP BY c.employee_id) per_employee "
    "GROUP BY n"
)


class _ProfileCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: KeyProfile | None = None
        self._read_at = 0.0

    def forget(self) -> None:
        with self._lock:
            self._value = None

    def get(self) -> KeyProfile:
        now = time.monotonic()
        with self._lock:
            if self._value is not None and now - self._read_at < KEY_PROFILE_TTL_SECONDS:
                return self._value
        value = _read_key_profile()
        with self._lock:
            self._value, self._read_at = value, now
        return value


def _read_key_profile() -> KeyProfile:
    with connection.cursor() as cursor:
        cursor.execute(_KEY_KINDS, [Employee.Status.ACTIVE])
        kind_rows = cursor.fetchall()
        cursor.execute(_KEY_COUNTS, [Employee.Status.ACTIVE])
        count_rows = cursor.fetchall()
    kinds: dict[tuple[int, tuple[str, ...]], int] = {}
    for length, transports, n in kind_rows:
        kind = (int(length), tuple(_transports(transports)))
        kinds[kind] = kinds.get(kind, 0) + int(n)
    counts = tuple(sorted((int(k), int(n)) for k, n in count_rows))
    if not kinds or not counts:
        return FALLBACK_KEY_PROFILE
    return KeyProfile(counts=counts, kinds=tuple(sorted(kinds.items())))


_key_profile = _ProfileCache()


def forget_key_profile() -> None:
    """Read the real keys' make-up again at the next login/options (after a key is added or removed)."""
    _key_profile.forget()


def _draw(weighted: tuple[tuple[Any, int], ...], seed: bytes) -> Any:
    """One item of ``weighted`` ((item, weight) pairs), chosen by 8 bytes of ``seed`` as a number in [0, 1)."""
    point = int.from_bytes(seed[:8], "big") / 2**64 * sum(w for _, w in weighted)
    for item, weight in weighted:
        if point < weight:
            return item
        point -= weight
    return weighted[-1][0]


def _fake_id(key: bytes, email: str, index: int, length: int) -> bytes:
    out = b""
    block = 0
    while len(out) < length:
        message = f"smishguard:fake-credential:{email}:{index}:{block}".encode()
        out += hmac.new(key, message, hashlib.sha512).digest()
        block += 1
    return out[:length]


def _fake_allow_list(email: str) -> list[tuple[bytes, list[str]]]:
    """Credentials for an email that has no usable keys, made like real answers and the same on every ask.

    The number of keys and each key's id length and transports are drawn from the real keys' make-up
    (``KeyProfile``) by an HMAC of the email under the secret key; the ids are HMACs too.  The draws use fixed
    slices of the HMAC over a sorted distribution, so a small change in the staff's keys moves few answers.
    """
    key = settings.SECRET_KEY.encode()
    seed = hmac.new(key, f"smishguard:fake-credentials:{email}".encode(), hashlib.sha512).digest()
    profile = _key_profile.get()
    count = _draw(profile.counts, seed[:8])
    out = []
    for i in range(count):
        kind_seed = hmac.new(key, f"smishguard:fake-credential-kind:{email}:{i}".encode(), hashlib.sha256).digest()
        length, transports = _draw(profile.kinds, kind_seed)
        out.append((_fake_id(key, email, i, length), list(transports)))
    return out


# The employee's status and usable keys (not revoked, not flagged), oldest first, in one statement.  Emails are
# stored stripped and lower-cased (Employee.save), so equality on the unique column is the case-insensitive match.
_LOGIN_KEYS = (
    "SELECT e.id, e.status, c.credential_id, c.transports FROM accounts_employee e "
    "LEFT JOIN passkeys_credential c ON c.employee_id = e.id AND c.revoked_at IS NULL AND c.flagged_at IS NULL "
    "WHERE e.email = %s ORDER BY c.created_at"
)


def _transports(value: Any) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else list(json.loads(value) or [])


def begin_login(*, email: str | None = None) -> ceremonies.CeremonyOptions:
    """Request options.  With an email, the employee's keys are offered; an unknown, suspended or keyless
    email gets the same shape of answer (fake, deterministic ids), so nobody can list accounts."""
    employee_id = None
    allow: list[tuple[bytes, list[str]]] = []
    if email:
        normalized = email.strip().lower()
        _key_profile.get()  # for a known email too: the same statements run whatever the answer
        with connection.cursor() as cursor:
            cursor.execute(_LOGIN_KEYS, [normalized])
            rows = cursor.fetchall()
        if rows and rows[0][1] == Employee.Status.ACTIVE:
            allow = [(bytes(cid), _transports(transports)) for _, _, cid, transports in rows if cid is not None]
            if allow:
                employee_id = rows[0][0]
        if not allow:
            allow = _fake_allow_list(normalized)
    options = ceremonies.authentication_options(rp_id=_config().rp_id, policy=policy(), allow_credentials=allow)
    _store_challenge(options, Challenge.Purpose.LOGIN, employee=employee_id)
    return options


@dataclass(frozen=True)
class SignIn:
    employee: Employee
    credential: Credential
    session: Session
    token: str  # the session cookie's value

    def to_dict(self) -> dict[str, str]:
        return {"email": self.employee.email, "name": self.employee.name}


def _signin_failed(
    exc: SmishguardError,
    *,
    request: HttpRequest | None,
    subject: Employee | None,
    credential_id: bytes | None,
    credential: Credential | None = None,
) -> None:
    detail = _refusal_detail(exc)
    if credential_id is not None:
        detail["credential_id"] = ceremonies.to_base64url(credential_id)[:200]
    if credential is not None:
        detail["key_id"] = credential.pk
    if subject is None and request is not None:  # nobody's key: garbage is recorded once per source and window
        record_refusal(Action.SIGNIN_FAILED, request=request, kind=detail["reason"], actor_label="anonymous", **detail)
        return
    record(Action.SIGNIN_FAILED, request=request, actor_label="anonymous", subject=subject, **detail)


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
# its employee), or NULLs when no key has that id.
_FIND_LOGIN = (
    "SELECT ch.id, ch.employee_id, ch.used_at IS NOT NULL, ch.expires_at > %s, "
    "c.id, c.employee_id, c.public_key, c.sign_count, c.backup_eligible, c.user_handle, "
    "c.revoked_at IS NOT NULL, c.flagged_at IS NOT NULL, c.name, c.model, e.email, e.name, e.status, e.is_admin "
    "FROM passkeys_challenge ch "
    "LEFT JOIN passkeys_credential c ON c.credential_id = %s "
    "LEFT JOIN accounts_employee e ON e.id = c.employee_id "
    "WHERE ch.challenge = %s AND ch.purpose = %s"
)
# Marks a challenge used, once: the request whose UPDATE changes the row is the one that consumed it.
_CLAIM_CHALLENGE = "UPDATE passkeys_challenge SET used_at = %s WHERE id = %s AND used_at IS NULL AND expires_at > %s"
_USE_KEY = (
    "UPDATE passkeys_credential SET sign_count = %s, last_used_at = %s, backed_up = %s "
    "WHERE id = %s AND revoked_at IS NULL AND flagged_at IS NULL"
)


def _loaded(cls: type[Model], /, **values: Any) -> Any:
    """A model instance as the ORM loads it with only some columns (``.only()``): the others load on access."""
    names = [f.attname for f in cls._meta.concrete_fields if f.attname in values]
    return cls.from_db(connection.alias, names, [values[n] for n in names])


def _claim(challenge_pk: int, at: Any) -> bool:
    """Mark the challenge used at ``at`` (a database time); False when another request consumed it first."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_CHALLENGE, [at, challenge_pk, at])
        return cursor.rowcount == 1


class _LoginKey(NamedTuple):
    credential: Credential  # only the columns a sign-in needs, its employee attached; the rest load on access
    public_key: bytes
    user_handle: bytes
    revoked: bool
    flagged: bool


def _login_lookup(challenge: bytes, credential_id: bytes, at: Any) -> tuple[int, int | None, _LoginKey | None]:
    """The sign-in challenge's id, the employee it was issued for, and the key named (None if unknown).

    Raises if the challenge is unknown, used or expired, before anything is said about the key.  Read only:
    the challenge is consumed (``_claim``) in the transaction that ends the ceremony, whatever its outcome,
    and only the request whose claim succeeds has its outcome recorded; any other is a replay.
    """
    with connection.cursor() as cursor:
        cursor.execute(_FIND_LOGIN, [at, credential_id, challenge, Challenge.Purpose.LOGIN])
        row = cursor.fetchone()
    if row is None:
        raise ChallengeNotFound()
    challenge_pk, challenge_employee_id, used, live = row[:4]
    if used:
        raise ChallengeReplayed()
    if not live:
        raise ChallengeExpired()
    pk, employee_id, public_key, sign_count, backup_eligible, handle, revoked, flagged = row[4:12]
    if pk is None:
        return challenge_pk, challenge_employee_id, None
    key_name, model, email, name, status, is_admin = row[12:]
    employee = _loaded(Employee, id=employee_id, email=email, name=name, status=status, is_admin=bool(is_admin))
    credential = _loaded(
        Credential,
        id=pk,
        employee_id=employee_id,
        sign_count=sign_count,
        backup_eligible=bool(backup_eligible),
        name=key_name,
        model=model,
    )
    credential.employee = employee
    key = _LoginKey(credential, bytes(public_key), bytes(handle or b""), bool(revoked), bool(flagged))
    return challenge_pk, challenge_employee_id, key


def finish_login(data: dict[str, Any], *, request: HttpRequest | None = None) -> SignIn:
    """Verify an AuthenticationResponseJSON, update the key's counter and open a session.

    Every refusal is recorded as SIGNIN_FAILED with its reason (and the origin seen, for a lookalike).  The
    challenge is single-use: the transaction that ends the ceremony (a session opened, a key flagged, or the
    refusal recorded) consumes it, and a request that finds it consumed by another is refused as a replay.
    """
    subject: Employee | None = None
    subject_id: int | None = None
    credential_id: bytes | None = None
    credential: Credential | None = None
    challenge_pk: int | None = None
    claimed = False
    now = timezone.now()
    at = _db_time(now)
    try:
        response = ceremonies.parse_authentication_response(data)
        credential_id = response.credential_id
        challenge_pk, subject_id, key = _login_lookup(response.client_data.challenge, credential_id, at)
        challenge_employee_id = subject_id
        if key is None:
            raise UnknownCredential()
        credential = key.credential
        subject, subject_id = credential.employee, credential.employee_id
        if challenge_employee_id is not None and credential.employee_id != challenge_employee_id:
            raise UnknownCredential("this security key was not offered for this sign-in")
        if response.user_handle and key.user_handle and key.user_handle != response.user_handle:
            raise UnknownCredential("the user handle does not match this security key")
        if key.revoked:
            raise CredentialRevoked()
        if key.flagged:
            raise KeyFlagged()
        cfg = _config()
        try:
            verified = ceremonies.verify_authentication(
                response=response,
                expected_challenge=response.client_data.challenge,
                rp_id=cfg.rp_id,
                origin=cfg.origin,
                policy=policy(),
                public_key=key.public_key,
                stored_sign_count=credential.sign_count,
                backup_eligible=credential.backup_eligible,
            )
        except CounterRegressed as exc:
            with transaction.atomic():
                if not _claim(challenge_pk, at):
                    raise ChallengeReplayed() from None
                claimed = True
                flag_key(
                    credential,
                    reason="signature counter went backwards",
                    request=request,
                    stored=exc.stored,
                    seen=exc.seen,
                )
            raise
        if credential.employee.status != Employee.Status.ACTIVE:
            raise EmployeeNotActive()
        with _one_writer(), transaction.atomic():
            if not _claim(challenge_pk, at):
                raise ChallengeReplayed()
            params = [verified.sign_count, at, verified.backed_up, credential.pk]
            sql = _USE_KEY
            if verified.sign_count > 0:
                sql, params = f"{_USE_KEY} AND sign_count < %s", [*params, verified.sign_count]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                if cursor.rowcount != 1:
                    raise CredentialRevoked("this security key changed during sign-in; try again")
            credential.sign_count = verified.sign_count
            credential.last_used_at = now
            credential.backed_up = verified.backed_up
            token, session = sessions.create(credential.employee, request=request, credential=credential)
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
        claimed = True
    except SmishguardError as exc:
        if subject is None and subject_id is not None:
            subject = Employee.objects.filter(pk=subject_id).first()
        replayed = None
        with transaction.atomic():
            if challenge_pk is not None and not claimed and not _claim(challenge_pk, at):
                replayed = ChallengeReplayed()  # another request consumed this challenge first
            _signin_failed(
                replayed or exc, request=request, subject=subject, credential_id=credential_id, credential=credential
            )
        if replayed is not None:
            raise replayed from None
        raise
    return SignIn(employee=credential.employee, credential=credential, session=session, token=token)


# --------------------------------------------------------------------------------------------------------
# Step-up: a fresh key assertion by the signed-in employee, recorded on the session
# --------------------------------------------------------------------------------------------------------


def _usable_keys(employee: Employee) -> QuerySet[Credential]:
    return keys_for(employee).filter(flagged_at__isnull=True)


def begin_stepup(employee: Employee) -> ceremonies.CeremonyOptions:
    """Request options offering only the signed-in employee's own usable keys."""
    allow = [(bytes(c.credential_id), list(c.transports or [])) for c in _usable_keys(employee)]
    if not allow:
        raise KeyNotFound("you have no usable security key to confirm with; ask the security team")
    options = ceremonies.authentication_options(rp_id=_config().rp_id, policy=policy(), allow_credentials=allow)
    _store_challenge(options, Challenge.Purpose.STEPUP, employee=employee)
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
        cfg = _config()
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
            sessions.mark_assertion(session, at=now)
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
        detail = _refusal_detail(exc)
        if credential is not None:
            detail["key_id"] = credential.pk
        record(Action.STEPUP_FAILED, request=request, actor=employee, subject=employee, session_id=session.pk, **detail)
        raise
    return credential


# --------------------------------------------------------------------------------------------------------
# Key management
# --------------------------------------------------------------------------------------------------------


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
        if own and current.flagged_at is None and _usable_keys(current.employee).count() <= 1:
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


__all__ = [
    "OriginMismatch",
    "SignIn",
    "begin_login",
    "begin_registration",
    "begin_stepup",
    "claim_challenge",
    "finish_login",
    "finish_registration",
    "finish_stepup",
    "flag_key",
    "get_key",
    "keys_for",
    "remove_key",
    "rename_key",
]
