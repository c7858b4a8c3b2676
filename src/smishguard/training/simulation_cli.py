"""``smishguard simulations ...``: create, launch, pause, cancel, links, results."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    return None
