"""What admins and the CLI do to employees: create, import, suspend, offboard, invite, recover.

Views and CLI commands call these; each writes its audit events and raises a narrow error on bad input.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from smishguard.accounts import approvals, sessions
from smishguard.accounts.errors import (
    BreakGlassReasonRequired,
    BreakGlassRefused,
    EmployeeExists,
    EmployeeNotActive,
    EnrolmentLinkInvalid,
    EnrolmentNotNeeded,
    FourEyesRequired,
    InvalidEmployee,
    LinkCutoffInFuture,
)
from smishguard.accounts.models import Employee, EnrolmentLink, Group, RecoveryRequest, Session, token_digest
from smishguard.accounts.signals import announce_created, notify, offboarded
from smishguard.audit import Action, record
from smishguard.errors import Conflict, NotFound, PermissionDenied, SmishguardError

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_NAME = 200


@dataclass(frozen=True)
class Refusal:
    """Why an admin's approval does not count: a stable code (in the audit trail) and a sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class Approval:
    """What an approval did: for a recovery or an admin's first link, the link (shown once)."""

    kind: str
    employee: Employee
    link: IssuedLink | None = None
    done: str = ""  # a registered kind (accounts.approvals): what its approval did, in one sentence


@dataclass(frozen=True)
class IssuedLink:
    url: str
    token: str
    expires: datetime
    link_id: int

    def to_dict(self) -> dict[str, str]:
        return {"url": self.url, "token": self.token, "expires": self.expires.isoformat()}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    errors: tuple[RowError, ...] = field(default_factory=tuple)
    admin_requested: tuple[str, ...] = ()  # from the console: admin rights asked for, awaiting a second admin

    def to_dict(self) -> dict[str, object]:
        return {
            "created": list(self.created),
            "updated": list(self.updated),
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
            "admin_requested": list(self.admin_requested),
        }


def _actor_label(actor: Employee | None) -> str | None:
    return actor.email if actor is not None else None


def get_employee(email: str) -> Employee:
    try:
        return Employee.objects.get(email__iexact=(email or "").strip())
    except Employee.DoesNotExist:
        raise NotFound(f"no employee with email {email!r}") from None


def clean_details(
    *, email: str, name: str, phone: str = "", department: str = "", groups: Iterable[str] = ()
) -> dict[str, object]:
    """Validate and normalise an employee's details; raises InvalidEmployee naming the field."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidEmployee(f"not a valid email address: {email!r}") from None
    name = (name or "").strip()
    if not name:
        raise InvalidEmployee("a name is required")
    if len(name) > MAX_NAME:
        raise InvalidEmployee(f"the name is longer than {MAX_NAME} characters")
    phone = re.sub(r"[\s().-]", "", phone or "")
    if phone and not E164.match(phone):
        raise InvalidEmployee(f"phone must be in E.164 form such as +14155550100, not {phone!r}")
    department = (department or "").strip()
    if len(department) > 100:
        raise InvalidEmployee("the department is longer than 100 characters")
    cleaned_groups = sorted({g.strip() for g in groups if g and g.strip()})
    if any(len(g) > 100 for g in cleaned_groups):
        raise InvalidEmployee("a group name is longer than 100 characters")
    return {"email": email, "name": name, "phone": phone, "department": department, "groups": cleaned_groups}


def clean_time_zone(name: str | None) -> str:
    """An IANA time zone name (Europe/London), checked against the zone database (tzdata); "" for none (then
    [training] default_time_zone applies).  InvalidEmployee otherwise."""
    name = (name or "").strip()
    if not name:
        return ""
    if len(name) > 64 or name not in _time_zones():
        raise InvalidEmployee(f"not a time zone: {name!r} (an IANA name such as Europe/London)")
    return name


@functools.cache
def _time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def time_zone_names() -> frozenset[str]:
    """Every IANA time zone name the zone database knows (the console's suggestions)."""
    return _time_zones()


def _programme_changed(
    employee: Employee, enrolled: bool, *, actor: Employee | None, request: HttpRequest | None
) -> None:
    """The console toggle of the SMS phishing simulation programme, audited on its own."""
    record(Action.SIMULATION_PROGRAMME_CHANGED, request=request, actor=actor, subject=employee, in_simulations=enrolled)


def split_groups(text: str) -> list[str]:
    """Group names from one field: separated by commas or semicolons, the same in the CSV and the console form."""
    return [g.strip() for g in text.replace(";", ",").split(",") if g.strip()]


def _set_groups(employee: Employee, names: Iterable[str]) -> None:
    groups = [Group.objects.get_or_create(name=n)[0] for n in names]
    employee.groups.set(groups)


def add_employee(
    *,
    email: str,
    name: str,
    phone: str = "",
    department: str = "",
    groups: Iterable[str] = (),
    is_admin: bool = False,
    time_zone: str = "",
    in_simulations: bool = False,
    actor: Employee | None = None,
    request: HttpRequest | None = None,
) -> Employee:
    """Add an employee.  Admin rights: given at once by the CLI operator (``actor`` None); asked by an admin in
    the console (``actor`` given), they wait for a second admin's approval (an ``admin_grant`` request)."""
    details = clean_details(email=email, name=name, phone=phone, department=department, groups=groups)
    group_names = details.pop("groups")
    details["time_zone"] = clean_time_zone(time_zone)
    grant_now = is_admin and actor is None
    try:
        with transaction.atomic():
            employee = Employee.objects.create(is_admin=False, in_simulations=bool(in_simulations), **details)
            _set_groups(employee, group_names)
            record(
                Action.EMPLOYEE_CREATED,
                request=request,
                actor=actor,
                subject=employee,
                is_admin=grant_now,
                department=employee.department,
                groups=group_names,  # groups grant access through the gateway's rules: audited as they are set
                **({"admin_requested": True} if is_admin and not grant_now else {}),
                **({"time_zone": employee.time_zone} if employee.time_zone else {}),
            )
            if in_simulations:
                _programme_changed(employee, True, actor=actor, request=request)
            announce_created(employee)  # training assigns the new-employee modules (accounts.signals)
            if grant_now:
                _grant_admin(employee, requested_by=None, approved_by=None, request=request)
            elif is_admin:
                request_admin_grant(employee, actor=actor, request=request)
    except IntegrityError:
        raise EmployeeExists(f"an employee with email {details['email']} already exists") from None
    return employee


def update_employee(
    employee: Employee,
    *,
    name: str,
    phone: str = "",
    department: str = "",
    groups: Iterable[str] = (),
    is_admin: bool | None = None,
    time_zone: str | None = None,
    in_simulations: bool | None = None,
    actor: Employee | None = None,
    request: HttpRequest | None = None,
) -> Employee:
    """Change an employee's details (``time_zone`` and ``in_simulations``: None leaves them as they are).

    Granting admin rights follows add_employee's rule (the CLI at once, the console through a second admin);
    removing them is immediate.  A changed phone number is audited on its own and the old number is told
    (security notices go to it); so is the simulation programme's toggle."""
    details = clean_details(email=employee.email, name=name, phone=phone, department=department, groups=groups)
    if time_zone is not None:
        details["time_zone"] = clean_time_zone(time_zone)
    changes = {}
    grant_now = ask_grant = False
    toggled = in_simulations is not None and bool(in_simulations) != employee.in_simulations
    with transaction.atomic():
        old_phone = employee.phone
        if toggled:
            employee.in_simulations = bool(in_simulations)
        for key in ("name", "phone", "department", "time_zone"):
            if key not in details:
                continue
            if getattr(employee, key) != details[key]:
                changes[key] = [getattr(employee, key), details[key]]
                setattr(employee, key, details[key])
        if is_admin is not None and employee.is_admin != is_admin:
            if not is_admin:
                changes["is_admin"] = [True, False]
                employee.is_admin = False
                employee.admin_granted_at = employee.admin_granted_by = employee.admin_approved_by = None
                employee.admin_granted_by_label = ""
            elif actor is None:
                grant_now = True
            else:
                ask_grant = True
        old_groups = sorted(employee.groups.values_list("name", flat=True))
        if old_groups != details["groups"]:
            changes["groups"] = [old_groups, details["groups"]]
        employee.save()
        _set_groups(employee, details["groups"])
        if changes:
            record(Action.EMPLOYEE_UPDATED, request=request, actor=actor, subject=employee, changes=changes)
        if toggled:
            _programme_changed(employee, employee.in_simulations, actor=actor, request=request)
        if "phone" in changes:
            _phone_changed(employee, old_phone, actor=actor, request=request)
        if grant_now:
            _grant_admin(employee, requested_by=None, approved_by=None, request=request)
        elif ask_grant:
            request_admin_grant(employee, actor=actor, request=request)
    return employee


def _phone_changed(employee: Employee, old: str, *, actor: Employee | None, request: HttpRequest | None) -> None:
    event = record(Action.PHONE_CHANGED, request=request, actor=actor, subject=employee, old=old, new=employee.phone)
    notify(
        employee,
        f"smishguard: the phone number for security notices on {employee.email} was changed away from this "
        "number. If you did not ask for this, call the IT help desk now.",
        key=f"phone-changed:{employee.pk}:{event.pk}",
        kind="phone_changed",
        to=old,
        request=request,
    )


def pending_request(employee: Employee, kind: str) -> RecoveryRequest | None:
    """The employee's pending four-eyes request of this kind, if there is one."""
    return employee.recovery_requests.filter(kind=kind, status=RecoveryRequest.Status.PENDING).first()


def _require_active_admin(who: Employee) -> None:
    """Only an active admin opens or approves a four-eyes request: PermissionDenied for anyone else."""
    if not who.is_admin or who.status != Employee.Status.ACTIVE:
        raise PermissionDenied(f"{who.email} is not an active admin")


def request_admin_grant(
    employee: Employee, *, actor: Employee, request: HttpRequest | None = None, reason: str = ""
) -> RecoveryRequest:
    """Ask for admin rights for ``employee``: a pending ``admin_grant`` request a second admin approves."""
    _require_active_admin(actor)
    if employee.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive(f"{employee.email} is {employee.status}")
    return _open_request(
        employee,
        RecoveryRequest.Kind.ADMIN_GRANT,
        Action.ADMIN_GRANT_REQUESTED,
        actor=actor,
        request=request,
        reason=reason,
    )


def _grant_admin(
    employee: Employee,
    *,
    requested_by: Employee | None,
    approved_by: Employee | None,
    request: HttpRequest | None,
) -> None:
    """Give admin rights (inside the caller's transaction), record who and when, tell the other admins."""
    now = timezone.now()
    employee.is_admin = True
    employee.admin_granted_at = now
    employee.admin_granted_by = requested_by
    employee.admin_granted_by_label = requested_by.email if requested_by is not None else _cli_label()
    employee.admin_approved_by = approved_by
    employee.save(
        update_fields=[
            "is_admin",
            "admin_granted_at",
            "admin_granted_by",
            "admin_granted_by_label",
            "admin_approved_by",
        ]
    )
    cancelled = 0
    if approved_by is not None and not had_keys_before(employee):
        # Links issued while they were no admin: their first link as an admin needs four eyes too.
        cancelled = EnrolmentLink.objects.filter(
            employee=employee, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
    event = record(
        Action.ADMIN_GRANTED,
        request=request,
        actor=approved_by,
        subject=employee,
        requested_by=employee.admin_granted_by_label,
        approved_by=approved_by.email if approved_by is not None else None,
        links_cancelled=cancelled,
    )
    who = f"asked by {employee.admin_granted_by_label}" + (f", approved by {approved_by.email}" if approved_by else "")
    others = Employee.objects.filter(is_admin=True, status=Employee.Status.ACTIVE).exclude(pk=employee.pk)
    for admin in others.order_by("pk"):
        notify(
            admin,
            f"smishguard: {employee.name} <{employee.email}> was given admin rights ({who}). If you did not "
            "expect this, check the console's audit trail now.",
            key=f"admin-granted:{event.pk}:{admin.pk}",
            kind="admin_granted",
            request=request,
        )


CSV_COLUMNS = ("email", "name", "phone", "department", "groups", "admin", "time_zone", "simulations")
ADMIN_WORDS = frozenset({"1", "true", "yes", "y"})


def import_csv(data: bytes | str, *, actor: Employee | None = None, request: HttpRequest | None = None) -> ImportResult:
    """Create or update employees from CSV (header: email,name[,phone,department,groups,admin,time_zone,simulations]).

    Each row stands alone: a bad row is reported with its line number and the good rows are kept.
    ``groups`` holds names separated by ``;`` or ``,`` (quote the field for commas).
    ``admin`` is true/yes/1 to make an admin.  ``time_zone`` is an IANA name; ``simulations`` true/yes/1 puts the
    employee in the SMS phishing simulation programme, false/no/0 takes them out (empty: left as it is).
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidEmployee("the CSV file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(data))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header or "name" not in header:
        raise InvalidEmployee("the CSV needs a header row with at least the columns email and name")
    reader.fieldnames = header
    created: list[str] = []
    updated: list[str] = []
    errors: list[RowError] = []
    asked: list[str] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append(RowError(line, "more fields than the header has columns"))
            continue
        values = {k: (v or "").strip() for k, v in row.items() if k in CSV_COLUMNS}
        if not any(values.values()):
            continue
        groups = split_groups(values.get("groups", ""))
        is_admin = values.get("admin", "").lower() in ADMIN_WORDS
        # time_zone and simulations: an empty (or absent) field leaves an existing employee's as it is.
        time_zone = values.get("time_zone") or None
        enrolled = values.get("simulations", "").lower() in ADMIN_WORDS if values.get("simulations") else None
        try:
            existing = Employee.objects.filter(email__iexact=values.get("email", "")).first()
            if existing is None:
                add_employee(
                    email=values.get("email", ""),
                    name=values.get("name", ""),
                    phone=values.get("phone", ""),
                    department=values.get("department", ""),
                    groups=groups,
                    is_admin=is_admin,
                    time_zone=time_zone or "",
                    in_simulations=bool(enrolled),
                    actor=actor,
                    request=request,
                )
                created.append(values["email"].lower())
            else:
                update_employee(
                    existing,
                    name=values.get("name", ""),
                    phone=values.get("phone", ""),
                    department=values.get("department", ""),
                    groups=groups,
                    is_admin=is_admin if values.get("admin") else None,
                    time_zone=time_zone,
                    in_simulations=enrolled,
                    actor=actor,
                    request=request,
                )
                updated.append(existing.email)
            email = values["email"].lower()
            if is_admin and actor is not None and _pending_grant_for(email):
                asked.append(email)
        except SmishguardError as exc:
            errors.append(RowError(line, exc.message))
    result = ImportResult(tuple(created), tuple(updated), tuple(errors), tuple(asked))
    record(
        Action.EMPLOYEES_IMPORTED,
        request=request,
        actor=actor,
        created=len(created),
        updated=len(updated),
        errors=len(errors),
        admin_requested=len(asked),
    )
    return result


def _pending_grant_for(email: str) -> bool:
    return RecoveryRequest.objects.filter(
        employee__email=email, kind=RecoveryRequest.Kind.ADMIN_GRANT, status=RecoveryRequest.Status.PENDING
    ).exists()


def csv_asks_for_admin(data: bytes | str) -> bool:
    """Whether a CSV import names anyone as an admin (the console then asks for a fresh key touch first)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(data))
    reader.fieldnames = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "admin" not in reader.fieldnames:
        return False
    return any((row.get("admin") or "").strip().lower() in ADMIN_WORDS for row in reader)


def _set_status(
    employee: Employee, status: str, *, actor: Employee | None, request: HttpRequest | None, revoke_reason: str = ""
) -> int:
    """Change the status (inside the caller's transaction); with a reason, revoke every session.  Returns those."""
    employee.status = status
    employee.status_changed_at = timezone.now()
    employee.save(update_fields=["status", "status_changed_at"])
    if not revoke_reason:
        return 0
    return sessions.revoke(
        Session.objects.filter(employee=employee),
        reason=revoke_reason,
        request=request,
        actor_label=_actor_label(actor),
    )


def suspend(employee: Employee, *, actor: Employee | None = None, request: HttpRequest | None = None) -> int:
    """Suspend an employee: no sign-in, every session revoked at once.  Returns sessions revoked."""
    if employee.status == Employee.Status.OFFBOARDED:
        raise EmployeeNotActive(f"{employee.email} is offboarded")
    with transaction.atomic():
        revoked = _set_status(
            employee, Employee.Status.SUSPENDED, actor=actor, request=request, revoke_reason="suspended"
        )
        record(
            Action.EMPLOYEE_SUSPENDED,
            request=request,
            actor=actor,
            subject=employee,
            sessions_revoked=revoked,
        )
    return revoked


def reactivate(employee: Employee, *, actor: Employee | None = None, request: HttpRequest | None = None) -> None:
    if employee.status == Employee.Status.OFFBOARDED:
        raise EmployeeNotActive(f"{employee.email} is offboarded; add them again as a new employee")
    with transaction.atomic():
        _set_status(employee, Employee.Status.ACTIVE, actor=actor, request=request)
        record(Action.EMPLOYEE_REACTIVATED, request=request, actor=actor, subject=employee)


def offboard(
    employee: Employee, *, actor: Employee | None = None, request: HttpRequest | None = None
) -> dict[str, int]:
    """Offboard: every session and every key revoked at once, open enrolment links cancelled."""
    with transaction.atomic():
        revoked_sessions = _set_status(
            employee, Employee.Status.OFFBOARDED, actor=actor, request=request, revoke_reason="offboarded"
        )
        revoked_keys = offboarded(employee, reason="offboarded")  # passkeys revokes the keys
        links = EnrolmentLink.objects.filter(employee=employee, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        RecoveryRequest.objects.filter(employee=employee, status=RecoveryRequest.Status.PENDING).update(
            status=RecoveryRequest.Status.REFUSED, decided_at=timezone.now()
        )
        counts = {
            "sessions_revoked": revoked_sessions,
            "keys_revoked": revoked_keys,
            "links_cancelled": links,
        }
        record(Action.EMPLOYEE_OFFBOARDED, request=request, actor=actor, subject=employee, **counts)
    return counts


def _new_link(employee: Employee, purpose: str, issued_by: str) -> tuple[EnrolmentLink, str]:
    token = secrets.token_urlsafe(32)
    link = EnrolmentLink.objects.create(
        token_hash=token_digest(token),
        employee=employee,
        purpose=purpose,
        issued_by=issued_by,
        expires_at=timezone.now() + timedelta(hours=settings.SMISHGUARD.enrolment_ttl_hours),
    )
    return link, token


def _issued(link: EnrolmentLink, token: str, *, actor: Employee | None, request: HttpRequest | None) -> IssuedLink:
    """Record that ``link`` was issued and hand back what is shown once: the URL with its token."""
    record(
        Action.ENROLMENT_ISSUED,
        request=request,
        actor=actor,
        subject=link.employee,
        link_id=link.pk,
        purpose=link.purpose,
        expires=link.expires_at.isoformat(),
    )
    return IssuedLink(enrolment_url(token), token, link.expires_at, link.pk)


def enrolment_url(token: str) -> str:
    return f"{settings.SMISHGUARD.origin}/enrol/{token}"


def had_keys_before(employee: Employee) -> bool:
    return employee.credentials.exists()


def usable_keys(employee: Employee):
    """The employee's working keys: neither revoked nor flagged as possibly cloned (a flagged key signs nobody in,
    so it counts nowhere as an active key: lists, counts, invitations, recovery)."""
    return employee.credentials.filter(revoked_at__isnull=True, flagged_at__isnull=True)


def eligible_approvers(employee: Employee) -> list[Employee]:
    """The admins whose approval of a recovery for ``employee``, asked by the CLI operator, would count now."""
    probe = RecoveryRequest(employee=employee, kind=RecoveryRequest.Kind.RECOVERY, requested_by_label=_cli_label())
    admins = Employee.objects.filter(is_admin=True, status=Employee.Status.ACTIVE).exclude(pk=employee.pk)
    return [admin for admin in admins.order_by("email") if not approval_refusals(probe, admin)]


def break_glass(employee: Employee, *, reason: str) -> IssuedLink:
    """The CLI operator on the server issues a recovery link at once, without a second admin: only when no admin
    can approve a recovery (the last admin with a working key is locked out, say by a key flagged as cloned).

    Refused (BreakGlassRefused) while an eligible approver exists, and without a reason; recorded as
    RECOVERY_BREAK_GLASS (actor ``cli:<os user>``, the reason, the four-eyes requests it closes) beside the
    link's own ENROLMENT_ISSUED.  Pending recovery requests for the employee are closed as refused.
    """
    reason = (reason or "").strip()
    if not reason:
        raise BreakGlassReasonRequired("break glass needs --reason: why the four-eyes recovery cannot be used")
    if employee.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive(f"{employee.email} is {employee.status}; no enrolment link can be issued")
    active_keys = usable_keys(employee).count()
    if active_keys:
        raise EnrolmentNotNeeded(f"{employee.email} still has {active_keys} working security key(s)")
    approvers = eligible_approvers(employee)
    if approvers:
        names = ", ".join(a.email for a in approvers)
        raise BreakGlassRefused(
            f"an admin can approve a recovery for {employee.email} ({names}): run `smishguard employees invite "
            f"{employee.email}` and have one of them approve it"
        )
    now = timezone.now()
    with transaction.atomic():
        pending = RecoveryRequest.objects.select_for_update().filter(
            employee=employee,
            status=RecoveryRequest.Status.PENDING,
            kind__in=[RecoveryRequest.Kind.RECOVERY, RecoveryRequest.Kind.ADMIN_ENROLMENT],
        )
        closed = list(pending.values_list("pk", flat=True))
        pending.update(status=RecoveryRequest.Status.REFUSED, decided_at=now)
        EnrolmentLink.objects.filter(employee=employee, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        purpose = EnrolmentLink.Purpose.RECOVERY if had_keys_before(employee) else EnrolmentLink.Purpose.INITIAL
        link, token = _new_link(employee, purpose, _cli_label())
        record(
            Action.RECOVERY_BREAK_GLASS,
            subject=employee,
            reason=reason[:500],
            link_id=link.pk,
            requests_closed=closed,
            flagged_keys=employee.credentials.filter(revoked_at__isnull=True, flagged_at__isnull=False).count(),
        )
        return _issued(link, token, actor=None, request=None)


def invite(
    employee: Employee,
    *,
    actor: Employee | None = None,
    request: HttpRequest | None = None,
    reason: str = "",
    trusted_operator: bool = False,
) -> IssuedLink | RecoveryRequest:
    """Issue a single-use enrolment link, or a pending four-eyes request that a second admin approves:

    - an employee who lost every key: a ``recovery`` request (whoever asks);
    - an admin's first link, asked by an admin in the console: an ``admin_enrolment`` request.  The CLI
      operator (``actor`` None, or ``trusted_operator`` for ``employees invite --as``) issues it at once.

    No link exists before the approval (``approve``).
    """
    if employee.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive(f"{employee.email} is {employee.status}; no enrolment link can be issued")
    active_keys = usable_keys(employee).count()
    if active_keys:
        raise EnrolmentNotNeeded(
            f"{employee.email} already has {active_keys} security key(s); they add a backup key from their portal"
        )
    issued_by = actor.email if actor is not None else None
    if had_keys_before(employee):
        return _open_request(
            employee,
            RecoveryRequest.Kind.RECOVERY,
            Action.RECOVERY_REQUESTED,
            actor=actor,
            request=request,
            reason=reason,
        )
    if employee.is_admin and actor is not None and not trusted_operator:
        return _open_request(
            employee,
            RecoveryRequest.Kind.ADMIN_ENROLMENT,
            Action.ADMIN_ENROLMENT_REQUESTED,
            actor=actor,
            request=request,
            reason=reason,
        )
    with transaction.atomic():
        EnrolmentLink.objects.filter(employee=employee, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        link, token = _new_link(employee, EnrolmentLink.Purpose.INITIAL, issued_by or _cli_label())
        return _issued(link, token, actor=actor, request=request)


def expire_links(issued_before: datetime, *, actor: Employee | None = None, request: HttpRequest | None = None) -> int:
    """End every unused enrolment link issued before ``issued_before`` (links issued before tokens were redacted
    from logs may sit in old logs); returns how many.  Audited, with the count and the cut-off (never a token)."""
    if issued_before.tzinfo is None:
        raise ValueError("issued_before must be timezone-aware")
    now = timezone.now()
    if issued_before > now:
        raise LinkCutoffInFuture(
            f"--issued-before {issued_before.isoformat()} is in the future; links issued from now on are logged "
            "redacted, so give the time of the upgrade"
        )
    with transaction.atomic():
        count = EnrolmentLink.objects.filter(
            created_at__lt=issued_before, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        record(
            Action.ENROLMENT_LINKS_EXPIRED,
            request=request,
            actor=actor,
            subject_label="enrolment links",
            count=count,
            issued_before=issued_before.isoformat(),
        )
    return count


def _open_request(
    employee: Employee,
    kind: str,
    action: Action,
    *,
    actor: Employee | None,
    request: HttpRequest | None,
    reason: str,
    reuse_pending: bool = True,
) -> RecoveryRequest:
    """The pending request of this kind for the employee, made (and recorded) if there is none (always a new one
    when not ``reuse_pending``)."""
    with transaction.atomic():
        pending = pending_request(employee, kind) if reuse_pending else None
        if pending is not None:
            return pending
        rec = RecoveryRequest.objects.create(
            employee=employee,
            kind=kind,
            requested_by=actor,
            requested_by_label=actor.email if actor is not None else _cli_label(),
            reason=reason[:500],
        )
        record(action, request=request, actor=actor, subject=employee, request_id=rec.pk, reason=reason)
    return rec


def open_request(
    employee: Employee, kind: str, action: Action, *, actor: Employee, request: HttpRequest | None, reason: str
) -> RecoveryRequest:
    """Open (or find) the pending four-eyes request of a kind an app registered (``accounts.approvals``).

    The one way such a request is opened; ``approve`` the one way it is judged and carried out.  It is asked by
    an active admin (PermissionDenied) about someone else (PermissionDenied: another admin must ask), and only
    when the kind's ``can_open`` lets it (it raises a narrow error saying why not).
    """
    registered = approvals.registered(kind)
    if registered is None:
        raise ValueError(f"no four-eyes request kind {kind!r} is registered")
    _require_active_admin(actor)
    if registered.about_requester:  # about the requester's own act: a new request each time, someone else approves
        if actor.pk != employee.pk:
            raise ValueError(f"a {kind} request is about its requester's own act")
        if registered.can_open is not None:
            registered.can_open(employee)
        return _open_request(employee, kind, action, actor=actor, request=request, reason=reason, reuse_pending=False)
    if actor.pk == employee.pk:
        what = registered.label[:1].lower() + registered.label[1:]
        raise PermissionDenied(f"{actor.email} cannot ask for their own {what}: another admin must")
    if registered.can_open is not None:
        registered.can_open(employee)
    return _open_request(employee, kind, action, actor=actor, request=request, reason=reason)


def usable_link(token: str) -> EnrolmentLink:
    """The enrolment link for a token if it can still be used; raises EnrolmentLinkInvalid saying why."""
    if not isinstance(token, str) or not token or len(token) > 128:
        raise EnrolmentLinkInvalid("this enrolment link is not valid")
    try:
        link = EnrolmentLink.objects.select_related("employee").get(token_hash=token_digest(token))
    except EnrolmentLink.DoesNotExist:
        raise EnrolmentLinkInvalid("this enrolment link is not valid") from None
    if link.used_at is not None:
        raise EnrolmentLinkInvalid("this enrolment link has already been used; ask your security team for a new one")
    if link.revoked_at is not None:
        raise EnrolmentLinkInvalid("this enrolment link was cancelled; ask your security team for a new one")
    if link.expires_at <= timezone.now():
        raise EnrolmentLinkInvalid("this enrolment link has expired; ask your security team for a new one")
    if link.employee.status != Employee.Status.ACTIVE:
        raise EnrolmentLinkInvalid("this enrolment link is not valid")
    return link


def consume_link(link: EnrolmentLink, *, request: HttpRequest | None = None, **detail: object) -> None:
    """Mark a link used, once: a second use (even a concurrent one) raises EnrolmentLinkInvalid."""
    now = timezone.now()
    claimed = EnrolmentLink.objects.filter(
        pk=link.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        raise EnrolmentLinkInvalid("this enrolment link has already been used; ask your security team for a new one")
    link.used_at = now
    record(
        Action.ENROLMENT_USED,
        request=request,
        actor=link.employee,
        subject=link.employee,
        link_id=link.pk,
        purpose=link.purpose,
        **detail,
    )


def _cli_label() -> str:
    from smishguard.audit.recorder import cli_actor

    return cli_actor()


def admin_since(admin: Employee) -> datetime | None:
    """When ``admin`` got admin rights; for admins from before this was recorded, their oldest usable key's date."""
    return admin.admin_granted_at or _oldest_key(admin)


def _oldest_key(employee: Employee) -> datetime | None:
    return (
        employee.credentials.filter(revoked_at__isnull=True, flagged_at__isnull=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def approval_refusals(rec: RecoveryRequest, approver: Employee) -> list[Refusal]:
    """Every reason why ``approver``'s approval of ``rec`` would not count (empty: it counts).

    It counts only from an active admin who is not the requester, not the subject, whose admin rights were not
    granted on the requester's word, and whose admin rights and oldest active key are both older than
    ``[approvals] min_age_days`` (default 7).
    """
    if not approver.is_admin or approver.status != Employee.Status.ACTIVE:
        return [Refusal("not_admin", "they are not an active admin")]
    days = settings.SMISHGUARD.approvals.min_age_days
    cutoff = timezone.now() - timedelta(days=days)
    refusals = []
    if rec.requested_by_id is not None and rec.requested_by_id == approver.pk:
        refusals.append(Refusal("is_requester", "they asked for it; a different admin must approve"))
    if rec.employee_id == approver.pk and rec.requested_by_id != approver.pk:  # (about the requester: said above)
        refusals.append(Refusal("is_subject", "the request is about them"))
    requester = rec.requested_by_id
    if requester is not None and requester in (approver.admin_granted_by_id, approver.admin_approved_by_id):
        refusals.append(
            Refusal(
                "granted_by_requester", f"their admin rights were granted on the request of {rec.requested_by_label}"
            )
        )
    oldest = _oldest_key(approver)
    since = approver.admin_granted_at or oldest
    if since is None or since > cutoff:
        refusals.append(Refusal("admin_rights_too_new", f"their admin rights are too new (less than {days} days old)"))
    if oldest is None:
        refusals.append(Refusal("no_active_key", "they have no active security key"))
    elif oldest > cutoff:
        refusals.append(
            Refusal("key_too_new", f"their oldest active security key is too new (less than {days} days old)")
        )
    return refusals


def approve(request_id: int, *, approver: Employee, request: HttpRequest | None = None) -> Approval:
    """A second, eligible admin approves a four-eyes request; only now is the link issued or the right given.

    An approval that does not count is refused with every reason (FourEyesRequired) and recorded as
    APPROVAL_NOT_ELIGIBLE; the request stays pending.
    """
    _require_active_admin(approver)
    with transaction.atomic():
        try:
            rec = (
                # of=self: lock the request row only (PostgreSQL refuses FOR UPDATE on the nullable side of the
                # outer join to requested_by; SQLite ignores FOR UPDATE).
                RecoveryRequest.objects.select_for_update(of=("self",))
                .select_related("employee", "requested_by")
                .get(pk=request_id)
            )
        except RecoveryRequest.DoesNotExist:
            raise NotFound(f"no request {request_id}") from None
        if rec.status != RecoveryRequest.Status.PENDING:
            raise Conflict(f"request {request_id} is already {rec.status}")
        refusals = approval_refusals(rec, approver)
        if not refusals:
            return _approve_locked(rec, approver, request)
    # Recorded outside the transaction so that the refusal itself is never rolled back.
    record(
        Action.APPROVAL_NOT_ELIGIBLE,
        request=request,
        actor=approver,
        subject=rec.employee,
        request_id=rec.pk,
        kind=rec.kind,
        requested_by=rec.requested_by_label,
        reasons=[r.code for r in refusals],
        messages=[r.message for r in refusals],
    )
    raise FourEyesRequired(
        f"{approver.email} cannot approve request #{rec.pk}: " + "; ".join(r.message for r in refusals),
        reasons=[r.code for r in refusals],
    )


def approve_recovery(request_id: int, *, approver: Employee, request: HttpRequest | None = None) -> IssuedLink | None:
    """Approve a four-eyes request (any kind); the enrolment link it issues, if any."""
    return approve(request_id, approver=approver, request=request).link


def _approve_locked(rec: RecoveryRequest, approver: Employee, request: HttpRequest | None) -> Approval:
    """Approve ``rec`` (locked by the caller's transaction) and do what it asked."""
    employee = rec.employee
    if employee.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive(f"{employee.email} is {employee.status}")
    rec.status = RecoveryRequest.Status.APPROVED
    rec.decided_by = approver
    rec.decided_at = timezone.now()
    kind = approvals.registered(rec.kind)
    if kind is not None or rec.kind == RecoveryRequest.Kind.ADMIN_GRANT:
        rec.save()
        done = ""
        if kind is not None:  # a kind an app above accounts registered: it says what an approval does
            done = kind.approve(rec, approver, request)
        else:
            _grant_admin(employee, requested_by=rec.requested_by, approved_by=approver, request=request)
        record(
            Action.REQUEST_APPROVED,
            request=request,
            actor=approver,
            subject=employee,
            request_id=rec.pk,
            kind=rec.kind,
            requested_by=rec.requested_by_label,
        )
        return Approval(rec.kind, employee, done=done)
    if rec.kind == RecoveryRequest.Kind.ADMIN_ENROLMENT:
        if not employee.is_admin:
            raise Conflict(f"{employee.email} is no longer an admin; issue an ordinary enrolment link")
        if usable_keys(employee).exists():
            raise EnrolmentNotNeeded(f"{employee.email} already has a working security key")
        EnrolmentLink.objects.filter(employee=employee, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        purpose, action = EnrolmentLink.Purpose.INITIAL, Action.REQUEST_APPROVED
    else:
        purpose, action = EnrolmentLink.Purpose.RECOVERY, Action.RECOVERY_APPROVED
    link, token = _new_link(employee, purpose, approver.email)
    rec.link = link
    rec.save()
    record(
        action,
        request=request,
        actor=approver,
        subject=employee,
        request_id=rec.pk,
        requested_by=rec.requested_by_label,
        link_id=link.pk,
        **({"kind": rec.kind} if action == Action.REQUEST_APPROVED else {}),
    )
    return Approval(rec.kind, employee, _issued(link, token, actor=approver, request=request))


def refuse_recovery(request_id: int, *, approver: Employee, request: HttpRequest | None = None) -> None:
    """Refuse a pending four-eyes request (any admin may, the requester too: nothing is granted)."""
    with transaction.atomic():
        try:
            rec = RecoveryRequest.objects.select_for_update().get(pk=request_id)
        except RecoveryRequest.DoesNotExist:
            raise NotFound(f"no request {request_id}") from None
        if rec.status != RecoveryRequest.Status.PENDING:
            raise Conflict(f"request {request_id} is already {rec.status}")
        rec.status = RecoveryRequest.Status.REFUSED
        rec.decided_by = approver
        rec.decided_at = timezone.now()
        rec.save()
        action = Action.RECOVERY_REFUSED if rec.kind == RecoveryRequest.Kind.RECOVERY else Action.REQUEST_REFUSED
        record(action, request=request, actor=approver, subject=rec.employee, request_id=rec.pk, kind=rec.kind)
