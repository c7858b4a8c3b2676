"""Registered security keys and the server-side challenges of WebAuthn ceremonies."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from smishguard.accounts.models import EnrolmentLink


class CredentialQuerySet(models.QuerySet):
    def active(self) -> CredentialQuerySet:
        return self.filter(revoked_at__isnull=True)


class Credential(models.Model):
    employee = models.ForeignKey("accounts.Employee", on_delete=models.CASCADE, related_name="credentials")
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    aaguid = models.CharField(max_length=36, blank=True)
    model = models.CharField(max_length=200, blank=True, help_text="authenticator model name, or 'unverified'")
    attestation_format = models.CharField(max_length=32, blank=True)
    attestation_verified = models.BooleanField(default=False)
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    transports = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True, help_text="possibly cloned: sign-ins refused")
    flag_reason = models.CharField(max_length=200, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoke_reason = models.CharField(max_length=64, blank=True)
    user_handle = models.BinaryField(
        default=b"", blank=True, help_text="the WebAuthn user.id the key stored (random, per employee)"
    )

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name or f"key {self.pk}"


class Challenge(models.Model):
    """A ceremony's challenge, kept server-side, single-use, short-lived."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "Registration"
        LOGIN = "login", "Sign-in"
        STEPUP = "stepup", "Step-up (a fresh key touch while signed in)"

    challenge = models.BinaryField(unique=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    # Not indexed: challenges are only ever looked up by their value (or expiry), never by employee or link,
    # and each index is one more page written by every sign-in's options request.
    employee = models.ForeignKey("accounts.Employee", on_delete=models.CASCADE, null=True, blank=True, db_index=False)
    enrolment_link = models.ForeignKey(EnrolmentLink, on_delete=models.CASCADE, null=True, blank=True, db_index=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    user_handle = models.BinaryField(default=b"", blank=True, help_text="user.id offered at registration")

    def __str__(self) -> str:
        return f"{self.purpose} challenge {self.pk}"
