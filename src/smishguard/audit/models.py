"""The audit trail: rows are written once and never changed or deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from smishguard.audit.errors import AppendOnlyError


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ARG002 - same signature as QuerySet.update
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")


class Event(models.Model):
    at = models.DateTimeField(db_index=True)
    # Not `choices=`: new actions must not need a migration; record() only accepts Action members.
    action = models.CharField(max_length=64, db_index=True)
    # actor and subject have no index of their own: the (actor, -at) and (subject, -at) indexes below serve
    # lookups by either, and each index is one more page written with every event.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Who acted, as text: an employee's email, "cli:<os user>", or "anonymous".
    actor_label = models.CharField(max_length=254, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject_label = models.CharField(max_length=254, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject", "-at"]), models.Index(fields=["actor", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.subject_label}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ARG002
        raise AppendOnlyError("audit events cannot be deleted")

    def to_dict(self) -> dict:
        return {
            "id": self.pk,
            "at": self.at.isoformat(),
            "action": self.action,
            "actor": self.actor_label,
            "subject": self.subject_label,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "detail": self.detail,
        }
