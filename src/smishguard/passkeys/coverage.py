"""Key roll-out coverage: how many active employees hold at least one, and at least two, usable keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from smishguard.accounts.models import Employee

NO_DEPARTMENT = "(no department)"


@dataclass(frozen=True)
class CoverageRow:
    label: str
    active: int
    with_one: int  # at least one usable key
    with_two: int  # at least two usable keys (a backup)

    @property
    def without(self) -> int:
        return self.active - self.with_one

    @property
    def pct_one(self) -> float:
        return 100.0 * self.with_one / self.active if self.active else 0.0

    @property
    def pct_two(self) -> float:
        return 100.0 * self.with_two / self.active if self.active else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "active": self.active,
            "with_one": self.with_one,
            "with_two": self.with_two,
            "pct_one": round(self.pct_one, 1),
            "pct_two": round(self.pct_two, 1),
        }


@dataclass(frozen=True)
class Coverage:
    overall: CoverageRow
    departments: tuple[CoverageRow, ...]

    def to_dict(self) -> dict[str, object]:
        return {"overall": self.overall.to_dict(), "departments": [d.to_dict() for d in self.departments]}


def key_coverage() -> Coverage:
    """Coverage over active employees; a usable key is one neither revoked nor flagged as possibly cloned."""
    usable = Q(credentials__revoked_at__isnull=True, credentials__flagged_at__isnull=True)
    rows = (
        Employee.objects.filter(status=Employee.Status.ACTIVE)
        .annotate(keys=Count("credentials", filter=usable))
        .values_list("department", "keys")
    )
    tallies: dict[str, list[int]] = {}
    for department, keys in rows:
        tally = tallies.setdefault(department or NO_DEPARTMENT, [0, 0, 0])
        tally[0] += 1
        tally[1] += keys >= 1
        tally[2] += keys >= 2
    departments = tuple(CoverageRow(label, *tally) for label, tally in sorted(tallies.items()))
    overall = CoverageRow(
        "All departments",
        sum(d.active for d in departments),
        sum(d.with_one for d in departments),
        sum(d.with_two for d in departments),
    )
    return Coverage(overall, departments)
