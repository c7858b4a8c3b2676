"""Shared counters for rate limits: a table and a Django cache backend over it (layer 0, beside audit).

django-ratelimit counts through a Django cache with ``cache.add`` then ``cache.incr``; Django's own database
cache does neither atomically, so :class:`smishguard.ratelimits.cache.CounterCache` does each in one SQL
statement, on SQLite and PostgreSQL alike.  Which cache counts is one setting (``CACHES["ratelimit"]``, from
``RATELIMIT_CACHE_BACKEND``): Redis takes over in production mode.
"""
