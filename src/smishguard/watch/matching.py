"""Every name of every certificate through the lookalike matcher (no Django here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smishguard.engine.ct import LogEntry
from smishguard.engine.domains import DomainResult, InvalidDomain, LookalikeMatcher


@dataclass(frozen=True, slots=True)
class Hit:
    """A certificate's lookalikes of one registrable domain: the matcher's result for its shortest such name
    (the bare domain before ``www.``), and every lookalike name under that domain, in the certificate's order.

    One certificate for ``example-sso.com`` and ``www.example-sso.com`` is one hit, so one alert (issue 11).
    """

    entry: LogEntry
    result: DomainResult
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Matched:
    hits: tuple[Hit, ...]
    entries: int
    names: int
    invalid_names: int


def find_lookalikes(entries: Iterable[LogEntry], matcher: LookalikeMatcher) -> Matched:
    """The lookalike names in ``entries`` (official and clear names dropped; invalid names counted)."""
    check = matcher.check
    hits: list[Hit] = []
    count = names = invalid = 0
    for entry in entries:
        count += 1
        # registrable domain -> the results of its lookalike names, first seen first
        found: dict[tuple[str, str], list[DomainResult]] = {}
        for name in entry.names:
            names += 1
            try:
                result = check(name)
            except InvalidDomain:
                invalid += 1
                continue
            if result.verdict == "lookalike":
                group = found.setdefault((result.registrable, result.brand or ""), [])
                if all(r.domain != result.domain for r in group):
                    group.append(result)
        for group in found.values():
            main = min(group, key=lambda r: r.domain.count("."))  # the first of the shortest names
            hits.append(Hit(entry, main, tuple(r.domain for r in group)))
    return Matched(tuple(hits), count, names, invalid)
