"""The rate-limit counters in Redis (production mode), falling back to the database counters while Redis is away.

``SMISHGUARD_REDIS_URL`` set: ``CACHES["ratelimit"]`` is :class:`FailoverCounterCache` (settings.py).  It counts in
Redis through :class:`RedisCounterCache`, Django's own ``RedisCache`` (redis-py) with each counting call one
atomic Redis operation: ``add`` is Django's ``SET NX PX``; ``incr`` and ``hit_many`` are one Lua script each
(Redis runs a script whole, with nothing in between), so two processes on two hosts hammering one key are
counted exactly (tests/ratelimits) and a counter never loses its expiry (Django's own ``incr`` is an EXISTS and
then an INCRBY: a key lapsing between the two would come back with no expiry, a limit that never lifts).

Redis unreachable (refused, timed out, any redis-py error): the call is answered by the database counters
(:class:`smishguard.ratelimits.cache.CounterCache`, as without Redis), so a request is never let through
uncounted; the log says so once per process, not per request.  Redis is tried again at most every
``RETRY_SECONDS`` (so an outage costs a request a connect timeout only that often); once it answers the counters
are in Redis again, and the log says that too.  Counts made in the database meanwhile stay there: a limit
starts again in Redis (at most one window's worth of extra requests per source, the price of not refusing
every request while Redis is away).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from smishguard.ratelimits.cache import CounterCache
from smishguard.redaction import redact_credentials

log = logging.getLogger("smishguard.ratelimits")

RETRY_SECONDS = 2.0

# One hit on each key: INCR; a key this made (count 1) gets its expiry (ARGV[i], milliseconds) in the same script.
_HIT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  counts[i] = count
end
return counts
"""
# INCRBY of a live key only (nil for a missing one: Django's ValueError), in one step.
_INCR = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class RedisCounterCache(RedisCache):
    """Django's RedisCache with ``incr`` and ``hit_many`` each one atomic Redis operation."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._scripts: dict[str, Any] = {}

    def _script(self, client: Any, source: str) -> Any:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = client.register_script(source)
        return script

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(key, write=True)
        count = self._script(client, _INCR)(keys=[key], args=[int(delta)], client=client)
        if count is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(count)

    def hit_many(self, timeouts: dict[str, float], version: int | None = None) -> dict[str, int]:
        """Count one hit on each key (one with no live counter starts at 1 with its timeout), in one script;
        each key's new count.  As CounterCache.hit_many."""
        made = {self.make_key(key, version=version): key for key in timeouts}
        client = self._cache.get_client(write=True)
        args = [max(1, int(timeouts[key] * 1000)) for key in made.values()]
        counts = self._script(client, _HIT)(keys=list(made), args=args, client=client)
        return {key: int(count) for key, count in zip(made.values(), counts, strict=True)}

    def clear_prefixed(self) -> None:
        """Delete every key under this cache's KEY_PREFIX (never FLUSHDB: a shared Redis holds others' keys)."""
        client = self._cache.get_client(write=True)
        pattern = f"{self.key_prefix}:*" if self.key_prefix else "*"
        batch = []
        for key in client.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) == 500:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)


class _Health:
    """Whether this process finds Redis (at one URL) reachable; shared by every thread's cache object."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.retry_at = 0.0


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()


def _health_of(location: str) -> _Health:
    with _health_lock:
        return _health.setdefault(location, _Health())


class FailoverCounterCache(BaseCache):
    """``CACHES["ratelimit"]`` in production mode: LOCATION the Redis URL, KEY_PREFIX for a shared Redis,
    OPTIONS redis-py's connection options plus ``DATABASE`` (the fallback's database alias) and
    ``RETRY_SECONDS``."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = dict(params.get("OPTIONS") or {})
        database = options.pop("DATABASE", "default")
        self._retry_seconds = float(options.pop("RETRY_SECONDS", RETRY_SECONDS))
        self.location = location
        self.redis = RedisCounterCache(location, {**params, "OPTIONS": options})
        self.database = CounterCache("", {**params, "OPTIONS": {"DATABASE": database}})
        self._health = _health_of(location)

    @property
    def in_redis(self) -> bool:
        """Whether the counters are in Redis now (False while Redis is taken to be away)."""
        return self._health.down_since is None

    def ping(self) -> bool:
        """Whether Redis answers now (for /readyz and `smishguard doctor`); says nothing in the log."""
        try:
            return bool(self.redis._cache.get_client().ping())
        except RedisError:
            return False

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        health = self._health
        if health.down_since is not None and time.monotonic() < health.retry_at:
            return getattr(self.database, name)(*args, **kwargs)
        try:
            result = getattr(self.redis, name)(*args, **kwargs)
        except RedisError as exc:
            with health.lock:
                health.retry_at = time.monotonic() + self._retry_seconds
                first = health.down_since is None
                if first:
                    health.down_since = time.monotonic()
            if first:
                log.warning(
                    "Redis at %s is unreachable (%s): rate limits are counted in the database until it returns",
                    redact_credentials(self.location),
                    type(exc).__name__,
                )
            return getattr(self.database, name)(*args, **kwargs)
        if health.down_since is not None:
            with health.lock:
                back = health.down_since is not None
                health.down_since = None
            if back:
                log.warning(
                    "Redis at %s is back: rate limits are counted in Redis again", redact_credentials(self.location)
                )
        return result

    def add(self, key: str, value: Any, timeout: float | object | None = DEFAULT_TIMEOUT, version: int | None = None):
        return self._call("add", key, value, timeout, version)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self._call("incr", key, delta, version)

    def hit_many(self, timeouts: dict[str, float], version: int | None = None) -> dict[str, int]:
        return self._call("hit_many", timeouts, version)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._call("get", key, default, version)

    def set(self, key: str, value: Any, timeout: float | object | None = DEFAULT_TIMEOUT, version: int | None = None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key: str, timeout: float | object | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call("touch", key, timeout, version)

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._call("delete", key, version)

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._call("has_key", key, version)

    def clear(self) -> None:
        """Both: Django's RedisCache.clear is FLUSHDB (the whole Redis database, not only our prefix), so in
        Redis only the keys under our prefix are deleted."""
        self._call("clear_prefixed")
        self.database.clear()

    def close(self, **kwargs: Any) -> None:
        self.redis.close(**kwargs)
        self.database.close(**kwargs)
