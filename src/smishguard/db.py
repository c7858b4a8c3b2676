"""Database helpers below every app: the SQLite write gate that the hot paths' short write transactions share,
the pieces of statements written out on those paths, built from the models' ``_meta``, and the driver's own
cursor and transactions to run them with (:func:`fetch_one`, :func:`execute`, :func:`hot_transaction`)."""

from __future__ import annotations

import fcntl
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction
from django.db.models import Field, Model
from django.utils.dateparse import parse_datetime


class WriteGate:
    """Lets one short write transaction at a time into SQLite, across threads and worker processes: the sign-in
    path's and the rate-limit counters'.

    SQLite has one writer at a time; a writer that finds the lock taken is put to sleep by SQLite's busy
    handler for 1, 2, 5, 10, ... ms whether or not the lock is freed sooner, so short transactions from several
    gunicorn workers turn into long waits.  A blocking lock (a thread lock, then ``flock`` on a file beside the
    database) queues them instead and wakes the next one the moment the last commits.  Only an optimisation:
    SQLite's own locking still decides (other writers, like the CLI, do not take this lock).  Not taken inside
    a transaction that is already open (it may hold SQLite's lock: waiting here could only stall both).
    """

    def __init__(self) -> None:
        self._thread_lock = threading.Lock()
        self._files: dict[tuple[int, str], int] = {}

    def _file(self) -> int | None:
        db = connections[DEFAULT_DB_ALIAS]  # once: each attribute of the ``connection`` proxy is a lookup of its own
        if db.vendor != "sqlite" or db.in_atomic_block:
            return None
        key = (os.getpid(), str(db.settings_dict["NAME"]))
        fd = self._files.get(key)
        if fd is None:
            if db.is_in_memory_db():
                return None
            fd = self._files[key] = os.open(f"{key[1]}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
        return fd

    @contextmanager
    def __call__(self) -> Iterator[None]:
        fd = self._file()
        if fd is None:
            yield
            return
        with self._thread_lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


one_writer = WriteGate()


# --------------------------------------------------------------------------------------------------------
# The driver's own cursor, for the statements of a hot path
# --------------------------------------------------------------------------------------------------------
# Django's cursor wrapper (the debug hooks, the execute wrappers, SQLite's placeholder translation by regular
# expression on every call, the async-safety check) costs about 30 µs a statement here, five times what SQLite
# takes to answer an indexed look-up; ``transaction.atomic()`` about 60 µs.  The gateway's check runs several
# of each on every request to a customer-data route, the sign-in nine a ceremony (on PostgreSQL, prepared, they
# took the database's CPU per sign-in from 2.9-3.2 ms to 1.7-2.0 ms: planning each statement anew had cost more
# than running it), and every request with a session cookie reads its session.  These run a statement written
# out once (``%s`` placeholders, translated once per database) on the driver's own cursor of the same connection,
# with Django's own error translation (``wrap_database_errors``: a driver error is raised as Django's
# ``DatabaseError`` family, and one that may have broken the connection marks it for closing at the end of the
# request, as any statement through the ORM would).

_NATIVE: dict[tuple[str, str], str] = {}


def native(statement: str, vendor: str) -> str:
    """``statement`` (``%s`` placeholders, no literal ``%``) in the driver's own style: SQLite's ``?``."""
    found = _NATIVE.get((vendor, statement))
    if found is None:
        found = _NATIVE[(vendor, statement)] = statement.replace("%s", "?") if vendor == "sqlite" else statement
    return found


def _driver_connection():
    db = connections[DEFAULT_DB_ALIAS]
    if db.connection is None:
        db.ensure_connection()
    return db


def _run(statement: str, params: Sequence[Any], *, fetch: str | None) -> Any:
    db = _driver_connection()
    if db.queries_logged:  # (DEBUG, or a test's CaptureQueriesContext): in connection.queries like the ORM's
        start = time.monotonic()
        try:
            return _run_on(db, statement, params, fetch=fetch)
        finally:
            db.queries_log.append(
                {"sql": f"{statement} -- {list(params)!r}", "time": f"{time.monotonic() - start:.3f}"}
            )
    return _run_on(db, statement, params, fetch=fetch)


# psycopg's count of runs before it prepares a statement by itself: never, in effect.  Only the statements run
# here with ``prepare=True`` are prepared (Django's own cursors bind on the client and cannot prepare).
PREPARE_NEVER_BY_ITSELF = 2**31 - 1


def _driver_cursor(db):
    """SQLite: the driver's cursor.  PostgreSQL: one that sends the parameters apart from the statement
    (server-side binding), on which :func:`_run_on` prepares each statement: PostgreSQL plans it once per
    connection, not on every run (the session's look-up took 750 µs a run unprepared, 320 µs prepared, on
    this machine).  Django turns preparing off on its connections so that a pooler in transaction mode keeps
    working: behind one, it must support prepared statements (PgBouncer 1.21+ with max_prepared_statements;
    docs/deploy.md)."""
    if db.vendor == "postgresql":
        from django.db.backends.postgresql.base import ServerBindingCursor

        if db.connection.prepare_threshold is None:  # (Django turns preparing off; prepare=True needs it on)
            db.connection.prepare_threshold = PREPARE_NEVER_BY_ITSELF
        return ServerBindingCursor(db.connection)
    return db.connection.cursor()


def _run_on(db, statement: str, params: Sequence[Any], *, fetch: str | None) -> Any:
    """Run ``statement``; return its first row (``fetch="one"``), all its rows (``"all"``) or its row count."""
    with db.wrap_database_errors:
        cursor = _driver_cursor(db)
        try:
            if db.vendor == "postgresql":
                cursor.execute(statement, params, prepare=True)
            else:
                cursor.execute(native(statement, db.vendor), params)
            if fetch == "one":
                return cursor.fetchone()
            if fetch == "all":
                return cursor.fetchall()
            return cursor.rowcount
        finally:
            cursor.close()


def fetch_one(statement: str, params: Sequence[Any]) -> tuple | None:
    """The first row of ``statement`` run on the driver's cursor (values as the driver gives them)."""
    return _run(statement, params, fetch="one")


def fetch_all(statement: str, params: Sequence[Any]) -> list[tuple]:
    """Every row of ``statement`` run on the driver's cursor (values as the driver gives them)."""
    return _run(statement, params, fetch="all")


def execute(statement: str, params: Sequence[Any]) -> int:
    """Run ``statement`` on the driver's cursor; the number of rows it changed."""
    return _run(statement, params, fetch=None)


@contextmanager
def hot_transaction() -> Iterator[None]:
    """One short write transaction for :func:`fetch_one` and :func:`execute`: committed when the block ends,
    rolled back if it raises.  SQLite: through the write gate, ``BEGIN IMMEDIATE`` (the write lock taken at the
    start, as ``settings``' ``transaction_mode`` does for ``atomic()``); PostgreSQL: ``BEGIN``.  Inside a
    transaction Django already has open (``atomic()``: a test's, a caller's), a savepoint of it instead.

    Only for statements run with this module's functions: Django does not know that this transaction is open,
    so nothing in the block may use the ORM to write, nor ``atomic()``, nor ``on_commit``."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with one_writer():
        db = _driver_connection()
        raw = db.connection
        with db.wrap_database_errors:
            raw.execute("BEGIN IMMEDIATE" if db.vendor == "sqlite" else "BEGIN")
        try:
            yield
            with db.wrap_database_errors:
                raw.execute("COMMIT")
        except BaseException:
            try:
                with db.wrap_database_errors:
                    raw.execute("ROLLBACK")
            except DatabaseError:
                pass  # the connection is gone (marked unusable): the transaction went with it; the first error counts
            raise


# --------------------------------------------------------------------------------------------------------
# Statements built from the models' _meta
# --------------------------------------------------------------------------------------------------------


class Columns:
    """A model's table under an alias, for statements written out on a hot path: ``ch = Columns(Challenge,
    "ch")``; ``ch.table`` is ``"passkeys_challenge ch"`` and ``ch["used_at"]`` is ``"ch.used_at"``.

    Names come from ``_meta`` (``db_table``, each field's ``column``), so a statement follows the models, a
    misspelt field fails at import, and the import graph shows which app's tables a statement reads.
    """

    __slots__ = ("_alias", "_meta", "table")

    def __init__(self, model: type[Model], alias: str) -> None:
        self._meta = model._meta
        self._alias = alias
        self.table = f"{self._meta.db_table} {alias}"

    def __getitem__(self, field: str) -> str:
        return f"{self._alias}.{self._meta.get_field(field).column}"


def table(model: type[Model]) -> str:
    return model._meta.db_table


def column(model: type[Model], field: str) -> str:
    return model._meta.get_field(field).column


# Field types whose Python value is what the database driver is given (the ORM's get_db_prep_save returns it
# unchanged for str/int/bool/bytes/None): passed as they are, the rest prepared by their field.
_PASSED_AS_IS = (
    models.CharField,
    models.TextField,
    models.IntegerField,  # and BigIntegerField, PositiveIntegerField, ...
    models.BooleanField,
    models.BinaryField,
    models.ForeignKey,
)


def adapt_time(value: Any) -> Any:
    """A DateTimeField's value for the driver, as ``connection.ops.adapt_datetimefield_value`` gives it (this
    thread's connection), without its settings look-ups for the usual case: an aware datetime for SQLite, which
    Django stores as naive text in UTC (the connection's time zone with USE_TZ and no database TIME_ZONE)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "sqlite" or not isinstance(value, datetime) or value.tzinfo is None or not _sqlite_in_utc(db):
        return db.ops.adapt_datetimefield_value(value)
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _sqlite_in_utc(db) -> bool:
    return bool(settings.USE_TZ) and db.timezone_name == "UTC"


def _sqlite_time(value: Any, _expression: Any, _connection: Any) -> datetime | None:
    """A DateTimeField's value as SQLite's cursor gives it (a naive datetime in UTC, or its text), aware: what
    Django's converters give for a database in UTC, without their settings look-ups (a converter's signature)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _preparer(field: Field) -> Callable[[Any], Any] | None:
    """How a value of ``field`` goes to the database: None for as it is; else a function of the value."""
    if isinstance(field, models.DateTimeField):
        return adapt_time
    if isinstance(field, _PASSED_AS_IS):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


class FastInsert:
    """One INSERT of a new row of ``model``, written out once from ``_meta``: ``INSERT INTO <db_table>
    (<column>, ...) VALUES (%s, ...) RETURNING <pk column>``.

    What ``instance.save()`` does for a new row of a model without signal receivers or ``save()`` override,
    without compiling the statement on every call (on the sign-in path the ORM's compiler cost more than the
    insert).  Values are prepared as the ORM prepares them (datetimes adapted, IPs and JSON through their
    field); ``fields`` are field names (a ForeignKey by its name; its ``_id`` column is written).
    """

    def __init__(self, model: type[Model], fields: Sequence[str]) -> None:
        meta = model._meta
        self.model = model
        self.fields: tuple[Field, ...] = tuple(meta.get_field(name) for name in fields)
        self._attnames = tuple(f.attname for f in self.fields)
        self._prepare = tuple(_preparer(f) for f in self.fields)
        columns = ", ".join(f.column for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {meta.db_table} ({columns}) VALUES ({marks}) RETURNING {meta.pk.column}"
        self.sql_no_return = f"INSERT INTO {meta.db_table} ({columns}) VALUES ({marks})"

    def params(self, values: Sequence[Any]) -> list[Any]:
        return [v if prep is None else prep(v) for v, prep in zip(values, self._prepare, strict=True)]

    def insert(self, values: Sequence[Any]) -> Any:
        """Insert one row from Python values in ``fields`` order; returns the new primary key."""
        return fetch_one(self.sql, self.params(values))[0]

    def write(self, values: Sequence[Any]) -> None:
        """:meth:`insert` on the driver's cursor (:func:`execute`), returning nothing: for a hot path's row that
        nothing reads back."""
        execute(self.sql_no_return, self.params(values))

    def save(self, instance: Model) -> None:
        """Insert ``instance`` (a new, unsaved row) and mark it saved, as ``save()`` would."""
        instance.pk = self.insert([getattr(instance, name) for name in self._attnames])
        instance._state.adding = False
        instance._state.db = connection.alias


@functools.cache
def fast_insert(model: type[Model], fields: tuple[str, ...]) -> FastInsert:
    """The :class:`FastInsert` of ``model`` for ``fields``, built once per process."""
    return FastInsert(model, fields)


class ValuesReader:
    """Plain values from a statement written out once: ``columns``, the select list of ``fields`` (each a model, an
    alias and a field name), and :meth:`values`, which converts those values of a row as the ORM would (each
    through the converters the ORM applies for this database: aware datetimes on SQLite, booleans, IP addresses,
    JSON) without building a model instance.  For a hot-path look-up that needs a few values, not a model."""

    def __init__(self, fields: Sequence[tuple[type[Model], str, str]]) -> None:
        self.fields: tuple[tuple[type[Model], Field], ...] = tuple(
            (model, model._meta.get_field(name)) for model, _alias, name in fields
        )
        self.columns = ", ".join(f"{alias}.{model._meta.get_field(name).column}" for model, alias, name in fields)
        self.width = len(self.fields)
        self._converters: dict[str, tuple] = {}

    def _for_connection(self) -> tuple:
        vendor = connection.vendor
        found = self._converters.get(vendor)
        if found is None:
            found = []
            fast_times = vendor == "sqlite" and _sqlite_in_utc(connections[DEFAULT_DB_ALIAS])
            for index, (model, field) in enumerate(self.fields):
                col = field.get_col(model._meta.db_table)
                functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if fast_times and isinstance(field, models.DateTimeField):
                    functions = [_sqlite_time]
                if functions:
                    found.append((index, tuple(functions), col))
            found = self._converters[vendor] = tuple(found)
        return found

    def values(self, row: Sequence[Any]) -> list[Any]:
        """The first ``width`` values of a row (as they came from the cursor), converted."""
        values = list(row[: self.width])
        for index, functions, col in self._for_connection():
            value = values[index]
            for function in functions:
                value = function(value, col, connection)
            values[index] = value
        return values


class RowReader(ValuesReader):
    """Model instances from a statement written out once: the select list of every concrete field of ``model``
    under ``alias`` (``columns``), and :meth:`build`, which turns those values of a row into an instance as the
    ORM would (the values converted as :class:`ValuesReader` does, then ``Model.from_db``).  For a hot-path
    look-up that the ORM's query compiler would cost more than the database does; the statement's other columns
    may follow these in the row."""

    def __init__(self, model: type[Model], alias: str) -> None:
        super().__init__([(model, alias, f.name) for f in model._meta.concrete_fields])
        self.model = model
        self._names = [f.attname for f in model._meta.concrete_fields]

    def build(self, values: Sequence[Any]) -> Model:
        """An instance from the first ``width`` values of a row (as they came from the cursor)."""
        return self.model.from_db(connection.alias, self._names, self.values(values))


@functools.cache
def row_reader(model: type[Model], alias: str) -> RowReader:
    """The :class:`RowReader` of ``model`` under ``alias``, built once per process."""
    return RowReader(model, alias)
