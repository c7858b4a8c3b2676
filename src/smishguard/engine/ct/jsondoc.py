"""JSON from outside (a log's answers, a log list, certstream messages), decoded with a depth limit.

The standard decoder recurses once per level of nesting: a document of 100,000 ``[`` (200 kB, valid JSON) makes
it raise ``RecursionError``, which is no ``ValueError`` and so slipped past every caller's handling.  ``loads``
refuses, with a ``ValueError`` (each caller turns it into its narrow error), a document nested deeper than
``MAX_DEPTH``: one the decoder gives up on, and one it decodes whose arrays and objects go deeper.  Real CT
documents are at most six levels deep.

(The decoder is left to find the deepest documents because it does so at no cost: measuring the nesting first,
even with bytes operations, took twice as long as decoding a get-entries answer of a thousand entries.)
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


def nesting_depth(value: Any, *, limit: int = MAX_DEPTH) -> int:
    """How deep the arrays and objects of a decoded document go (a scalar: 0), counted up to ``limit + 1``."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def loads(document: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, refusing (``ValueError``) a document nested deeper than ``max_depth``."""
    try:
        value = json.loads(document)
    except RecursionError:
        raise ValueError(f"nested deeper than {max_depth} levels") from None
    if nesting_depth(value, limit=max_depth) > max_depth:
        raise ValueError(f"nested deeper than {max_depth} levels")
    return value
