"""Every name of every certificate through the lookalike matcher (no Django here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smishguard.engine.ct import LogEntry
from smishguard.engine.domains import DomainResult, InvalidDomain, LookalikeMatcher


@dataclass(frozen=True, slots=True)
class Hit:
    """A name in a certificate that the matcher calls a lookalike of a protected brand."""

    entry: LogEntry
    result: DomainResult


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
        seen: set[str] = set()
        for name in entry.names:
            names += 1
            try:
                result = check(name)
            except InvalidDomain:
                invalid += 1
                continue
            if result.verdict == "lookalike" and result.domain not in seen:
                seen.add(result.domain)
                hits.append(Hit(entry, result))
    return Matched(tuple(hits), count, names, invalid)
