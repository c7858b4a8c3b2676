"""The gateway's access record: every decision on a customer-data route, stored before the answer leaves.

Not the security audit trail (``audit.Event``), which keeps the security events: this table is high-volume and
answers "which customers did these accounts read" (``smishguard incident scope``) and "has this account just read
too many" (containment).  Append-only for the running service; retention is a maintenance step run with the
database owner's URL (``smishguard gateway access prune``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AccessRecord(models.Model):
    at = models.DateTimeField()
    # The employee the session belongs to; None for a request that was not signed in.
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The session's id, not a foreign key: a session row may be removed later, the record stays as written.
    session_id = models.BigIntegerField(null=True, blank=True)
    method = models.CharField(max_length=16)
    host = models.CharField(max_length=253)
    path = models.TextField()  # normalised, without the query string
    rule = models.PositiveSmallIntegerField(null=True, blank=True)  # the deciding rule's number (from 1)
    decision = models.CharField(max_length=16)  # allow | deny | sign_in | step_up
    reason = models.CharField(max_length=32)  # the policy's reason, or bulk_read_contained, training_overdue, ...
    customer = models.CharField(max_length=255)  # the resource's named group "customer"
    ip = models.GenericIPAddressField(null=True, blank=True)  # the client address (general trusted_proxies)

    class Meta:
        indexes = [
            models.Index(fields=["employee", "at"], name="gateway_access_employee_at"),
            # The breach scope's (smishguard incident scope): its grouped query answered from the index alone.
            models.Index(fields=["employee", "decision", "host", "customer", "at"], name="gateway_access_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.employee_id} {self.decision} {self.host} {self.customer}"
