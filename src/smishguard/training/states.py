"""Where an employee stands on each module, for the pages (queries only: nothing here writes).

An open assignment (not completed) decides first: *overdue* after its due date, *due soon* within ``[training]
due_soon_days`` of it, else *assigned*.  Without one, the employee is *current* when they passed a version that
still counts (``Module.required_version`` or later: ``compliance.is_current``), else *not assigned*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.training.models import Assignment, Attempt, Module, ModuleVersion


class State(StrEnum):
    CURRENT = "current"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ASSIGNED = "assigned"
    NOT_ASSIGNED = "not_assigned"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def state_of(assignment: Assignment | None, *, current: bool, now: datetime, due_soon_days: int) -> State:
    """The state from an employee's assignment of a module (or None) and whether they are current on it."""
    if assignment is not None and assignment.completed_at is None:
        if assignment.due_at <= now:
            return State.OVERDUE
        if assignment.due_at <= now + timedelta(days=due_soon_days):
            return State.DUE_SOON
        return State.ASSIGNED
    return State.CURRENT if current else State.NOT_ASSIGNED


@dataclass(frozen=True)
class ModuleState:
    module: Module
    version: ModuleVersion  # the newest, which staff read and are quizzed on
    state: State
    assignment: Assignment | None
    attempts: int  # on any version
    best_score: int | None


def for_employee(employee: Employee, *, now: datetime | None = None) -> list[ModuleState]:
    """Each module ``employee`` may take (not archived, or archived but still open for them), with their state."""
    now = now or timezone.now()
    due_soon_days = settings.SMISHGUARD.training.due_soon_days
    assignments = {a.module_id: a for a in Assignment.objects.filter(employee=employee)}
    open_ids = [module_id for module_id, a in assignments.items() if a.completed_at is None]
    modules = list(Module.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=open_ids)))
    latest = {}
    for version in ModuleVersion.objects.filter(module__in=modules).order_by("module_id", "-number"):
        latest.setdefault(version.module_id, version)
    tallies = {
        row["version__module_id"]: row
        for row in Attempt.objects.filter(employee=employee)
        .values("version__module_id")
        .annotate(n=Count("id"), best=Max("score"))
    }
    passed = dict(
        Attempt.objects.filter(employee=employee, passed=True)
        .values("version__module_id")
        .annotate(top=Max("version__number"))
        .values_list("version__module_id", "top")
    )
    rows = []
    for module in modules:
        if module.pk not in latest:
            continue
        assignment = assignments.get(module.pk)
        current = passed.get(module.pk, 0) >= module.required_version
        tally = tallies.get(module.pk)
        rows.append(
            ModuleState(
                module=module,
                version=latest[module.pk],
                state=state_of(assignment, current=current, now=now, due_soon_days=due_soon_days),
                assignment=assignment,
                attempts=tally["n"] if tally else 0,
                best_score=tally["best"] if tally else None,
            )
        )
    order = [State.OVERDUE, State.DUE_SOON, State.ASSIGNED, State.NOT_ASSIGNED, State.CURRENT]
    rows.sort(key=lambda r: (order.index(r.state), r.module.title.lower()))
    return rows


def current_count(module: Module) -> int:
    """How many active employees passed a version of ``module`` that still counts."""
    return (
        Attempt.objects.filter(
            version__module=module,
            version__number__gte=module.required_version,
            passed=True,
            employee__status=Employee.Status.ACTIVE,
        )
        .values("employee_id")
        .distinct()
        .count()
    )


def current_counts() -> dict[int, int]:
    """``current_count`` of every module at once: {module id: count}."""
    counts: dict[int, int] = {}
    for module in Module.objects.all():
        counts[module.pk] = current_count(module)
    return counts
