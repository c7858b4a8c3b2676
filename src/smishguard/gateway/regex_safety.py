"""Whether a route regex can backtrack catastrophically: a conservative structural check, in this one function.

Python's ``re`` backtracks; a path regex such as ``(a+)+$`` takes exponential time on a crafted path, and the
gateway matches attacker-chosen paths on every request.  No well-kept library on the registry does this check
(the package lists were grepped), so this walks the pattern's parse tree from ``re._parser`` (CPython's own
parser, private but stable since 3.11; a change would show as a failing test of this module) and refuses two
shapes that cause exponential backtracking:

- a quantifier inside a repeated quantifier: ``(a+)+``, ``(a*)*``, ``(?:[a-z]+/)*`` (even when a separator
  makes it safe: the check is structural and conservative; write the path out instead);
- alternatives that can start with the same character (or match nothing) inside a repeated quantifier:
  ``(a|a)*``, ``(a|ab)+``, ``(x|)*``.

"Repeated" means a maximum above 1 (``*``, ``+``, ``{2,}``, ``{1,5}``); ``?`` is not a repetition.  It misses
polynomial cases such as ``\\d+\\d+$`` (quadratic, not exponential), which the path length bounds.
"""

from __future__ import annotations

import re
from re import _constants as sre  # CPython's parser, wrapped in this module alone (docstring)
from re import _parser

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_RANGE_CAP = 4096  # a character class wider than this counts as "anything" when checking overlap


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` can backtrack catastrophically (a short phrase), or None.  A pattern that does not parse
    gives None: compiling it says why."""
    try:
        tree = _parser.parse(pattern)
    except (re.error, RecursionError):
        return None
    return _walk(list(tree), repeated=False)


def _walk(items: list, *, repeated: bool) -> str | None:
    for op, av in items:
        risk = _item(op, av, repeated=repeated)
        if risk is not None:
            return risk
    return None


def _item(op, av, *, repeated: bool) -> str | None:
    if op in _REPEATS:
        _low, high, body = av
        repeats = high == sre.MAXREPEAT or high > 1
        if repeats and repeated:
            return "a quantifier inside a repeated group"
        return _walk(list(body), repeated=repeated or repeats)
    if op is sre.BRANCH:
        alternatives = [list(alt) for alt in av[1]]
        if repeated and _overlap(alternatives):
            return "alternatives that can match the same text inside a repeated group"
        for alternative in alternatives:
            risk = _walk(alternative, repeated=repeated)
            if risk is not None:
                return risk
        return None
    if op is sre.SUBPATTERN:
        return _walk(list(av[3]), repeated=repeated)
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return _walk(list(av[1]), repeated=repeated)
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _walk(list(av), repeated=repeated)
    if op is sre.GROUPREF_EXISTS:
        _group, yes, no = av
        return _walk(list(yes), repeated=repeated) or (_walk(list(no), repeated=repeated) if no else None)
    if op is sre.GROUPREF and repeated:
        return "a back-reference inside a repeated group"
    return None


def _overlap(alternatives: list[list]) -> bool:
    firsts = [_first(alternative) for alternative in alternatives]
    if any(first is None for first in firsts):
        return True
    seen: set[int] = set()
    for first in firsts:
        if seen & first:
            return True
        seen |= first
    return False


def _first(items: list) -> frozenset[int] | None:
    """The characters a match of ``items`` can start with, or None for "anything, or nothing at all"."""
    if not items:
        return None
    op, av = items[0]
    if op is sre.AT:  # an anchor is zero-width: the next item starts the match
        return _first(items[1:])
    if op is sre.LITERAL:
        return frozenset({av})
    if op is sre.IN:
        return _class(av)
    if op is sre.SUBPATTERN:
        return _first(list(av[3]))
    if op in _REPEATS:
        low, _high, body = av
        return _first(list(body)) if low >= 1 else None
    if op is sre.BRANCH:
        firsts = [_first(list(alt)) for alt in av[1]]
        if any(first is None for first in firsts):
            return None
        return frozenset().union(*firsts)
    return None


def _class(items) -> frozenset[int] | None:
    chars: set[int] = set()
    for op, av in items:
        if op is sre.LITERAL:
            chars.add(av)
        elif op is sre.RANGE and av[1] - av[0] < _RANGE_CAP:
            chars.update(range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY, a wide range
            return None
    return frozenset(chars)
