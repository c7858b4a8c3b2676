"""The one console script, ``smishguard``, with subcommands.

Each app contributes its subcommands from its own ``cli.py`` through ``register(subparsers)``; this module
only builds the parser, starts Django for the commands that need the database, and turns our errors into one
clear line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from types import ModuleType

from smishguard.clitools import CommandError, django_ready
from smishguard.errors import SmishguardError


def command_modules(first_word: str | None = None) -> tuple[ModuleType, ...]:
    """The modules whose ``register(subparsers)`` adds subcommands, in the order --help lists them.

    For a command whose module is known before parsing, that module alone: the other modules' imports and
    sub-parsers cost about 40 ms of start-up, a tenth of a `domains check` of 100,000 names.  Any other first
    word, or none (``--help``, ``--version``), builds the whole parser.
    """
    from smishguard.detection import cli as detection_cli

    if first_word in {"scan", "domains"}:
        return (detection_cli,)
    from smishguard import core_cli
    from smishguard.accounts import cli as accounts_cli
    from smishguard.audit import cli as audit_cli
    from smishguard.gateway import cli as gateway_cli
    from smishguard.gateway import incident_cli
    from smishguard.messaging import cli as messaging_cli
    from smishguard.passkeys import cli as passkeys_cli
    from smishguard.siem import cli as siem_cli
    from smishguard.training import cli as training_cli
    from smishguard.training import simulation_cli
    from smishguard.watch import cli as watch_cli

    return (
        core_cli,
        accounts_cli,
        passkeys_cli,
        audit_cli,
        siem_cli,
        detection_cli,
        watch_cli,
        messaging_cli,
        gateway_cli,
        incident_cli,
        training_cli,
        simulation_cli,
    )


def build_parser(modules: Iterable[ModuleType] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smishguard",
        description="Defence against SMS-phishing aimed at a company's staff.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in command_modules() if modules is None else modules:
        module.register(sub)
    return parser


def _version() -> str:
    from smishguard import __version__

    return f"smishguard {__version__}"


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_modules(words[0] if words else None))
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()
    except CommandError as exc:
        print(f"smishguard: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SmishguardError as exc:  # a service's refusal, from any command: the one conversion for the CLI
        print(f"smishguard: error: {exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of our output went away (``| head``): not an error of ours.  Point stdout at /dev/null so
        # that the interpreter's own flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("smishguard: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = _known_failure(exc)
        if message is None:
            raise
        print(f"smishguard: error: {message}", file=sys.stderr)
        return 2
    return int(code or 0)


def _known_failure(exc: Exception) -> str | None:
    """One readable line for failures a newcomer meets: no database yet, a broken config file."""
    from smishguard.config import ConfigError

    if isinstance(exc, ConfigError):
        return str(exc)
    if django_ready():
        from django.db.utils import OperationalError, ProgrammingError

        if isinstance(exc, OperationalError | ProgrammingError):
            text = str(exc)
            if "no such table" in text or "does not exist" in text:
                return "the database is not set up here: run `smishguard migrate` (or `smishguard demo`) first"
            return f"database error: {text.splitlines()[0] if text else exc.__class__.__name__}"
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
