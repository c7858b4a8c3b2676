"""``smishguard training ...``: assign modules, and who is current, due soon or overdue."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    return None
