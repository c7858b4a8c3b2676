"""Assignments and compliance: who must complete which module by when, and whether they have.

An employee is *current* on a module when they passed a version at least ``Module.required_version``; an open
assignment (no ``completed_at``) is *due soon* within ``[training] due_soon_days`` of its due date and *overdue*
after it.  ``assign`` and ``complete`` are the entry points the other areas call (the quiz, a drill's lesson).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.audit import Action, record
from smishguard.training.models import Assignment, Attempt, Module


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
    with transaction.atomic():
        assignment, created = Assignment.objects.select_for_update().get_or_create(
            employee=employee,
            module=module,
            defaults={"due_at": due_at, "source": source, "assigned_by": assigned_by},
        )
        if not created:
            if assignment.completed_at is None:
                if due_at >= assignment.due_at:
                    return assignment
            elif is_current(employee, module):
                return assignment
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
    return assignment


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
        )
    return assignment
