"""Per-person simulation results are kept for ``[training] results_retention_days`` (0: kept until deleted by
hand), then reduced to counts: one ``SimulationTally`` row per department holds the funnel, and the recipients
(their rids, times and events) are deleted, in one transaction per simulation, recorded in the audit trail.

The clock starts at the launch (at creation for a simulation never launched).  A reduced simulation still shows
its funnel and its departments (``results``); it no longer names anyone, so it drops out of the repeat clickers,
and its tracked links answer 404 like any unknown link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.training import results
from smishguard.training.models import Simulation, SimulationTally

# What can still change a simulation's results: a recipient may yet be sent, click or report.
_LIVE = (Simulation.Status.RUNNING, Simulation.Status.PAUSED, Simulation.Status.AWAITING_APPROVAL)


def cutoff(now: datetime | None = None) -> datetime | None:
    """Simulations that started before this are due for reduction (None: retention is off)."""
    days = settings.SMISHGUARD.training.results_retention_days
    if days == 0:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def due(now: datetime | None = None) -> list[Simulation]:
    """The simulations whose per-person results have outlived the retention period and are not reduced yet."""
    before = cutoff(now)
    if before is None:
        return []
    started_before = Q(launched_at__lt=before) | Q(launched_at__isnull=True, created_at__lt=before)
    return list(Simulation.objects.filter(started_before, reduced_at__isnull=True).order_by("id"))


def reduce(simulation: Simulation, *, actor_label: str = "system") -> list[SimulationTally]:
    """Replace ``simulation``'s per-person results by counts per department (recorded); a simulation already
    reduced is left as it is.  A simulation still running or paused is finished first: nobody is left to send to."""
    with transaction.atomic():
        locked = Simulation.objects.select_for_update().get(pk=simulation.pk)
        if locked.reduced_at is not None:
            return list(locked.tallies.all())
        tallies = results.tallies_of(locked)
        SimulationTally.objects.bulk_create(tallies)
        removed = locked.recipients.count()
        locked.recipients.all().delete()  # and their events (cascade)
        now = timezone.now()
        locked.reduced_at = now
        fields = ["reduced_at"]
        if locked.status in _LIVE:
            locked.status = Simulation.Status.FINISHED
            locked.status_changed_at = now
            locked.status_changed_by = actor_label
            fields += ["status", "status_changed_at", "status_changed_by"]
        locked.save(update_fields=fields)
        record(
            Action.SIMULATION_RESULTS_REDUCED,
            actor_label=actor_label,
            subject_label=f"simulation {locked.pk}",
            simulation=locked.pk,
            recipients=removed,
            departments=len(tallies),
        )
    simulation.reduced_at = locked.reduced_at
    simulation.status = locked.status
    return tallies


def reduce_due(now: datetime | None = None, *, actor_label: str = "system") -> list[int]:
    """Reduce every simulation due (:func:`due`); the ids reduced."""
    reduced = []
    for simulation in due(now):
        reduce(simulation, actor_label=actor_label)
        reduced.append(simulation.pk)
    return reduced
