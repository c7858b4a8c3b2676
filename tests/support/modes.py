"""The two modes the suite runs in (scripts/test runs both): ``sqlite``, the embedded default, and ``postgres``,
production mode on PostgreSQL + Redis (throw-away servers that scripts/services starts).

``SMISHGUARD_TEST_MODE`` names the mode (``sqlite`` when unset); in ``postgres`` mode ``SMISHGUARD_DATABASE_URL``
(the restricted role the services connect as), ``SMISHGUARD_MIGRATE_DATABASE_URL`` (the database owner, which
creates and migrates every database of the run) and ``SMISHGUARD_REDIS_URL`` point at those servers.  A mode
whose services are missing fails the run with one clear message (tests/conftest.py): nothing is skipped.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

MODES = ("sqlite", "postgres")
MODE = os.environ.get("SMISHGUARD_TEST_MODE", "sqlite")
POSTGRES = MODE == "postgres"


def problem() -> str | None:
    """Why this run cannot go ahead in its mode (a missing or unreachable service), or None."""
    if MODE not in MODES:
        return f"SMISHGUARD_TEST_MODE={MODE!r}: expected one of {', '.join(MODES)}"
    database = os.environ.get("SMISHGUARD_DATABASE_URL", "")
    redis = os.environ.get("SMISHGUARD_REDIS_URL", "")
    if not POSTGRES:
        if database and not database.startswith("sqlite:"):
            return (
                f"SMISHGUARD_TEST_MODE=sqlite but SMISHGUARD_DATABASE_URL is {database!r}: unset it, or set "
                "SMISHGUARD_TEST_MODE=postgres"
            )
        return None
    if not database.startswith(("postgresql://", "postgres://")):
        return (
            "SMISHGUARD_TEST_MODE=postgres needs SMISHGUARD_DATABASE_URL=postgresql://... (scripts/test starts a "
            "throw-away server with scripts/services)"
        )
    owner = os.environ.get("SMISHGUARD_MIGRATE_DATABASE_URL", "")
    if not owner.startswith(("postgresql://", "postgres://")):
        return (
            "SMISHGUARD_TEST_MODE=postgres needs SMISHGUARD_MIGRATE_DATABASE_URL=postgresql://... (the database "
            "owner; scripts/services makes it)"
        )
    if urlsplit(owner).username == urlsplit(database).username:
        return (
            "SMISHGUARD_MIGRATE_DATABASE_URL and SMISHGUARD_DATABASE_URL name the same role: the tests connect as "
            "a restricted role, not as the owner"
        )
    if not redis.startswith("redis://"):
        return "SMISHGUARD_TEST_MODE=postgres needs SMISHGUARD_REDIS_URL=redis://... (scripts/services starts one)"
    import psycopg

    try:
        psycopg.connect(database, connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at SMISHGUARD_DATABASE_URL does not answer: {exc}"
    if not redis_answers(redis):
        return f"Redis at SMISHGUARD_REDIS_URL ({redis}) does not answer PING"
    return None


def own_redis_prefix_per_worker() -> None:
    """Under pytest-xdist in postgres mode, each worker's in-process rate-limit counters get a Redis key prefix
    of their own, so that one worker's tests (which clear their prefix before each test) never see or clear the
    other's.  Django is set up before any conftest is read (pytest-django), but the cache is made on first use:
    the prefix is set in the settings it will be made from.  (Servers the tests start have a prefix of their own
    already: servers.clean_env.)"""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not POSTGRES or not worker:
        return
    from django.conf import settings
    from django.core.cache import caches

    assert not hasattr(caches._connections, "ratelimit"), "the rate-limit cache was made before its prefix was set"
    settings.CACHES["ratelimit"]["KEY_PREFIX"] = f"smishguard-{worker}"


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _database_name(data_dir: Path) -> str:
    return "sg_" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:24]


def copy_database(source_dir: Path, target_dir: Path) -> None:
    """In postgres mode, make ``target_dir``'s database a copy of ``source_dir``'s (a migrated template, copied
    for each test as the SQLite file is copied in sqlite mode); nothing in sqlite mode."""
    if not POSTGRES:
        return
    import psycopg

    with psycopg.connect(owner_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{_database_name(target_dir)}" TEMPLATE "{_database_name(source_dir)}"')


def owner_url(database: str | None = None) -> str:
    """In postgres mode, the owner's URL (SMISHGUARD_MIGRATE_DATABASE_URL), on ``database`` if given."""
    return _on(os.environ["SMISHGUARD_MIGRATE_DATABASE_URL"], database)


def _on(url: str, database: str | None) -> str:
    return url if database is None else urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def server_database_url(data_dir: Path, *, owner: bool = False) -> str | None:
    """In postgres mode, the URL of a database of its own for a smishguard process working on ``data_dir`` (made
    by the owner on the throw-away server the first time; the same one for every process of that folder), as the
    restricted role, or as its owner with ``owner``; None in sqlite mode, where the process keeps its SQLite file
    in ``data_dir``."""
    if not POSTGRES:
        return None
    import psycopg

    name = _database_name(data_dir)
    with psycopg.connect(owner_url(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return owner_url(name) if owner else _on(os.environ["SMISHGUARD_DATABASE_URL"], name)
