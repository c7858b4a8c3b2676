"""Reminders of open training assignments, through the outbox: an SMS (as messaging sends notices to employees)
and, where ``[training] email_from`` is set, an e-mail (messaging's ``email`` kind).

- **Before** the due date: one reminder once the due date is ``remind_days_before`` days away or closer
  (``Assignment.reminded_before_at``; 0 days: none).
- **After** it: one as soon as it is overdue, then one every ``remind_every_days_after`` days
  (``Assignment.reminded_after_at``; 0 days: none after).
- Never in ``quiet_hours`` (default 21:00-08:00) in the employee's time zone (``Employee.time_zone``, else
  ``default_time_zone``): a reminder due then waits for the next pass after the quiet hours.

:func:`run` is the pass; the worker runs it about once a minute (``training.periodic``). It is idempotent: each
reminder is decided and recorded with its assignment row locked, the stamp written in the same transaction as the
outgoing SMS and e-mail (each under an idempotency key naming the assignment, its due date and the reminder), so two
workers or a crash repeat nothing. Each reminder is audited ``training:assignment:reminded`` with the channels it
went by.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.audit import Action, record
from smishguard.messaging.broadcast import queue_message
from smishguard.messaging.email import queue_email
from smishguard.messaging.errors import InvalidMessage, ProviderNotConfigured
from smishguard.messaging.models import OutboundMessage
from smishguard.timeofday import parse_range
from smishguard.training.models import Assignment
from smishguard.training.zones import zone_of

log = logging.getLogger("smishguard.training")

BEFORE, AFTER = "before", "after"


def quiet(employee: Employee, now: datetime) -> bool:
    """Whether ``now`` is in ``[training] quiet_hours`` where the employee is (a range may cross midnight)."""
    start, end = parse_range(settings.SMISHGUARD.training.quiet_hours)  # checked by config.TrainingSettings
    local = now.astimezone(zone_of(employee)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


@dataclass(frozen=True)
class Due:
    stage: str  # before | after
    key: str  # names the assignment, its due date and this reminder: one per key, ever


def due_reminder(assignment: Assignment, now: datetime) -> Due | None:
    """The reminder ``assignment`` is owed at ``now`` (None: none), quiet hours aside."""
    config = settings.SMISHGUARD.training
    if assignment.completed_at is not None:
        return None
    stamp = assignment.due_at.strftime("%Y%m%dT%H%M%S")
    if now < assignment.due_at:
        before = config.remind_days_before
        if before and assignment.reminded_before_at is None and now >= assignment.due_at - timedelta(days=before):
            return Due(BEFORE, f"training-reminder:{assignment.pk}:{stamp}:before")
        return None
    every = config.remind_every_days_after
    if not every:
        return None
    last = assignment.reminded_after_at
    if last is not None and now < last + timedelta(days=every):
        return None
    period = int((now - assignment.due_at) // timedelta(days=every))
    return Due(AFTER, f"training-reminder:{assignment.pk}:{stamp}:after:{period}")


def _text(assignment: Assignment, due: Due, zone: ZoneInfo) -> tuple[str, str]:
    """(subject, body) of a reminder: the module, the due date in the employee's zone, and where to take it."""
    module = assignment.module.title
    day = assignment.due_at.astimezone(zone).strftime("%d %b %Y")
    link = f"{settings.SMISHGUARD.origin.rstrip('/')}/learn/"
    if due.stage == BEFORE:
        subject = f"Security training due {day}: {module}"
        body = f"Reminder: your security training '{module}' is due on {day}. Take it at {link}"
    else:
        subject = f"Security training overdue: {module}"
        body = (
            f"Your security training '{module}' was due on {day} and is overdue; some internal apps may refuse "
            f"access until it is done. Take it at {link}"
        )
    return subject, body


def _send(assignment: Assignment, due: Due) -> list[str]:
    """Queue the SMS and the e-mail of one reminder (in the caller's transaction); the channels used."""
    employee = assignment.employee
    subject, body = _text(assignment, due, zone_of(employee))
    channels = []
    if employee.phone:
        try:
            queue_message(
                employee.phone,
                body,
                purpose=OutboundMessage.Purpose.NOTICE,
                idempotency_key=due.key,
                employee=employee,
            )
            channels.append("sms")
        except (ProviderNotConfigured, InvalidMessage) as exc:
            log.warning("training reminder for employee %s: no SMS: %s", employee.pk, exc)
    sender = settings.SMISHGUARD.training.email_from
    if sender and queue_email(
        employee.email, subject, body, key=due.key, from_email=sender, subject_label=employee.email
    ):
        channels.append("email")
    return channels


def remind(assignment_id: int, *, now: datetime | None = None) -> str | None:
    """Send the reminder one assignment is owed now, if any and not in quiet hours (its row locked: two
    workers never both send it); the stage sent, or None."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("employee", "module")
            .filter(pk=assignment_id)
            .first()
        )
        if assignment is None or assignment.employee.status != Employee.Status.ACTIVE:
            return None
        due = due_reminder(assignment, now)
        if due is None or quiet(assignment.employee, now):
            return None
        channels = _send(assignment, due)
        field = "reminded_before_at" if due.stage == BEFORE else "reminded_after_at"
        setattr(assignment, field, now)
        assignment.save(update_fields=[field])
        record(
            Action.TRAINING_REMINDED,
            actor_label="system",
            subject=assignment.employee,
            module=assignment.module.slug,
            stage=due.stage,
            due_at=assignment.due_at.isoformat(),
            channels=channels,
        )
    return due.stage


def candidates(now: datetime):
    """The open assignments that may be owed a reminder at ``now`` (of active employees, modules not archived)."""
    config = settings.SMISHGUARD.training
    horizon = now + timedelta(days=config.remind_days_before)
    return (
        Assignment.objects.filter(
            completed_at__isnull=True,
            employee__status=Employee.Status.ACTIVE,
            module__archived_at__isnull=True,
            due_at__lte=horizon,
        )
        .order_by("due_at", "id")
        .values_list("pk", flat=True)
    )


def run(*, now: datetime | None = None) -> int:
    """One reminder pass: every reminder owed now, outside each employee's quiet hours.  How many were sent."""
    now = now or timezone.now()
    return sum(remind(pk, now=now) is not None for pk in list(candidates(now)))
