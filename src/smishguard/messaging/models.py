"""Outbound messages (one row per send, keyed for idempotency), broadcasts, delivery callbacks and inbound texts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone


class Broadcast(models.Model):
    """One text to many employees, identified by its batch key (calling broadcast() twice sends nothing twice)."""

    batch_key = models.CharField(max_length=200, unique=True)
    purpose = models.CharField(max_length=32)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"broadcast {self.batch_key} ({self.purpose})"

    def progress(self) -> BroadcastProgress:
        counts = dict(self.messages.values_list("status").annotate(n=models.Count("id")).order_by())
        return BroadcastProgress(
            total=sum(counts.values()),
            **{status.value: counts.get(status.value, 0) for status in OutboundMessage.Status},
        )


@dataclass(frozen=True)
class BroadcastProgress:
    total: int
    queued: int
    sending: int
    sent: int
    delivered: int
    failed: int
    undelivered: int
    waiting: int  # recorded while no Twilio account is configured; queued by the worker once one is

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class OutboundMessage(models.Model):
    """One SMS to send.  Recorded before the API call ("sending"), marked after it ("sent" + provider SID)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending (API call made or in flight)"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        UNDELIVERED = "undelivered", "Undelivered"
        # No Twilio account (the demo, or one not yet set up): recorded, not sent; the worker's recovery pass
        # gives it a sender and queues it once an account is configured (tasks.release_waiting).
        WAITING = "waiting", "Waiting for a Twilio account"

    class Purpose(models.TextChoices):
        WARNING = "warning", "Warning to staff"
        SIMULATION = "simulation", "Phishing simulation"
        REPLY = "reply", "Reply to a report"
        NOTICE = "notice", "Other notice"

    idempotency_key = models.CharField(max_length=255, unique=True)
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms_messages"
    )
    broadcast = models.ForeignKey(Broadcast, on_delete=models.PROTECT, null=True, blank=True, related_name="messages")
    to = models.CharField(max_length=32, db_index=True)
    sender = models.CharField(max_length=64, help_text="sending number (E.164) or Messaging Service SID")
    body = models.TextField()
    purpose = models.CharField(max_length=32, choices=Purpose.choices, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "attempted_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} SMS to {self.to} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        OutboundMessage.Status.SENT,
        OutboundMessage.Status.DELIVERED,
        OutboundMessage.Status.FAILED,
        OutboundMessage.Status.UNDELIVERED,
    }
)


class DeliveryStatus(models.Model):
    """One status callback from Twilio (signature checked), kept as received."""

    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="delivery_statuses"
    )
    message_sid = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=32)
    error_code = models.IntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [models.UniqueConstraint(fields=["message_sid", "status"], name="messaging_status_once")]

    def __str__(self) -> str:
        return f"{self.message_sid} {self.status}"


class InboundMessage(models.Model):
    """A text received on the webhook; the unique MessageSid makes a replayed webhook a no-op."""

    class Outcome(models.TextChoices):
        HANDLED = "handled", "Handled"
        RATE_LIMITED = "rate_limited", "Rate-limited (flood)"
        TOO_LONG = "too_long", "Refused: too long"

    message_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=32, db_index=True)
    to_number = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.HANDLED)
    reply = models.TextField(blank=True)
    # For a text handed to the handlers (outcome "handled"): when they were done with it; empty while its handling
    # has not finished (a handler failed and none claimed it, or the database went away mid-way), until the
    # recovery pass hands it over again (smishguard.messaging.inbound.finish_unhandled).
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"SMS {self.message_sid} from {self.from_number}"


class SenderSlot(models.Model):
    """The rate limiter's state: the next moment a sender may send (shared by every worker through the DB)."""

    sender = models.CharField(max_length=64, unique=True)
    next_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.sender} next at {self.next_at.isoformat()}"
