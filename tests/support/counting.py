"""The suite's count of tests in each mode (scripts/test compares them), with the production-mode-only tests apart.

Load, fault and fuzzing tests carry ``@pytest.mark.once`` (issue 13: "run once, in production mode"): they are
deselected, not skipped, in SQLite mode and run in production mode.  Every other test runs in both modes, so the
two runs must count the same number of those; the ``once`` tests are counted beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ONCE = "once"
OUTCOMES = ("passed", "failed", "error", "skipped")


def is_once(item_or_report: Any) -> bool:
    """Whether a collected item or a test report carries the ``once`` marker (reports keep the item's keywords)."""
    return ONCE in getattr(item_or_report, "keywords", ())  # a CollectReport (an error collecting) has none


def split_once(items: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """(the items that run in both modes, the production-mode-only ones), each in collection order."""
    both: list[Any] = []
    once: list[Any] = []
    for item in items:
        (once if is_once(item) else both).append(item)
    return both, once


@dataclass(frozen=True)
class Counts:
    mode: str
    both: dict[str, int]  # outcome -> number of tests that run in both modes
    once: dict[str, int]  # outcome -> number of production-mode-only tests
    deselected_once: int  # production-mode-only tests left out of this run (SQLite mode)

    @staticmethod
    def _total(by_outcome: Mapping[str, int]) -> int:
        # "error" is a setup or teardown failure of a test already counted (or one whose setup failed)
        return by_outcome["passed"] + by_outcome["failed"] + by_outcome["skipped"]

    @property
    def both_total(self) -> int:
        return self._total(self.both)

    @property
    def once_total(self) -> int:
        return self._total(self.once)

    def summary(self) -> str:
        """One line for the terminal: "tests in postgres mode: 1747 in both modes + 12 production-mode only (...)"."""
        outcomes = {k: self.both[k] + self.once[k] for k in OUTCOMES}
        line = (
            f"tests in {self.mode} mode: {self.both_total} in both modes + {self.once_total} production-mode only "
            f"({', '.join(f'{n} {k}' for k, n in outcomes.items())})"
        )
        if self.deselected_once:
            line += f"; {self.deselected_once} production-mode-only tests deselected here (@pytest.mark.once)"
        return line

    def count_file_line(self) -> str:
        """What scripts/test reads: "<run in both> <of them passed> <production-mode only>"; it compares the
        first two fields of the two modes."""
        return f"{self.both_total} {self.both['passed']} {self.once_total}\n"


def count(mode: str, stats: Mapping[str, Sequence[Any]]) -> Counts:
    """Count a run from pytest's terminal reporter's ``stats`` (outcome -> reports; "deselected" -> items)."""
    both = dict.fromkeys(OUTCOMES, 0)
    once = dict.fromkeys(OUTCOMES, 0)
    for outcome in OUTCOMES:
        for report in stats.get(outcome, []):
            (once if is_once(report) else both)[outcome] += 1
    deselected = sum(1 for item in stats.get("deselected", []) if is_once(item))
    return Counts(mode=mode, both=both, once=once, deselected_once=deselected)
