"""The gateway's access record: every decision on a customer-data route, stored before the answer leaves.

Not the security audit trail (``audit.Event``), which keeps the security events: this table is high-volume and
answers "which customers did these accounts read" (``smishguard incident scope``) and "has this account just read
too many" (containment).  Append-only for the running service: the queryset refuses ``update``/``delete``, a saved
row refuses ``save``/``delete``, SQLite's triggers refuse UPDATE/DELETE (gateway migration 0002), and on PostgreSQL
the services' role may only SELECT and INSERT (``smishguard.dbroles``) and nobody may TRUNCATE it.  Retention is a
maintenance step run with the database owner's URL (``smishguard gateway access prune``, ``gateway.retention``).

Containment (``gateway.containment``) keeps one :class:`Containment` row per employee who has read customer data:
the row each check on a customer route locks (the per-employee serialisation) and the state "contained until
released".  :class:`SessionNetwork` says, once per session, whether it was opened from a network new for its
employee (which lowers the threshold for the session's first ``new_network_minutes``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from smishguard.audit.errors import AppendOnlyError


class AccessRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ARG002 - same signature as QuerySet.update
        raise AppendOnlyError("access records cannot be updated")

    def delete(self):
        raise AppendOnlyError("access records cannot be deleted (retention: smishguard gateway access prune)")


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

    objects = AccessRecordQuerySet.as_manager()

    class Meta:
        indexes = [
            # An employee's rows in a period (export, the breach scope's chart counts its ranges).
            models.Index(fields=["employee", "at"], name="gateway_access_employee_at"),
            # The breach scope's (smishguard incident scope, gateway.scope): the reads inside a period of the customers
            # read on both sides of its ends, and the refused attempts, each an index range read from the index alone.
            models.Index(fields=["employee", "decision", "host", "customer", "at"], name="gateway_access_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.employee_id} {self.decision} {self.host} {self.customer}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("access records cannot be changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ARG002
        raise AppendOnlyError("access records cannot be deleted (retention: smishguard gateway access prune)")

    def to_dict(self, email: str | None = None) -> dict[str, object]:
        """One line of ``smishguard gateway access export``."""
        return {
            "id": self.pk,
            "at": self.at.isoformat(),
            "employee": email,
            "session": self.session_id,
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "rule": self.rule,
            "decision": self.decision,
            "reason": self.reason,
            "customer": self.customer,
            "ip": self.ip,
        }


class Containment(models.Model):
    """One per employee who has read customer data through the gateway: the row a check on a customer route locks
    (so two workers checking the same employee at once count one after the other), and the containment state.

    ``contained_at`` set: every customer-data route is refused (``bulk_read_contained``) for the employee, on any
    session, until a release (``smishguard gateway release`` + a second admin's approval) clears it."""

    employee = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    contained_at = models.DateTimeField(null=True, blank=True)
    customers = models.PositiveIntegerField(default=0)  # distinct customers read in the window when contained
    max_customers = models.PositiveIntegerField(default=0)  # the threshold that was crossed
    window_minutes = models.PositiveIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)  # the last release
    released_by = models.CharField(max_length=254, blank=True)  # who asked for it, and who approved it

    def __str__(self) -> str:
        state = f"contained since {self.contained_at:%Y-%m-%d %H:%M}" if self.contained_at else "not contained"
        return f"containment of {self.employee_id}: {state}"


class SessionNetwork(models.Model):
    """Whether a session was opened from a network (/24, /64) its employee had not signed in from in the 30 days
    before, having signed in before from another network: worked out once, at the session's first check on a
    customer route within its first ``new_network_minutes``."""

    session = models.OneToOneField("accounts.Session", on_delete=models.CASCADE, primary_key=True, related_name="+")
    network = models.CharField(max_length=64, blank=True)  # the session's sign-in network ("" when unknown)
    new_network = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"session {self.session_id}: {self.network or '?'}{' (new)' if self.new_network else ''}"


class CustomerRead(models.Model):
    """Each customer (host + id) an employee was admitted to, rolled up over the access record's admitted rows:
    how many reads, the first and the last (``reads``, ``first_at``, ``last_at`` equal ``COUNT(*)``, ``MIN(at)``
    and ``MAX(at)`` of that employee's ``allow`` rows of that host and customer, exactly).

    One upsert per admitted read keeps it (``gateway.sql.NOTE_READ``, in the check's transaction, beside the
    access row), and two readers use it:

    - containment counts its rows (``gateway.sql.DISTINCT_ADMITTED``: the employee's customers whose last read is
      in the window), so the count costs the number of distinct customers in the window, not the number of reads
      (an agent who opens the same ten records all day would otherwise make each check scan every read of the
      last minutes);
    - the breach scope (``gateway.scope``) answers every customer whose reads all fall inside the period from this
      row alone, and goes to the access record only for the customers read both inside and outside the period.

    State, not a record: a row moves on with each read.  The access record's retention keeps it exact
    (``gateway.retention``); gateway migration 0008_read_rollup filled it from the access record.  Whatever else
    writes admitted access rows (test data, the screenshots' seed) writes their roll-up too, with ``NOTE_READ``."""

    employee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    host = models.CharField(max_length=253)
    customer = models.CharField(max_length=255)
    reads = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employee", "host", "customer"], name="gateway_customer_read_once")
        ]
        indexes = [models.Index(fields=["employee", "last_at"], name="gateway_customer_read_recent")]

    def __str__(self) -> str:
        return (
            f"{self.employee_id} read {self.host} {self.customer} {self.reads} time(s), "
            f"{self.first_at:%Y-%m-%d %H:%M:%S} to {self.last_at:%Y-%m-%d %H:%M:%S}"
        )


class SigningKey(models.Model):
    """A key that signs ``X-Smishguard-Assertion`` (ES256, P-256), shared by every host through the database.

    The private key is stored only encrypted (AES-256-GCM under a key derived with HKDF from Django's
    ``SECRET_KEY``; ``gateway.keys``), and erased when the key is retired: a retired key never signs again, its
    public part stays in the JWKS until the assertions it signed have expired.  One current key at most (the
    partial unique constraint), so two processes making the first key at once end with one.
    """

    kid = models.CharField(max_length=64, unique=True)  # the RFC 7638 thumbprint of the public key
    public_jwk = models.JSONField()  # kty, crv, x, y: never "d"
    private_key = models.BinaryField()  # nonce || AES-GCM(PKCS#8 DER); empty once retired
    created_at = models.DateTimeField()
    current = models.BooleanField(default=True)
    retired_at = models.DateTimeField(null=True, blank=True)  # when it stopped being the current key

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["current"], condition=models.Q(current=True), name="gateway_signing_key_one_current"
            ),
            models.CheckConstraint(
                condition=models.Q(current=True, retired_at__isnull=True)
                | models.Q(current=False, retired_at__isnull=False),
                name="gateway_signing_key_retired_iff_not_current",
            ),
        ]

    def __str__(self) -> str:
        return f"signing key {self.kid}{'' if self.current else ' (retired)'}"
