"""One row per live counter: django-ratelimit's key (group, rate, client or account, window), its count, and
when it lapses (seconds since the epoch).  Written only by smishguard.ratelimits.cache, one statement a call."""

from __future__ import annotations

from django.db import models


class Counter(models.Model):
    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.BigIntegerField()
    expires_at = models.FloatField()  # no index: lapsed rows are culled by a scan, now and then

    def __str__(self) -> str:
        return f"{self.cache_key}={self.value}"
