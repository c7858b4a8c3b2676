"""Assignments and compliance: who must complete which module by when, and whether they have.

An employee is *current* on a module when they passed a version at least ``Module.required_version`` and have no
open assignment of it; an open assignment (no ``completed_at``) is *due soon* within ``[training] due_soon_days``
of its due date, *overdue* after it, and *assigned* before that; with neither, the module is *not assigned*.
``assign`` and ``complete`` are the entry points the other areas call (the quiz, a drill's lesson);
``assign_to`` assigns one module to a whole target (employees, a department, a group, every active employee),
``status`` is the table (one :class:`StatusRow` per active employee and module) that the CLI and the console
show, and ``is_overdue`` is the gateway's question (``compliance_hooks`` registers it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smishguard.accounts.models import Employee, Group
from smishguard.audit import Action, record
from smishguard.training.errors import AssignmentTargetNotFound, InvalidDueDate, ModuleNotFound
from smishguard.training.models import Assignment, Attempt, Module


class State(StrEnum):
    """An employee's standing on one module."""

    CURRENT = "current"  # passed a version that counts, nothing open
    ASSIGNED = "assigned"  # open, due later than due_soon_days from now
    DUE_SOON = "due_soon"  # open, due within due_soon_days
    OVERDUE = "overdue"  # open, past its due date
    NOT_ASSIGNED = "not_assigned"  # never assigned and never passed


def assign(
    employee: Employee,
    module: Module,
    *,
    due_at: datetime,
    source: str = Assignment.Source.MANUAL,
    assigned_by: str = "system",
) -> Assignment:
    """Assign ``module`` to ``employee`` by ``due_at`` (recorded).  An open assignment keeps the earlier due date;
    a completed one is left alone unless the employee is no longer current (a new required version)."""
    return _assign(employee, module, due_at=due_at, source=source, assigned_by=assigned_by)[0]


def _assign(
    employee: Employee, module: Module, *, due_at: datetime, source: str, assigned_by: str
) -> tuple[Assignment, bool]:
    """:func:`assign`, and whether anything changed (a new assignment, a reopened one or an earlier due date)."""
    with transaction.atomic():
        assignment, created = Assignment.objects.select_for_update().get_or_create(
            employee=employee,
            module=module,
            defaults={"due_at": due_at, "source": source, "assigned_by": assigned_by},
        )
        if not created:
            if assignment.completed_at is None:
                if due_at >= assignment.due_at:
                    return assignment, False
            elif is_current(employee, module):
                return assignment, False
            assignment.due_at = due_at if assignment.completed_at is not None else min(due_at, assignment.due_at)
            assignment.completed_at = None
            assignment.completed_attempt = None
            assignment.source = source
            assignment.assigned_by = assigned_by
            assignment.assigned_at = timezone.now()
            assignment.reminded_before_at = None
            assignment.reminded_after_at = None
            assignment.save()
        record(
            Action.TRAINING_ASSIGNED,
            actor_label=assigned_by,
            subject=employee,
            module=module.slug,
            due_at=assignment.due_at.isoformat(),
            source=source,
        )
    return assignment, True


def is_current(employee: Employee, module: Module) -> bool:
    """Whether ``employee`` passed a version of ``module`` that still counts."""
    return Attempt.objects.filter(
        employee=employee, version__module=module, version__number__gte=module.required_version, passed=True
    ).exists()


def complete(attempt: Attempt) -> Assignment | None:
    """A passed attempt closes the employee's open assignment of its module (recorded); None when nothing was open
    or the attempt does not count (failed, or a version older than the module's required one)."""
    version = attempt.version
    module = version.module
    if not attempt.passed or version.number < module.required_version:
        return None
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update()
            .filter(employee_id=attempt.employee_id, module=module, completed_at__isnull=True)
            .first()
        )
        if assignment is None:
            return None
        assignment.completed_at = attempt.submitted_at
        assignment.completed_attempt = attempt
        assignment.save(update_fields=["completed_at", "completed_attempt"])
        record(
            Action.TRAINING_COMPLETED,
            actor_label=attempt.employee.email,
            subject=attempt.employee,
            module=module.slug,
            version=version.number,
            score=attempt.score,
            attempts=_attempts_up_to(attempt),
            seconds=_seconds(attempt),
        )
    return assignment


def is_overdue(employee_id: int, *, now: datetime | None = None) -> bool:
    """Whether the employee has an open assignment past its due date (of a module not archived): what the gateway
    refuses on a rule with ``training_required``.  One indexed query; nothing cached, so a pass counts at once."""
    return Assignment.objects.filter(
        employee_id=employee_id,
        completed_at__isnull=True,
        due_at__lt=now or timezone.now(),
        module__archived_at__isnull=True,
    ).exists()


def first_overdue_slug(employee_id: int, *, now: datetime | None = None) -> str | None:
    """The slug of the employee's module overdue the longest (None: nothing overdue)."""
    return (
        Assignment.objects.filter(
            employee_id=employee_id,
            completed_at__isnull=True,
            due_at__lt=now or timezone.now(),
            module__archived_at__isnull=True,
        )
        .order_by("due_at", "id")
        .values_list("module__slug", flat=True)
        .first()
    )


# --- targets and due dates ----------------------------------------------------------------------------------------


def module_by_slug(slug: str) -> Module:
    """The module named ``slug`` (not archived), or :class:`ModuleNotFound`."""
    module = Module.objects.filter(slug=slug, archived_at__isnull=True).first()
    if module is None:
        raise ModuleNotFound(f"no training module {slug!r} (smishguard training status lists them)")
    return module


def active_employees():
    return Employee.objects.filter(status=Employee.Status.ACTIVE)


def target_employees(
    *, group: str | None = None, department: str | None = None, everyone: bool = False, emails: Iterable[str] = ()
) -> list[Employee]:
    """The active employees of exactly one target: a group (by name), a department (case-insensitive), every active
    employee, or a list of e-mail addresses.  An unknown group or department, or an e-mail address of nobody
    active, is :class:`AssignmentTargetNotFound`."""
    emails = [e.strip().lower() for e in emails if e.strip()]
    given = [group is not None, department is not None, everyone, bool(emails)]
    if sum(given) != 1:
        raise AssignmentTargetNotFound("name exactly one target: a group, a department, everyone, or employees")
    people = active_employees()
    if group is not None:
        found = Group.objects.filter(name=group).first()
        if found is None:
            raise AssignmentTargetNotFound(f"no group named {group!r}")
        return list(people.filter(groups=found).order_by("email"))
    if department is not None:
        if not Employee.objects.filter(department__iexact=department).exists():
            raise AssignmentTargetNotFound(f"no employee is in a department named {department!r}")
        return list(people.filter(department__iexact=department).order_by("email"))
    if emails:
        found_people = list(people.filter(email__in=emails).order_by("email"))
        missing = sorted(set(emails) - {p.email for p in found_people})
        if missing:
            raise AssignmentTargetNotFound(f"no active employee with the e-mail address {missing[0]}")
        return found_people
    return list(people.order_by("email"))


def company_zone() -> ZoneInfo:
    return ZoneInfo(settings.SMISHGUARD.training.default_time_zone)


def due_at_end_of(day: date, *, now: datetime | None = None) -> datetime:
    """A due date as a moment: the end of ``day`` (23:59:59) in ``[training] default_time_zone``, in UTC.  A day
    before today there is :class:`InvalidDueDate`."""
    zone = company_zone()
    today = (now or timezone.now()).astimezone(zone).date()
    if day < today:
        raise InvalidDueDate(f"the due date {day.isoformat()} is in the past (today is {today.isoformat()})")
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def parse_due(text: str, *, now: datetime | None = None) -> datetime:
    """``YYYY-MM-DD`` as :func:`due_at_end_of` reads it, or :class:`InvalidDueDate`."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDueDate(f"the due date must be YYYY-MM-DD, not {text!r}") from None
    if len(text.strip()) != 10:
        raise InvalidDueDate(f"the due date must be YYYY-MM-DD, not {text!r}")
    return due_at_end_of(day, now=now)


@dataclass(frozen=True)
class AssignResult:
    module: str
    targeted: int  # the active employees of the target
    assigned: int  # of whom this assignment is new, reopened, or brought forward
    due_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "module": self.module,
            "targeted": self.targeted,
            "assigned": self.assigned,
            "due": self.due_at.isoformat(),
        }


def assign_to(
    module: Module,
    employees: Iterable[Employee],
    *,
    due_at: datetime,
    assigned_by: str,
    source: str = Assignment.Source.MANUAL,
) -> AssignResult:
    """Assign ``module`` to each of ``employees`` (each recorded as :func:`assign` does)."""
    people = list(employees)
    changed = sum(
        _assign(person, module, due_at=due_at, source=source, assigned_by=assigned_by)[1] for person in people
    )
    return AssignResult(module.slug, len(people), changed, due_at)


def assign_new_employee(employee: Employee) -> int:
    """Assign ``[training] new_employee_modules`` to a new employee, due ``new_employee_due_days`` from now (the
    receiver of ``accounts.signals.employee_created``).  A slug that names no module (or an archived one) is
    skipped: the modules may be created after the configuration.  The number assigned."""
    config = settings.SMISHGUARD.training
    if not config.new_employee_modules or not employee.is_active:
        return 0
    due_at = timezone.now() + timedelta(days=config.new_employee_due_days)
    modules = Module.objects.filter(slug__in=config.new_employee_modules, archived_at__isnull=True)
    return sum(
        _assign(employee, module, due_at=due_at, source=Assignment.Source.NEW_EMPLOYEE, assigned_by="system")[1]
        for module in modules
    )


# --- the compliance table ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRow:
    """One active employee's standing on one module, with the completion record when there is one."""

    email: str
    name: str
    department: str
    module: str  # slug
    module_title: str
    state: State
    due: datetime | None  # the open (or last) assignment's due date
    completed: datetime | None  # when the pass that counts was submitted
    score: int | None  # that pass's score, percent
    attempts: int | None  # attempts up to that pass (since the one before it), the pass included
    seconds: int | None  # how long that pass took, from the quiz's start to its submission
    source: str | None  # how the assignment came: manual, new_employee, simulation, new_version

    @property
    def taken(self) -> str:
        """How long the pass took, for people: ``2m05s``, ``40s``; ``-`` without one."""
        if self.seconds is None:
            return "-"
        minutes, rest = divmod(self.seconds, 60)
        return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"

    def as_dict(self) -> dict[str, object]:
        return {
            "email": self.email,
            "name": self.name,
            "department": self.department,
            "module": self.module,
            "state": str(self.state),
            "due": self.due.isoformat() if self.due else None,
            "completed": self.completed.isoformat() if self.completed else None,
            "score": self.score,
            "attempts": self.attempts,
            "seconds": self.seconds,
            "source": self.source,
        }


def state_of(due_at: datetime, *, now: datetime) -> State:
    """The state of an open assignment due at ``due_at``."""
    if due_at < now:
        return State.OVERDUE
    if due_at - now <= timedelta(days=settings.SMISHGUARD.training.due_soon_days):
        return State.DUE_SOON
    return State.ASSIGNED


def _seconds(attempt: Attempt) -> int:
    return max(0, int((attempt.submitted_at - attempt.started_at).total_seconds()))


def _attempts_up_to(attempt: Attempt) -> int:
    """Attempts of the employee at the module up to ``attempt`` (included), since their pass before it."""
    same = Attempt.objects.filter(employee_id=attempt.employee_id, version__module_id=attempt.version.module_id)
    before = same.filter(submitted_at__lte=attempt.submitted_at).exclude(pk=attempt.pk)
    last_pass = before.filter(passed=True).order_by("-submitted_at", "-id").first()
    if last_pass is not None:
        before = before.filter(submitted_at__gte=last_pass.submitted_at).exclude(pk=last_pass.pk)
    return before.count() + 1


def status(
    *, now: datetime | None = None, states: Iterable[State] | None = None, employees=None, modules=None
) -> list[StatusRow]:
    """The compliance table: one row per active employee and module not archived (``employees``, ``modules``:
    querysets to narrow it), ordered by e-mail address then module; ``states`` keeps only those states."""
    now = now or timezone.now()
    wanted = set(states) if states is not None else None
    people = list((employees if employees is not None else active_employees()).order_by("email"))
    mods = list((modules if modules is not None else Module.objects.filter(archived_at__isnull=True)).order_by("slug"))
    by_module = {m.pk: m for m in mods}
    ids = [p.pk for p in people]
    assignments = {
        (a.employee_id, a.module_id): a
        for a in Assignment.objects.filter(employee_id__in=ids, module_id__in=by_module).select_related(
            "completed_attempt"
        )
    }
    # Every attempt at these modules, oldest first per employee and module: the passes that count and the
    # attempts that led to each.
    history: dict[tuple[int, int], list[tuple[Attempt, int]]] = {}
    for attempt in (
        Attempt.objects.filter(employee_id__in=ids, version__module_id__in=by_module)
        .select_related("version")
        .order_by("submitted_at", "id")
    ):
        history.setdefault((attempt.employee_id, attempt.version.module_id), []).append(
            (attempt, attempt.version.number)
        )
    rows = []
    for person in people:
        for module in mods:
            key = (person.pk, module.pk)
            row = _row(person, module, assignments.get(key), history.get(key, []), now)
            if wanted is None or row.state in wanted:
                rows.append(row)
    return rows


def _row(
    person: Employee, module: Module, assignment: Assignment | None, tries: list[tuple[Attempt, int]], now: datetime
) -> StatusRow:
    # The last pass that counts, and how many attempts led to it.
    counted: tuple[Attempt, int] | None = None
    since = 0
    for attempt, number in tries:
        since += 1
        if attempt.passed:
            if number >= module.required_version:
                counted = (attempt, since)
            since = 0
    due = assignment.due_at if assignment is not None else None
    source = assignment.source if assignment is not None else None
    if assignment is not None and assignment.completed_at is None:
        state = state_of(assignment.due_at, now=now)
    elif counted is not None:
        state = State.CURRENT
    else:  # nothing open and no pass that counts (a completed assignment of a version no longer required)
        state = State.NOT_ASSIGNED
    passed, attempts = counted if counted is not None and state == State.CURRENT else (None, None)
    return StatusRow(
        email=person.email,
        name=person.name,
        department=person.department,
        module=module.slug,
        module_title=module.title,
        state=state,
        due=due,
        completed=passed.submitted_at if passed is not None else None,
        score=passed.score if passed is not None else None,
        attempts=attempts,
        seconds=_seconds(passed) if passed is not None else None,
        source=source,
    )
