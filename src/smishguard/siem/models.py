"""Where each SIEM stream stands in the audit trail."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Stream(models.Model):
    """One ``[[siem.streams]]`` entry's position, moved only in the transaction that marks a batch delivered.

    ``position``: every audit event with an id at or below it has been delivered or was skipped as absent;
    ``skipped``: the ids at or below it that were absent when it moved (``{"id": first-seen epoch seconds}``),
    watched for ``[siem] late_window_seconds`` in case a transaction that was still open commits them later;
    ``batches``: batches delivered, which names the next batch's outbox key (``siem:<name>:<batches>``), so two
    workers that look at once record the same batch, once."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)
    batches = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0, help_text="events delivered")
    late = models.BigIntegerField(default=0, help_text="events delivered after a higher id (committed late)")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"
