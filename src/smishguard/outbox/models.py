"""One row per outgoing call: the outbox's state machine for every kind (SMS, alerts, sinks, security alerts)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Delivery(models.Model):
    """An outgoing call, recorded (with its idempotency key) before it is attempted and marked after.

    ``pending`` -> (claimed, committed before the call) ``sending`` -> ``delivered`` (with the provider's reference)
    or ``failed``; a retryable failure goes back to ``pending`` with ``next_attempt_at`` (or, when the call may
    have taken effect, stays ``sending`` and is reconciled once its lease is over).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending (claimed: the call is made or in flight)"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=64, db_index=True)
    key = models.CharField(max_length=255, unique=True, help_text="the idempotency key (sent as a header by webhooks)")
    target_id = models.BigIntegerField(null=True, blank=True, help_text="the kind's own record (its primary key)")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(null=True, blank=True, help_text="None: the kind's default")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True, help_text="when the last claimed call was (to be) made")
    last_error = models.TextField(blank=True)
    provider_ref = models.CharField(max_length=128, blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="the django-tasks result of the pending attempt")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "kind"]), models.Index(fields=["kind", "target_id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.DELIVERED, self.Status.FAILED)
