"""Training modules and their versions, assignments, quiz attempts; simulations, their recipients and events.

Per-person simulation results (``Recipient`` rows, their ``SimulationEvent`` rows) are kept for
``[training] results_retention_days`` and then reduced to counts (``SimulationTally``, one row per simulation and
department).  Nothing an employee types on a simulated page is stored anywhere: a submit is an event with a time
and nothing else (``SimulationEvent`` has no field that could hold it).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from smishguard.accounts.models import Employee, Group


class Module(models.Model):
    """A training module: what staff read, then a quiz; its content lives in versions (``ModuleVersion``)."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    # The lowest version number whose completion still counts: a new version that "requires everyone again"
    # raises it to its own number, so earlier completions no longer make anyone current.
    required_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=254, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "slug"]

    def __str__(self) -> str:
        return self.title


class ModuleVersion(models.Model):
    """One version of a module: its text (Markdown, rendered safely), its quiz and pass mark.  Never edited once
    anyone has attempted it; an edit makes a new version."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    content = models.TextField(help_text="Markdown")
    # [{"question": str, "choices": [str, ...], "answer": int (index into choices), "explanation": str}, ...]
    quiz = models.JSONField(default=list)
    pass_mark = models.PositiveSmallIntegerField(default=80, help_text="percent of questions answered right")
    requires_everyone_again = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["module", "-number"]
        constraints = [models.UniqueConstraint(fields=["module", "number"], name="training_version_unique")]

    def __str__(self) -> str:
        return f"{self.module.slug} v{self.number}"


class Assignment(models.Model):
    """A module an employee must complete by a due date.  One row per (employee, module): a version that
    requires everyone again reopens it (``completed_at`` cleared, a new due date)."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Assigned by an admin"
        NEW_EMPLOYEE = "new_employee", "Every new employee"
        SIMULATION = "simulation", "After a simulation"
        NEW_VERSION = "new_version", "A new version requires everyone again"

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="training_assignments")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="assignments")
    due_at = models.DateTimeField(db_index=True)
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.CharField(max_length=254, blank=True, help_text="an admin's e-mail, cli:<user> or system")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    completed_attempt = models.ForeignKey("Attempt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Reminders through the outbox: the last one sent before, and after, the due date.
    reminded_before_at = models.DateTimeField(null=True, blank=True)
    reminded_after_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["employee", "module"], name="training_assignment_unique")]
        indexes = [models.Index(fields=["employee", "completed_at"])]

    def __str__(self) -> str:
        return f"{self.module.slug} for {self.employee_id} by {self.due_at:%Y-%m-%d}"


class Attempt(models.Model):
    """One go at a module's quiz: the score and whether it passed, with the time it took (the answers are not
    kept: the score says what compliance needs)."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="training_attempts")
    version = models.ForeignKey(ModuleVersion, on_delete=models.PROTECT, related_name="attempts")
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(default=timezone.now)
    score = models.PositiveSmallIntegerField(help_text="percent")
    passed = models.BooleanField()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["employee", "version"])]

    def __str__(self) -> str:
        return f"attempt {self.pk}: {self.score}%"


class Simulation(models.Model):
    """An SMS phishing drill to the enrolled members of a group."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for a second admin"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        FINISHED = "finished", "Finished"

    name = models.CharField(max_length=200)
    template = models.TextField(help_text="the text, with {first_name}, {company} and {link}")
    source_campaign = models.ForeignKey(
        "reports.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    brand = models.CharField(max_length=100, blank=True, help_text="the brand the drill imitates, if any")
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    # The send window, in each recipient's own time zone (None: any time of day).
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=254)
    launched_at = models.DateTimeField(null=True, blank=True)
    launched_by = models.CharField(max_length=254, blank=True)
    approved_by = models.CharField(max_length=254, blank=True)
    # The four-eyes request of a launch to more than [training] approval_threshold people (accounts.approvals).
    launch_request = models.ForeignKey(
        "accounts.RecoveryRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=254, blank=True)
    reduced_at = models.DateTimeField(null=True, blank=True, help_text="per-person results reduced to counts")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One employee in one simulation, with the unguessable id of their tracked link (``/s/<rid>``) and the time
    of each step of the funnel (None: not yet)."""

    class Skipped(models.TextChoices):
        NONE = "", "Not skipped"
        NO_PHONE = "no_phone", "No phone number"
        OPTED_OUT = "opted_out", "Replied STOP to simulations"
        COUNTRY = "country", "Phone number outside the allowed countries"
        NOT_ACTIVE = "not_active", "Not an active employee"
        NOT_ENROLLED = "not_enrolled", "Not in the simulation programme"
        CANCELLED = "cancelled", "Simulation cancelled before sending"
        SEND_FAILED = "send_failed", "The text could not be sent"

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="recipients")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="+")
    rid = models.CharField(max_length=32, unique=True, help_text="the tracked link's random id")
    department = models.CharField(max_length=100, blank=True, help_text="at launch, for results by department")
    send_after = models.DateTimeField(null=True, blank=True, db_index=True, help_text="the window's next opening")
    skipped = models.CharField(max_length=16, choices=Skipped.choices, default=Skipped.NONE, blank=True)
    delivery_key = models.CharField(max_length=100, blank=True, help_text="the outbox idempotency key")
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["simulation", "id"]
        constraints = [models.UniqueConstraint(fields=["simulation", "employee"], name="training_recipient_unique")]

    def __str__(self) -> str:
        return f"recipient {self.pk} of simulation {self.simulation_id}"


class SimulationEvent(models.Model):
    """One event of a recipient: sent, delivered, clicked, submitted, reported.  No field for anything typed."""

    class Kind(models.TextChoices):
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        CLICKED = "clicked", "Clicked"
        SUBMITTED = "submitted", "Submitted"
        REPORTED = "reported", "Reported"

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # How it was seen: "browser", "sms-forward", "sms-reply", "twilio-status" (never a user agent or a body).
    via = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["recipient", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} of recipient {self.recipient_id}"


class SimulationTally(models.Model):
    """What is left of a simulation's per-person results after the retention period: counts per department."""

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="tallies")
    department = models.CharField(max_length=100, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    submitted = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["simulation", "department"]
        constraints = [models.UniqueConstraint(fields=["simulation", "department"], name="training_tally_unique")]


class SimulationOptOut(models.Model):
    """A phone number that replied STOP to the simulation sender: no more drills to it (real warnings, from the
    reporting number, are not affected).  START to the simulation sender removes the row."""

    phone = models.CharField(max_length=16, unique=True)
    at = models.DateTimeField(default=timezone.now)
