"""Simulations, employees and recipients at known times, for the results tests (training.results, retention, xapi)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smishguard.accounts.models import Group
from smishguard.accounts.services import add_employee
from smishguard.training.models import Recipient, Simulation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def simulation(name: str, *, launched: datetime | None = T0) -> Simulation:
    group, _ = Group.objects.get_or_create(name="simulations")
    return Simulation.objects.create(
        name=name,
        template="Hi {first_name}, {link}",
        group=group,
        created_by="sec@example.com",
        launched_at=launched,
        status=Simulation.Status.RUNNING if launched else Simulation.Status.DRAFT,
    )


def person(n: int, department: str = ""):
    return add_employee(email=f"p{n}@example.com", name=f"Person {n}", department=department)


def recipient(sim: Simulation, employee, *, skipped: str = "", **steps: int) -> Recipient:
    """``steps``: minutes after T0 of sent, delivered, clicked, submitted, reported."""
    times = {f"{step}_at": T0 + timedelta(minutes=minutes) for step, minutes in steps.items()}
    return Recipient.objects.create(
        simulation=sim,
        employee=employee,
        rid=f"rid-{sim.pk}-{employee.pk}",
        department=employee.department,
        skipped=skipped,
        **times,
    )
