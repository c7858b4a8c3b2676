"""Each employee's time zone, for what training does on their clock: a drill's send window, a reminder's quiet
hours."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from smishguard.accounts.models import Employee


def zone_of(employee: Employee) -> ZoneInfo:
    """The employee's own time zone, else ``[training] default_time_zone``, else UTC (also for a name that is not
    a time zone)."""
    for name in (employee.time_zone, settings.SMISHGUARD.training.default_time_zone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
