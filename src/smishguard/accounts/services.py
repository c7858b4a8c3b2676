"""What admins and the CLI do to employees: create, import, suspend, offboard, invite, recover.

Views and CLI commands call these; each writes its audit events and raises a narrow error on bad input.
"""

from __future__ import annotations

import csv
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

from smishguard.accounts import sessions
from smishguard.accounts.models import Employee, EnrolmentLink, Group, RecoveryRequest, Session, token_digest
from smishguard.audit import Action, record
from smishguard.errors import Conflict, NotFound, PermissionDenied, SmishguardError

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_NAME = 200


class InvalidEmployee(SmishguardError):
    """The employee's details are not valid."""

    code = "invalid_employee"


class EmployeeExists(Conflict):
    """An employee with that email already exists."""

    code = "employee_exists"


class EmployeeNotActive(Conflict):
    """The employee is suspended or offboarded."""

    code = "employee_not_active"


class EnrolmentNotNeeded(Conflict):
    """The employee already has a security key; they add backup keys from their portal."""

    code = "enrolment_not_needed"


class FourEyesRequired(PermissionDenied):
    """A recovery must be approved by a second admin, not the one who asked for it."""

    code = "four_eyes_required"


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

    def to_dict(self) -> dict[str, object]:
        return {
            "created": list(self.created),
            "updated": list(self.updated),
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
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
    actor: Employee | None = None,
    request: HttpRequest | None = None,
) -> Employee:
    details = clean_details(email=email, name=name, phone=phone, department=department, groups=groups)
    group_names = details.pop("groups")
    try:
        with transaction.atomic():
            employee = Employee.objects.create(is_admin=is_admin, **details)
            _set_groups(employee, group_names)
            record(
                Action.EMPLOYEE_CREATED,
                request=request,
                actor=actor,
                subject=employee,
                is_admin=is_admin,
                department=employee.department,
            )
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
    actor: Employee | None = None,
    request: HttpRequest | None = None,
) -> Employee:
    details = clean_details(email=employee.email, name=name, phone=phone, department=department, groups=groups)
    changes = {}
    with transaction.atomic():
        for key in ("name", "phone", "department"):
            if getattr(employee, key) != details[key]:
                changes[key] = [getattr(employee, key), details[key]]
                setattr(employee, key, details[key])
        if is_admin is not None and employee.is_admin != is_admin:
            changes["is_admin"] = [employee.is_admin, is_admin]
            employee.is_admin = is_admin
        old_groups = sorted(employee.groups.values_list("name", flat=True))
        if old_groups != details["groups"]:
            changes["groups"] = [old_groups, details["groups"]]
        employee.save()
        _set_groups(employee, details["groups"])
        if changes:
            record(Action.EMPLOYEE_UPDATED, request=request, actor=actor, subject=employee, changes=changes)
    return employee


CSV_COLUMNS = ("email", "name", "phone", "department", "groups", "admin")


def import_csv(data: bytes | str, *, actor: Employee | None = None, request: HttpRequest | None = None) -> ImportResult:
    """Create or update employees from CSV (header: email,name[,phone,department,groups,admin]).

    Each row stands alone: a bad row is reported with its line number and the good rows are kept.
    ``groups`` holds names separated by ``;``.  ``admin`` is true/yes/1 to make an admin.
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
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append(RowError(line, "more fields than the header has columns"))
            continue
        values = {k: (v or "").strip() for k, v in row.items() if k in CSV_COLUMNS}
        if not any(values.values()):
            continue
        groups = [g for g in values.get("groups", "").split(";") if g.strip()]
        is_admin = values.get("admin", "").lower() in {"1", "true", "yes", "y"}
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
                    actor=actor,
                    request=request,
                )
                updated.append(existing.email)
        except SmishguardError as exc:
            errors.append(RowError(line, exc.message))
    result = ImportResult(tuple(created), tuple(updated), tuple(errors))
    record(
        Action.EMPLOYEES_IMPORTED,
        request=request,
        actor=actor,
        created=len(created),
        updated=len(updated),
        errors=len(errors),
    )
    return result


def _revoke_keys(employee: Employee, reason: str) -> int:
    from smishguard.passkeys.models import Credential

    return Credential.objects.active().filter(employee=employee).update(revoked_at=timezone.now(), revoke_reason=reason)


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
        revoked_keys = _revoke_keys(employee, "offboarded")
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


def invite(
    employee: Employee,
    *,
    actor: Employee | None = None,
    request: HttpRequest | None = None,
    reason: str = "",
) -> IssuedLink | RecoveryRequest:
    """Issue a single-use enrolment link, or, for an employee who lost every key, a pending recovery request.

    A recovery request needs a second admin's approval (``approve_recovery``) before any link exists.
    """
    if employee.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive(f"{employee.email} is {employee.status}; no enrolment link can be issued")
    active_keys = employee.credentials.filter(revoked_at__isnull=True).count()
    if active_keys:
        raise EnrolmentNotNeeded(
            f"{employee.email} already has {active_keys} security key(s); they add a backup key from their portal"
        )
    issued_by = actor.email if actor is not None else None
    if had_keys_before(employee):
        with transaction.atomic():
            pending = employee.recovery_requests.filter(status=RecoveryRequest.Status.PENDING).first()
            if pending is not None:
                return pending
            rec = RecoveryRequest.objects.create(
                employee=employee,
                requested_by=actor,
                requested_by_label=issued_by or _cli_label(),
                reason=reason[:500],
            )
            record(
                Action.RECOVERY_REQUESTED,
                request=request,
                actor=actor,
                subject=employee,
                request_id=rec.pk,
                reason=reason,
            )
        return rec
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


class LinkCutoffInFuture(SmishguardError):
    """The cut-off for expiring links is in the future."""

    code = "cutoff_in_future"


class EnrolmentLinkInvalid(SmishguardError):
    """This enrolment link is not valid: it is unknown, already used, expired or cancelled."""

    code = "enrolment_link_invalid"
    status = 400


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


def approve_recovery(request_id: int, *, approver: Employee, request: HttpRequest | None = None) -> IssuedLink:
    """A second admin approves a recovery request; the enrolment link is created only now."""
    if not approver.is_admin or approver.status != Employee.Status.ACTIVE:
        raise PermissionDenied(f"{approver.email} is not an active admin")
    with transaction.atomic():
        try:
            rec = RecoveryRequest.objects.select_for_update().select_related("employee").get(pk=request_id)
        except RecoveryRequest.DoesNotExist:
            raise NotFound(f"no recovery request {request_id}") from None
        if rec.status != RecoveryRequest.Status.PENDING:
            raise Conflict(f"recovery request {request_id} is already {rec.status}")
        same_admin = rec.requested_by_id == approver.pk
        if not same_admin:
            return _approve_locked(rec, approver, request)
    # Recorded outside the transaction so that the refusal itself is never rolled back.
    record(
        Action.RECOVERY_REFUSED,
        request=request,
        actor=approver,
        subject=rec.employee,
        request_id=rec.pk,
        reason="same admin asked and approved",
    )
    raise FourEyesRequired("a recovery must be approved by a different admin than the one who asked")


def _approve_locked(rec: RecoveryRequest, approver: Employee, request: HttpRequest | None) -> IssuedLink:
    """Approve ``rec`` (locked by the caller's transaction) and create the enrolment link."""
    if rec.employee.status != Employee.Status.ACTIVE:
        raise EmployeeNotActive(f"{rec.employee.email} is {rec.employee.status}")
    link, token = _new_link(rec.employee, EnrolmentLink.Purpose.RECOVERY, approver.email)
    rec.status = RecoveryRequest.Status.APPROVED
    rec.decided_by = approver
    rec.decided_at = timezone.now()
    rec.link = link
    rec.save()
    record(
        Action.RECOVERY_APPROVED,
        request=request,
        actor=approver,
        subject=rec.employee,
        request_id=rec.pk,
        requested_by=rec.requested_by_label,
        link_id=link.pk,
    )
    return _issued(link, token, actor=approver, request=request)


def refuse_recovery(request_id: int, *, approver: Employee, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        try:
            rec = RecoveryRequest.objects.select_for_update().get(pk=request_id)
        except RecoveryRequest.DoesNotExist:
            raise NotFound(f"no recovery request {request_id}") from None
        if rec.status != RecoveryRequest.Status.PENDING:
            raise Conflict(f"recovery request {request_id} is already {rec.status}")
        rec.status = RecoveryRequest.Status.REFUSED
        rec.decided_by = approver
        rec.decided_at = timezone.now()
        rec.save()
        record(Action.RECOVERY_REFUSED, request=request, actor=approver, subject=rec.employee, request_id=rec.pk)
