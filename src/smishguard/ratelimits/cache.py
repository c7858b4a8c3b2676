"""``CounterCache``: a Django cache backend of integer counters in the database, each call one SQL statement.

What django-ratelimit needs of a cache is an ``add`` that creates a counter only if there is no live one, and an
``incr`` that adds to a live one and says the new count, both atomic across every worker process.  Here each is a
single statement (an upsert whose update applies only to a lapsed row; an UPDATE ... RETURNING), which SQLite and
PostgreSQL run atomically: two processes hammering one key are counted exactly (tests/ratelimits).  Values are
integers only.  Lapsed rows are deleted now and then (every ``CULL_EVERY`` adds of a process).
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connections

from smishguard.db import one_writer

CULL_EVERY = 1000
# The statements name the table of smishguard.ratelimits.models.Counter (a test checks they agree).
_FOREVER = float(2**53)

# Creates the counter, or starts a lapsed one again; a live one is left alone and no row is returned.
_ADD = (
    "INSERT INTO ratelimits_counter (cache_key, value, expires_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
    "WHERE ratelimits_counter.expires_at <= %s RETURNING value"
)
# Counts one hit on each of several counters (an address's and an account's) in one statement: a counter that
# is missing or lapsed starts again at 1 with its new expiry, a live one goes up by 1.
_HIT_ROW = "(%s, 1, %s)"
_HIT_TAIL = (
    " ON CONFLICT (cache_key) DO UPDATE SET "
    "value = CASE WHEN ratelimits_counter.expires_at <= %s THEN 1 ELSE ratelimits_counter.value + 1 END, "
    "expires_at = CASE WHEN ratelimits_counter.expires_at <= %s THEN excluded.expires_at "
    "ELSE ratelimits_counter.expires_at END RETURNING cache_key, value"
)
_INCR = "UPDATE ratelimits_counter SET value = value + %s WHERE cache_key = %s AND expires_at > %s RETURNING value"
_SET = (
    "INSERT INTO ratelimits_counter (cache_key, value, expires_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
)
_GET = "SELECT value FROM ratelimits_counter WHERE cache_key = %s AND expires_at > %s"
_TOUCH = "UPDATE ratelimits_counter SET expires_at = %s WHERE cache_key = %s AND expires_at > %s"
_DELETE = "DELETE FROM ratelimits_counter WHERE cache_key = %s"
_CULL = "DELETE FROM ratelimits_counter WHERE expires_at <= %s"
_CLEAR = "DELETE FROM ratelimits_counter"


@functools.cache
def _hit_sql(keys: int) -> str:
    sql = "INSERT INTO ratelimits_counter (cache_key, value, expires_at) VALUES "
    return sql + ", ".join([_HIT_ROW] * keys) + _HIT_TAIL


@functools.cache
def _qmark(sql: str) -> str:
    return sql.replace("%s", "?")


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"CounterCache keeps integers only, not {type(value).__name__}")
    return value


class CounterCache(BaseCache):
    """``CACHES = {"ratelimit": {"BACKEND": "smishguard.ratelimits.cache.CounterCache"}}`` (OPTIONS: DATABASE)."""

    def __init__(self, _location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._alias = (params.get("OPTIONS") or {}).get("DATABASE", "default")
        self._adds = 0
        self._lock = threading.Lock()

    def _run(self, sql: str, params: list[Any]) -> tuple[int, Any]:
        with connections[self._alias].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone() if "RETURNING" in sql or sql.startswith("SELECT") else None
            return cursor.rowcount, row

    def _expiry(self, timeout: float | object | None) -> float:
        at = self.get_backend_timeout(timeout)
        return _FOREVER if at is None else float(at)

    def add(self, key: str, value: Any, timeout: float | object | None = DEFAULT_TIMEOUT, version: int | None = None):
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        _, row = self._run(_ADD, [key, _integer(value), self._expiry(timeout), now])
        self._cull_now_and_then(now)
        return row is not None

    def _cull_now_and_then(self, now: float) -> None:
        with self._lock:
            self._adds += 1
            cull = self._adds % CULL_EVERY == 0
        if cull:
            self._run(_CULL, [now])

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        _, row = self._run(_INCR, [_integer(delta), key, time.time()])
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return int(row[0])

    def hit_many(self, timeouts: dict[str, float], version: int | None = None) -> dict[str, int]:
        """Count one hit on each key (created or started again with its timeout if missing or lapsed), in one
        statement: what ``add`` then ``incr`` do for each, for the sign-in path's address and account at once.
        Returns each key's new count.  The keys are django-ratelimit's (a prefix and a SHA-256): no need to
        check them for memcached as ``make_and_validate_key`` does, on every request."""
        keys = {self.make_key(k, version=version): k for k in timeouts}
        now = time.time()
        params: list[Any] = []
        for made, key in keys.items():
            params += [made, now + timeouts[key]]
        params += [now, now]
        with one_writer():  # queued behind the sign-in writes
            rows = self._fetchall(_hit_sql(len(keys)), params)
        self._cull_now_and_then(now)
        return {keys[made]: int(value) for made, value in rows}

    def _fetchall(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """One statement of the sign-in path.  On SQLite straight on the DB-API connection, with the statement
        in its qmark form made once: Django's cursor wrapper cost more than SQLite's own work here (about 150 us
        against 60 us a call, measured on this machine); the statement is still logged where Django would
        (``connection.queries`` under DEBUG or CaptureQueriesContext).  Elsewhere through Django's cursor."""
        connection = connections[self._alias]
        if connection.vendor != "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        connection.ensure_connection()
        started = time.monotonic() if connection.queries_logged else None
        with connection.wrap_database_errors:
            rows = connection.connection.execute(_qmark(sql), params).fetchall()
        if started is not None:
            took = f"{time.monotonic() - started:.3f}"
            connection.queries_log.append({"sql": sql % tuple(map(repr, params)), "time": took})
        return rows

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        _, row = self._run(_GET, [key, time.time()])
        return default if row is None else int(row[0])

    def set(self, key: str, value: Any, timeout: float | object | None = DEFAULT_TIMEOUT, version: int | None = None):
        key = self.make_and_validate_key(key, version=version)
        self._run(_SET, [key, _integer(value), self._expiry(timeout)])

    def touch(self, key: str, timeout: float | object | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        count, _ = self._run(_TOUCH, [self._expiry(timeout), key, time.time()])
        return count == 1

    def delete(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        count, _ = self._run(_DELETE, [key])
        return count == 1

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self.get(key, version=version) is not None

    def clear(self) -> None:
        self._run(_CLEAR, [])
