"""Database helpers below every app: the SQLite write gate that the hot paths' short write transactions share,
and the pieces of statements written out on those paths, built from the models' ``_meta``."""

from __future__ import annotations

import fcntl
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Field, Model


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


def _adapt_datetime(value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value)  # this thread's connection, looked up at each call


def _preparer(field: Field) -> Callable[[Any], Any] | None:
    """How a value of ``field`` goes to the database: None for as it is; else a function of the value."""
    if isinstance(field, models.DateTimeField):
        return _adapt_datetime
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

    def params(self, values: Sequence[Any]) -> list[Any]:
        return [v if prep is None else prep(v) for v, prep in zip(values, self._prepare, strict=True)]

    def insert(self, values: Sequence[Any]) -> Any:
        """Insert one row from Python values in ``fields`` order; returns the new primary key."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params(values))
            return cursor.fetchone()[0]

    def save(self, instance: Model) -> None:
        """Insert ``instance`` (a new, unsaved row) and mark it saved, as ``save()`` would."""
        instance.pk = self.insert([getattr(instance, name) for name in self._attnames])
        instance._state.adding = False
        instance._state.db = connection.alias


@functools.cache
def fast_insert(model: type[Model], fields: tuple[str, ...]) -> FastInsert:
    """The :class:`FastInsert` of ``model`` for ``fields``, built once per process."""
    return FastInsert(model, fields)


class RowReader:
    """Model instances from a statement written out once: the select list of every concrete field of ``model``
    under ``alias`` (``columns``), and :meth:`build`, which turns those values of a row into an instance as the
    ORM would (each value through the converters the ORM applies for this database — aware datetimes on
    SQLite, IP addresses, JSON — then ``Model.from_db``).  For a hot-path look-up that the ORM's query compiler
    would cost more than the database does; the statement's other columns may follow these in the row."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.fields: tuple[Field, ...] = tuple(model._meta.concrete_fields)
        self._names = [f.attname for f in self.fields]
        self.columns = ", ".join(f"{alias}.{f.column}" for f in self.fields)
        self.width = len(self.fields)
        self._converters: dict[str, tuple] = {}

    def _for_connection(self) -> tuple:
        vendor = connection.vendor
        found = self._converters.get(vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                col = field.get_col(self.model._meta.db_table)
                functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if functions:
                    found.append((index, tuple(functions), col))
            found = self._converters[vendor] = tuple(found)
        return found

    def build(self, values: Sequence[Any]) -> Model:
        """An instance from the first ``width`` values of a row (as they came from the cursor)."""
        row = list(values[: self.width])
        for index, functions, col in self._for_connection():
            value = row[index]
            for function in functions:
                value = function(value, col, connection)
            row[index] = value
        return self.model.from_db(connection.alias, self._names, row)


@functools.cache
def row_reader(model: type[Model], alias: str) -> RowReader:
    """The :class:`RowReader` of ``model`` under ``alias``, built once per process."""
    return RowReader(model, alias)
