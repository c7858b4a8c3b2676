"""Employees (the user model: no password, ever), enrolment links, recovery requests and sessions."""

from __future__ import annotations

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from smishguard.accounts import approvals


def token_digest(token: str) -> str:
    """What we store for a bearer token: its SHA-256, so a database leak gives no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Group(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmployeeManager(BaseUserManager):
    def get_by_natural_key(self, username: str) -> Employee:
        return self.get(email__iexact=username)


class Employee(AbstractBaseUser):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        OFFBOARDED = "offboarded", "Offboarded"

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=16, blank=True, db_index=True, help_text="E.164, e.g. +14155550100")
    department = models.CharField(max_length=100, blank=True, db_index=True)
    groups = models.ManyToManyField(Group, blank=True, related_name="members")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    is_admin = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Who gave admin rights and when (four eyes: an approver's rights must be old enough and not granted on the
    # requester's word).  Empty for admins from before this was recorded: their oldest active key's date counts.
    admin_granted_at = models.DateTimeField(null=True, blank=True)
    admin_granted_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="who asked"
    )
    admin_granted_by_label = models.CharField(max_length=254, blank=True, help_text="who asked (or cli:<user>)")
    admin_approved_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="the second admin"
    )
    # An IANA name (Europe/London); blank: the company's ([training] default_time_zone).  Simulations send inside
    # their window in each recipient's own time zone.
    time_zone = models.CharField(max_length=64, blank=True)
    # In the SMS phishing simulation programme by the console toggle (membership of [training] programme_group
    # counts too).  Not key enrolment.
    in_simulations = models.BooleanField(default=False)

    objects = EmployeeManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.status == self.Status.ACTIVE

    @property
    def is_staff(self) -> bool:
        return self.is_admin

    def save(self, *args, **kwargs) -> None:
        if not self.password:
            self.set_unusable_password()
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class EnrolmentLink(models.Model):
    """A single-use link that lets an employee register a security key."""

    class Purpose(models.TextChoices):
        INITIAL = "initial", "First key"
        ADD_KEY = "add_key", "Additional key"
        RECOVERY = "recovery", "Recovery (four eyes)"

    token_hash = models.CharField(max_length=64, unique=True)
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="enrolment_links")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.INITIAL)
    issued_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"enrolment link for {self.employee.email} ({self.purpose})"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class RecoveryRequest(models.Model):
    """A four-eyes request: one admin asks, a second (eligible) admin approves.

    ``kind`` says what is asked: a new enrolment link for an employee who lost every key (recovery), admin
    rights for an employee (admin_grant), or an admin's first enrolment link (admin_enrolment).
    """

    class Kind(models.TextChoices):
        RECOVERY = "recovery", "Recovery (new enrolment link)"
        ADMIN_GRANT = "admin_grant", "Admin rights"
        ADMIN_ENROLMENT = "admin_enrolment", "An admin's first enrolment link"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="recovery_requests")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RECOVERY)
    requested_by = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, related_name="+")
    requested_by_label = models.CharField(max_length=254)
    requested_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    link = models.OneToOneField(EnrolmentLink, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} for {self.employee.email} ({self.status})"

    @property
    def kind_label(self) -> str:
        """The kind in words: accounts' own, or the label of a kind an app registered (accounts.approvals)."""
        registered = approvals.registered(self.kind)
        return registered.label if registered is not None else self.get_kind_display()

    @property
    def approve_button(self) -> str:
        registered = approvals.registered(self.kind)
        if registered is not None:
            return registered.button
        return "Approve admin rights" if self.kind == self.Kind.ADMIN_GRANT else "Approve and issue link"


ApprovalRequest = RecoveryRequest  # the general name: recovery is one kind of four-eyes request


class Session(models.Model):
    """A server-side session; the cookie holds a random token, the database only its SHA-256."""

    key_hash = models.CharField(max_length=64, unique=True)
    # No index of its own: the (employee, revoked_at) index below serves lookups by employee.
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="sessions", db_index=False)
    auth_method = models.CharField(max_length=32, default="webauthn")
    credential = models.ForeignKey(
        "passkeys.Credential", on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="absolute lifetime end")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_by = models.CharField(max_length=254, blank=True)
    revoke_reason = models.CharField(max_length=64, blank=True)
    # When this session last made a key assertion: at sign-in, and again at each step-up ceremony.  Sensitive
    # actions ask for it to be recent (accounts.sessions.require_fresh_assertion).
    last_assertion_at = models.DateTimeField(null=True, blank=True)
    # Whether the person was verified (WebAuthn UV: PIN or biometric) at that last key assertion; the gateway's
    # X-Smishguard-Assertion says "user" in its amr only when this is set.
    user_verified = models.BooleanField(default=False)
    # A fresh key touch is required on the next protected request when this is later than last_assertion_at
    # (accounts.sessions.require_key_touch: after an employee typed into a simulated sign-in page, say).
    key_touch_required_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["employee", "revoked_at"])]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.employee_id}"


class ApiToken(models.Model):
    """A bearer token for integrations (``Authorization: Bearer sg_...``); only its SHA-256 is stored."""

    # Its scopes are names from the registry the apps serving token-guarded endpoints fill (accounts.scopes).
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="the first characters, to recognise a token")
    scopes = models.JSONField(default=list)
    created_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LinkNotice(models.Model):
    """A newly issued enrolment link waiting to be shown once to the admin who issued it (accounts.notices).

    Bound to that admin's session and encrypted under a key derived from the session's cookie token, which only
    the admin's browser holds (the database keeps only its digest): the row is useless to anyone reading the
    database, the link never travels in a cookie, and the row is deleted when the page shows it.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    sealed = models.TextField(help_text="the link, encrypted under a key from the session's cookie token")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"link notice for session {self.session_id}"
