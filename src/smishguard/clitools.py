"""What every app's ``cli.py`` needs to build its subcommands: the one-line error, starting Django once, JSON
output and a progress line.

It lives below the apps (like ``smishguard.db``) so that an app's commands can use it without importing
``smishguard.cli``, the console script that imports every app's commands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any


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


def iso_time(value: str, option: str) -> datetime:
    """An ISO 8601 date or time given to ``option``, as an aware datetime (UTC when it names no zone); a
    CommandError saying so when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"{option}: {value!r} is not an ISO 8601 date or time (e.g. 2026-03-02 or 2026-03-02T09:00:00Z)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


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


def django_ready() -> bool:
    """Whether a command started Django (the CLI then explains database errors in one line)."""
    return _django_ready
