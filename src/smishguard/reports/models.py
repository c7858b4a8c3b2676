"""Reported texts, the campaigns they form, the blocklists and the alerts owed to the security team.

The protected brands and keywords live in :mod:`smishguard.detection.models`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Campaign(models.Model):
    """Reports of the same attack: the same registrable domains linked to, or near-identical wording."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONTAINED = "contained", "Contained"
        CLOSED = "closed", "Closed"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    verdict = models.CharField(max_length=12, default="benign", help_text="the worst verdict of its reports")
    brand = models.CharField(max_length=100, blank=True, help_text="the protected brand it imitates, if any")
    domains = models.JSONField(default=list, help_text="registrable domains its reports link to")
    first_seen = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    report_count = models.PositiveIntegerField(default=0)
    blocklisted_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True, help_text="when the security team was first alerted")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]

    def __str__(self) -> str:
        return f"campaign {self.pk}"

    @property
    def title(self) -> str:
        if self.domains:
            more = f" +{len(self.domains) - 1}" if len(self.domains) > 1 else ""
            return f"{self.domains[0]}{more}"
        return f"Campaign {self.pk}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "status": self.status,
            "verdict": self.verdict,
            "brand": self.brand or None,
            "domains": list(self.domains),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "reports": self.report_count,
            "blocklisted_at": self.blocklisted_at.isoformat() if self.blocklisted_at else None,
            "warned_at": self.warned_at.isoformat() if self.warned_at else None,
        }


class Report(models.Model):
    """One suspicious text an employee (or an integration) reported, with the engine's verdict on it."""

    class Channel(models.TextChoices):
        SMS = "sms", "Forwarded SMS"
        PORTAL = "portal", "Portal form"
        API = "api", "API"

    class State(models.TextChoices):
        SCANNED = "scanned", "Scanned"
        RATE_LIMITED = "rate_limited", "Refused: too many reports"

    channel = models.CharField(max_length=8, choices=Channel.choices, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCANNED, db_index=True)
    text = models.TextField()
    sender = models.CharField(max_length=200, blank=True, help_text="who sent the suspicious text, as reported")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms_reports"
    )
    reporter_known = models.BooleanField(default=False, help_text="matched to an active employee: trusted")
    reporter_phone = models.CharField(max_length=32, blank=True, db_index=True)
    reporter_email = models.CharField(max_length=254, blank=True)
    reporter_label = models.CharField(max_length=254, help_text="the number, employee or token that reported it")
    message_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    verdict = models.CharField(max_length=12, blank=True, db_index=True)
    score = models.FloatField(default=0.0)
    verdict_json = models.JSONField(default=dict)
    domains = models.JSONField(default=list, help_text="registrable domains linked to (official ones left out)")
    lookalikes = models.JSONField(default=list, help_text="registrable domains judged lookalikes of a brand")
    fingerprint = models.TextField(blank=True, help_text="the text normalised (names, links, numbers replaced)")
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports")
    reply = models.TextField(blank=True, help_text="what the reporter was told")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    marked_attack_at = models.DateTimeField(null=True, blank=True, help_text="when an analyst said it is an attack")
    marked_attack_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.verdict or self.state})"

    @property
    def for_review(self) -> bool:
        """Judged harmless and in no campaign: kept and shown for review; no warning until an analyst marks it
        an attack (``response.mark_attack``)."""
        return self.state == self.State.SCANNED and self.verdict == "benign" and self.campaign_id is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "channel": self.channel,
            "state": self.state,
            "text": self.text,
            "sender": self.sender,
            "reporter": self.reporter_label,
            "reporter_known": self.reporter_known,
            "created_at": self.created_at.isoformat(),
            "campaign_id": self.campaign_id,
            "reply": self.reply,
            "for_review": self.for_review,
            "marked_attack_at": self.marked_attack_at.isoformat() if self.marked_attack_at else None,
        }


class CampaignEvent(models.Model):
    """One line of a campaign's timeline: a report, an action (automatic or an analyst's), a status change."""

    class Kind(models.TextChoices):
        CREATED = "created", "Campaign formed"
        REPORTED = "reported", "Reported"
        BLOCKLISTED = "blocklisted", "Added to the blocklists"
        WARNED = "warned", "Warning sent to all staff"
        WARN_FAILED = "warn_failed", "Warning could not be queued"
        ALERTED = "alerted", "Security team alerted"
        ALERT_FAILED = "alert_failed", "Alert to the security team failed"
        STATUS = "status", "Status changed"
        STIX = "stix", "STIX bundle exported"
        ATTACK = "attack", "Marked an attack by an analyst"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    automatic = models.BooleanField(default=False, help_text="done by the response policy, not by a person")
    actor_label = models.CharField(max_length=254, blank=True)
    summary = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on campaign {self.campaign_id}"


class BlocklistEntry(models.Model):
    """A lookalike domain on the blocklists because of reports (the CT watcher's alerts are added at build time)."""

    domain = models.CharField(max_length=253, unique=True, help_text="registrable domain, Unicode form")
    brand = models.CharField(max_length=100, blank=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="blocklist_entries"
    )
    report = models.ForeignKey(Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    automatic = models.BooleanField(default=False)
    added_by = models.CharField(max_length=254, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class BlocklistState(models.Model):
    """The blocklists' version: the digest of the last domain list built and the RPZ serial that goes with it."""

    digest = models.CharField(max_length=64)
    serial = models.BigIntegerField()
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"blocklists serial {self.serial}"


class AlertDelivery(models.Model):
    """One alert about a campaign owed to the security team's webhook; its delivery (retries, back-off) is the
    outbox's (kind ``campaign-alert``, :mod:`smishguard.reports.alerting`), mirrored here.  Rows with ``campaign``
    None are security alerts recorded before those moved to the outbox's ``security-alert`` kind."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=200, unique=True, help_text="one alert per campaign (or subject) and event")
    # None for a security alert that is not about a campaign (a key flagged as possibly cloned).
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="alerts", null=True, blank=True)
    url = models.CharField(max_length=1000)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"alert {self.key} ({self.status})"
