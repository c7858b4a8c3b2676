"""What the simulations showed: each one's funnel (overall and by department), the trend over simulations, and
the employees who clicked in more than one.

The per-person rows (``Recipient``) are the source while they are kept; once a simulation's results are reduced to
counts (``retention``), its ``SimulationTally`` rows answer the funnel and the departments, and it no longer
counts towards repeat clickers (there is no one left to name).  Skipped recipients (no phone, opted out, outside
the allowed countries, cancelled before sending) are not in the funnel, only counted apart: they were never
asked.  A recipient whose text went out still counts if a reason to skip them came later (their send failed
for good after an attempt that Twilio accepted, say).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from django.db.models import Count, Q

from smishguard.training.models import Recipient, Simulation, SimulationTally

STEPS = ("sent", "delivered", "clicked", "submitted", "reported")


@dataclass(frozen=True)
class Funnel:
    """Counts of recipients who reached each step (a recipient who clicked without a delivery receipt still counts
    as clicked), those skipped, and how fast reports came: seconds from a recipient's send to their report."""

    recipients: int
    sent: int
    delivered: int
    clicked: int
    submitted: int
    reported: int
    skipped: int = 0
    time_to_first_report_seconds: int | None = None  # the first report to arrive, from its recipient's send
    median_report_seconds: int | None = None

    def rate(self, step: str) -> float | None:
        """``step`` over those sent (None when nothing was sent)."""
        return getattr(self, step) / self.sent if self.sent else None

    def as_dict(self) -> dict[str, object]:
        """The funnel of ``smishguard simulations results --json`` (and the trend's)."""
        return {
            "recipients": self.recipients,
            **{step: getattr(self, step) for step in STEPS},
            "time_to_first_report_seconds": self.time_to_first_report_seconds,
            "median_report_seconds": self.median_report_seconds,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class DepartmentFunnel:
    department: str  # "" for employees without one
    funnel: Funnel


@dataclass(frozen=True)
class TrendPoint:
    """One simulation in the trend, in launch order: its funnel's rates."""

    simulation_id: int
    name: str
    launched_at: datetime | None
    funnel: Funnel

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.simulation_id,
            "name": self.name,
            "launched_at": self.launched_at.isoformat() if self.launched_at else None,
            "funnel": self.funnel.as_dict(),
            "click_rate": self.funnel.rate("clicked"),
            "submit_rate": self.funnel.rate("submitted"),
            "report_rate": self.funnel.rate("reported"),
        }


@dataclass(frozen=True)
class RepeatClicker:
    """An employee who clicked a drill's link in ``clicks`` simulations (of ``simulations`` they were sent)."""

    employee_id: int
    email: str
    name: str
    department: str
    simulations: int
    clicks: int
    submits: int
    reports: int

    def as_dict(self) -> dict[str, object]:
        return {
            "email": self.email,
            "name": self.name,
            "department": self.department,
            "simulations": self.simulations,
            "clicks": self.clicks,
            "submits": self.submits,
            "reports": self.reports,
        }


ASKED = Q(skipped="") | Q(sent_at__isnull=False)  # the recipients in the funnel


def _delay(row: Recipient, launched_at: datetime | None) -> int | None:
    start = row.sent_at or launched_at
    if row.reported_at is None or start is None:
        return None
    return max(0, round((row.reported_at - start).total_seconds()))


def _funnel_of_rows(rows: list[Recipient], launched_at: datetime | None, skipped: int = 0) -> Funnel:
    asked = [row for row in rows if not row.skipped or row.sent_at is not None]
    reports = sorted((row for row in asked if row.reported_at is not None), key=lambda row: row.reported_at)
    delays = [d for d in (_delay(row, launched_at) for row in reports) if d is not None]
    return Funnel(
        recipients=len(asked),
        sent=sum(row.sent_at is not None for row in asked),
        delivered=sum(row.delivered_at is not None for row in asked),
        clicked=sum(row.clicked_at is not None for row in asked),
        submitted=sum(row.submitted_at is not None for row in asked),
        reported=len(reports),
        skipped=skipped + len(rows) - len(asked),
        time_to_first_report_seconds=delays[0] if delays else None,
        median_report_seconds=round(median(delays)) if delays else None,
    )


def _funnel_of_tallies(tallies: Iterable[SimulationTally]) -> Funnel:
    tallies = list(tallies)
    return Funnel(
        recipients=sum(t.recipients for t in tallies),
        **{step: sum(getattr(t, step) for t in tallies) for step in STEPS},
        skipped=sum(t.skipped for t in tallies),
    )


_FIELDS = ("department", "skipped", "sent_at", "delivered_at", "clicked_at", "submitted_at", "reported_at")


def funnel(simulation: Simulation) -> Funnel:
    """The simulation's funnel, from its recipients or, once reduced, its counts."""
    if simulation.reduced_at is not None:
        return _funnel_of_tallies(simulation.tallies.all())
    rows = list(Recipient.objects.filter(simulation=simulation).only(*_FIELDS))
    return _funnel_of_rows(rows, simulation.launched_at)


def by_department(simulation: Simulation) -> list[DepartmentFunnel]:
    """The funnel per department (the department an employee had at launch), departments by name."""
    if simulation.reduced_at is not None:
        return [
            DepartmentFunnel(t.department, _funnel_of_tallies([t])) for t in simulation.tallies.order_by("department")
        ]
    groups: dict[str, list[Recipient]] = defaultdict(list)
    for row in Recipient.objects.filter(simulation=simulation).only(*_FIELDS):
        groups[row.department].append(row)
    return [
        DepartmentFunnel(name, _funnel_of_rows(rows, simulation.launched_at)) for name, rows in sorted(groups.items())
    ]


def tallies_of(simulation: Simulation) -> list[SimulationTally]:
    """Unsaved ``SimulationTally`` rows, one per department, that hold the funnel of the simulation's recipients
    (what retention keeps when it deletes them)."""
    return [
        SimulationTally(
            simulation=simulation,
            department=part.department,
            recipients=part.funnel.recipients,
            skipped=part.funnel.skipped,
            **{step: getattr(part.funnel, step) for step in STEPS},
        )
        for part in by_department(simulation)
    ]


def trend(limit: int | None = None) -> list[TrendPoint]:
    """The launched simulations in launch order (the last ``limit`` of them), each with its funnel."""
    launched = Simulation.objects.filter(launched_at__isnull=False).order_by("-launched_at", "-id")
    if limit is not None:
        launched = launched[:limit]
    points = [TrendPoint(s.pk, s.name, s.launched_at, funnel(s)) for s in launched]
    return points[::-1]


def repeat_clickers(*, at_least: int = 2) -> list[RepeatClicker]:
    """Employees who clicked in ``at_least`` simulations (of those whose per-person results are still kept), the
    most clicks first."""
    rows = (
        Recipient.objects.filter(ASKED, simulation__reduced_at__isnull=True)
        .values("employee_id", "employee__email", "employee__name", "employee__department")
        .annotate(
            simulations=Count("id", filter=Q(sent_at__isnull=False)),
            clicks=Count("id", filter=Q(clicked_at__isnull=False)),
            submits=Count("id", filter=Q(submitted_at__isnull=False)),
            reports=Count("id", filter=Q(reported_at__isnull=False)),
        )
        .filter(clicks__gte=at_least)
        .order_by("-clicks", "-submits", "employee__email")
    )
    return [
        RepeatClicker(
            employee_id=row["employee_id"],
            email=row["employee__email"],
            name=row["employee__name"],
            department=row["employee__department"],
            simulations=row["simulations"],
            clicks=row["clicks"],
            submits=row["submits"],
            reports=row["reports"],
        )
        for row in rows
    ]
