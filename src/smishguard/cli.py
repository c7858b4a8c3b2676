"""The one console script, ``smishguard``, with subcommands.

Each app contributes its subcommands from its own ``cli.py`` through ``register(subparsers)``; this module
only builds the parser, starts Django for the commands that need the database, and turns our errors into one
clear line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from smishguard.errors import SmishguardError

# Modules whose ``register(subparsers)`` adds subcommands, in the order --help lists them.
COMMAND_MODULES = (
    "smishguard.core_cli",
    "smishguard.accounts.cli",
    "smishguard.passkeys.cli",
    "smishguard.audit.cli",
    "smishguard.detection.cli",
    "smishguard.watch.cli",
    "smishguard.messaging.cli",
)


# Commands whose module is known before parsing: a run of one of these imports that module alone (the other
# modules' imports and sub-parsers cost about 40 ms of start-up, a tenth of a `domains check` of 100,000
# names). Any other first word, or none (``--help``, ``--version``), builds the whole parser.
_COMMAND_MODULE = {"scan": "smishguard.detection.cli", "domains": "smishguard.detection.cli"}


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2 (or ``exit_code``)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


_django_ready = False


def setup_django(*, create: bool = False, recorded_origin: bool = True) -> None:
    """Start Django once; commands that touch the database call this first.

    Only ``create`` commands (``migrate``, ``demo``) may make the data folder, the secret key and the SQLite
    database; any other finds no SQLite database here and stops with one line, before anything is written.
    ``recorded_origin``: without SMISHGUARD_ORIGIN, the links printed use the origin the server was started
    with (recorded in the data folder by ``demo`` and ``serve``); the server commands themselves pass False.
    """
    global _django_ready  # noqa: PLW0603 - one-time process initialisation
    if _django_ready:
        return
    from django.apps import apps

    if apps.ready:  # already set up by whoever runs us (a test run)
        _django_ready = True
        return
    from smishguard import config

    if not create:
        config.set_may_create(False)
        config.load()  # a broken setting or config file is said first, as Django's start would
        try:
            config.secret_key()  # so is a bad or unreadable key
            key_missing = False
        except config.ConfigError as exc:
            if not str(exc).startswith(config.NOT_SET_UP):
                raise
            key_missing = True
        if not _sqlite_database_exists() and key_missing:
            raise CommandError(_no_secret_key(config))
        if key_missing:  # a database restored without its key file: one is made beside it, as before
            config.set_may_create(True)
    if recorded_origin and not config.env("ORIGIN"):
        origin = config.recorded_origin()
        if origin is not None:
            os.environ["SMISHGUARD_ORIGIN"] = origin
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smishguard.settings")
    import django

    django.setup()
    _django_ready = True


def _sqlite_database_exists() -> bool:
    """Whether the SQLite database is there (before Django starts, so before anything is created); CommandError
    when it is SQLite and missing; False for another database (PostgreSQL: Django finds out)."""
    import dj_database_url

    from smishguard import config

    url = config.database_url()
    if not url.startswith("sqlite:"):
        return False
    name = str(dj_database_url.parse(url)["NAME"])
    if name in {"", ":memory:"} or name.startswith("file:"):
        return False
    if not os.path.exists(name):
        raise CommandError(f"{config.NOT_SET_UP} (no database at {name})")
    return True


def _no_secret_key(config) -> str:
    path = config.data_dir() / "secret_key"
    return f"no secret key at {path}: set SMISHGUARD_SECRET_KEY, or run `smishguard migrate` in this folder first"


def needs_django(
    func: Callable[[argparse.Namespace], int | None],
) -> Callable[[argparse.Namespace], int | None]:
    """Mark a command handler as needing Django (and so the database) before it runs."""

    def wrapper(args: argparse.Namespace) -> int | None:
        setup_django()
        return func(args)

    wrapper.__doc__ = func.__doc__
    wrapper.__name__ = func.__name__
    return wrapper


def print_json(obj: Any, *, stream: Any = None) -> None:
    """One JSON document (or JSON line) on stdout, UTF-8, no ASCII escaping."""
    stream = stream or sys.stdout
    stream.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def progress(items: Iterable[Any], *, total: int | None = None, label: str = "") -> Iterable[Any]:
    """Yield ``items``, drawing a progress line on stderr when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield from items
        return
    done = 0
    for item in items:
        yield item
        done += 1
        if done % 100 == 0:
            suffix = f"/{total}" if total else ""
            sys.stderr.write(f"\r{label} {done}{suffix}")
            sys.stderr.flush()
    sys.stderr.write(f"\r{label} {done} done\n")


def build_parser(modules: Iterable[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smishguard",
        description="Defence against SMS-phishing aimed at a company's staff.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an app whose commands are not built yet
                continue
            raise
        module.register(sub)
    return parser


def _version() -> str:
    from smishguard import __version__

    return f"smishguard {__version__}"


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    known = _COMMAND_MODULE.get(words[0]) if words else None
    parser = build_parser((known,) if known else COMMAND_MODULES)
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
    if _django_ready:
        from django.db.utils import OperationalError, ProgrammingError

        if isinstance(exc, OperationalError | ProgrammingError):
            text = str(exc)
            if "no such table" in text or "does not exist" in text:
                return "the database is not set up here: run `smishguard migrate` (or `smishguard demo`) first"
            return f"database error: {text.splitlines()[0] if text else exc.__class__.__name__}"
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
