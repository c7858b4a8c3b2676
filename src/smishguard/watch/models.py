"""Each log's checkpoint, the lookalike-domain alerts, their sightings and their deliveries to the sinks.

The checkpoint (``LogState.next_index``) and the alerts a batch raised are written in one transaction, so a
crash leaves either both or neither: on restart the watcher re-reads from ``next_index`` and raises nothing
twice. One certificate raises one alert per registrable lookalike domain: a domain and its ``www.`` are one
alert listing both (``lookalike_names``). A name already alerted on, in a later certificate, adds a sighting and
updates that alert (``last_seen``, ``times_seen``, new names); the same certificate seen again (a replay)
changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class LogState(models.Model):
    """Where the watcher is in one source: a CT log (RFC 6962 or static-CT), a certstream feed, or a replay
    file (a replay is read from its start every time: its row records the last run, for ``watch status``)."""

    class Api(models.TextChoices):
        RFC6962 = "rfc6962", "RFC 6962"
        STATIC = "static", "static-CT API"
        CERTSTREAM = "certstream", "certstream"
        REPLAY = "replay", "replay"

    key = models.CharField(max_length=300, unique=True, help_text="log ID (base64), certstream:<url> or replay:<file>")
    log_id = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500, blank=True)
    api = models.CharField(max_length=12, choices=Api.choices)
    next_index = models.BigIntegerField(default=0, help_text="the next entry to read: everything before is done")
    tree_size = models.BigIntegerField(null=True, blank=True, help_text="size of the last verified tree head")
    tree_head_at = models.DateTimeField(null=True, blank=True, help_text="timestamp of the last verified tree head")
    root_hash = models.CharField(max_length=64, blank=True, help_text="hex root hash of the last verified tree head")
    entries_read = models.BigIntegerField(default=0)
    alerts_raised = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["description", "key"]

    def __str__(self) -> str:
        return self.description or self.key

    @property
    def lag(self) -> int | None:
        """Entries behind the last verified tree head (``None`` before the first one)."""
        if self.tree_size is None:
            return None
        return max(0, self.tree_size - self.next_index)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "description": self.description,
            "url": self.url,
            "api": self.api,
            "next_index": self.next_index,
            "tree_size": self.tree_size,
            "lag": self.lag,
            "tree_head_at": self.tree_head_at.isoformat() if self.tree_head_at else None,
            "last_error": self.last_error,
            # added in issue 11: what was read, what it raised, and when
            "entries_read": self.entries_read,
            "alerts_raised": self.alerts_raised,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "last_seen": self.updated_at.isoformat() if self.updated_at else None,
        }


class LookalikeAlert(models.Model):
    """A domain that looks like a protected brand's, seen in a certificate; one row per domain."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        FALSE_POSITIVE = "false_positive", "False positive"

    domain = models.CharField(max_length=253, unique=True)
    registrable = models.CharField(max_length=253, db_index=True)
    brand = models.CharField(max_length=100, db_index=True)
    techniques = models.JSONField(default=list)
    score = models.FloatField(default=0.0)
    # Why, in plain words, and by which version of the matcher's rules (engine.domains.MATCHER_VERSION; "" for
    # alerts raised before it was recorded): a verdict can be traced when the rules change.
    reasons = models.JSONField(default=list, blank=True)
    matcher = models.CharField(max_length=16, blank=True, default="")
    first_seen = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen = models.DateTimeField(default=timezone.now)
    times_seen = models.PositiveIntegerField(default=1)
    # The certificate that raised it (the first sighting).
    log = models.CharField(max_length=300, blank=True, help_text="the log's description")
    log_url = models.CharField(max_length=500, blank=True)
    entry_index = models.BigIntegerField(null=True, blank=True)
    entry_kind = models.CharField(max_length=10, blank=True)
    logged_at = models.DateTimeField(null=True, blank=True, help_text="the log entry's timestamp")
    issuer = models.TextField(blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    names = models.JSONField(default=list, help_text="every name in the first certificate")
    lookalike_names = models.JSONField(
        default=list, help_text="every lookalike name under this domain seen in its certificates (bare, www., ...)"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-first_seen", "-id"]

    def __str__(self) -> str:
        return f"{self.domain} ({self.brand})"

    def to_dict(self) -> dict[str, Any]:
        def iso(value: Any) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.pk,
            "domain": self.domain,
            "registrable": self.registrable,
            "brand": self.brand,
            "techniques": list(self.techniques),
            "score": self.score,
            "reasons": list(self.reasons),
            "matcher": self.matcher,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "times_seen": self.times_seen,
            "log": self.log,
            "log_url": self.log_url,
            "entry_index": self.entry_index,
            "entry_kind": self.entry_kind,
            "logged_at": iso(self.logged_at),
            "issuer": self.issuer,
            "not_before": iso(self.not_before),
            "names": list(self.names),
            "status": self.status,
            # added in issue 11: one alert per certificate, listing the lookalike names it holds
            "lookalike_names": list(self.lookalike_names) or [self.domain],
        }


class Sighting(models.Model):
    """One certificate (log entry) in which an alert's domain was seen; a repeat of the same entry is ignored."""

    alert = models.ForeignKey(LookalikeAlert, on_delete=models.CASCADE, related_name="sightings")
    source = models.CharField(max_length=300, help_text="log key (log ID) or the certstream source's name")
    entry_index = models.BigIntegerField()
    log = models.CharField(max_length=300, blank=True)
    issuer = models.TextField(blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "source", "entry_index"], name="watch_sighting_once"),
        ]


class SinkDelivery(models.Model):
    """A new alert owed to one sink; created with the alert, marked when the sink has it."""

    class Sink(models.TextChoices):
        JSONL = "jsonl", "JSON lines file"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    alert = models.ForeignKey(LookalikeAlert, on_delete=models.CASCADE, related_name="deliveries")
    sink = models.CharField(max_length=8, choices=Sink.choices)
    target = models.CharField(max_length=1000, help_text="the file path or the webhook URL")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "sink", "target"], name="watch_delivery_once"),
        ]
