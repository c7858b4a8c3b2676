"""A command module for tests of ``cli.main``: its one command raises one of our own errors, as a service would."""

from __future__ import annotations

import argparse

from smishguard.errors import Conflict


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("raise-conflict", help="fail as a service refusing the request would")
    p.set_defaults(func=cmd_raise_conflict)


def cmd_raise_conflict(args: argparse.Namespace) -> int:
    raise Conflict("that employee already exists")
