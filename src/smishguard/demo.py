"""The demo organisation that ``smishguard demo`` creates on first run (idempotent on later runs)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from smishguard.accounts import services
from smishguard.accounts.models import Employee

DEMO_ADMIN = "admin@example.com"
DEMO_SECOND_ADMIN = "sam.second@example.com"

# Awareness (issue 16) without setup: who is in the simulation programme, the module everyone is assigned, and a
# draft drill (never launched by the demo: a launch needs a Twilio account and a sender of its own).
DEMO_DRILL_PEOPLE = ("carl.support@example.com", "eli.sales@example.com")
DEMO_MODULE = "smishing"  # the bundled module (training/content/smishing)
DEMO_MODULE_DUE_DAYS = 7
DEMO_DRILL_NAME = "Password expiry (IT lure)"
DEMO_DRILL_TEXT = "{company} IT: hi {first_name}, your password expires today. Keep your access at {link}"
DEMO_DRILL_WINDOW = "09:00-17:00"

DEMO_PEOPLE = [
    # email, name, phone, department, groups, admin
    (DEMO_ADMIN, "Ada Admin", "+14155550100", "Security", ["security-team"], True),
    (DEMO_SECOND_ADMIN, "Sam Second", "+14155550101", "Security", ["security-team"], True),
    ("ivy.ops@example.com", "Ivy Ops", "+14155550102", "IT", ["it"], False),
    (
        "carl.support@example.com",
        "Carl Support",
        "+14155550103",
        "Support",
        ["support", "customer-data"],
        False,
    ),
    (
        "dana.support@example.com",
        "Dana Support",
        "+14155550104",
        "Support",
        ["support", "customer-data"],
        False,
    ),
    ("eli.sales@example.com", "Eli Sales", "+14155550105", "Sales", ["sales"], False),
    ("fay.finance@example.com", "Fay Finance", "+14155550106", "Finance", ["finance"], False),
    ("gus.eng@example.com", "Gus Engineer", "+14155550107", "Engineering", ["engineering"], False),
    ("hana.eng@example.com", "Hana Engineer", "+14155550108", "Engineering", ["engineering"], False),
    ("ian.hr@example.com", "Ian People", "+14155550109", "People", ["hr"], False),
]


def seed_demo() -> services.IssuedLink | None:
    """Create the demo people if missing; return a fresh enrolment link for the admin if they have no key."""
    for email, name, phone, department, groups, admin in DEMO_PEOPLE:
        if not Employee.objects.filter(email=email).exists():
            services.add_employee(
                email=email, name=name, phone=phone, department=department, groups=groups, is_admin=admin
            )
    from smishguard.detection.models import Brand
    from smishguard.detection.services import save_brand

    if not Brand.objects.exists():
        # The demo company's own brand, and the identity provider its staff sign in with elsewhere.
        save_brand(name="Example", domains=["example.com"], tokens=["examplecorp"])
        save_brand(name="Okta", domains=["okta.com", "oktacdn.com"])
    date_second_admin()
    seed_training()
    admin = Employee.objects.get(email=DEMO_ADMIN)
    if admin.credentials.filter(revoked_at__isnull=True).exists() or admin.status != Employee.Status.ACTIVE:
        return None
    issued = services.invite(admin)
    return issued if isinstance(issued, services.IssuedLink) else None


def seed_training() -> None:
    """The awareness pages show something on a first start, each part made through the training app if missing:

    - the bundled ``smishing`` module assigned to every active employee who has no assignment of it and is not
      current on it, due in a week;
    - a draft simulation from a template to ``[training] programme_group``, with two demo employees put in that
      group first (the programme's members).  Not launched: a launch would text real phones through Twilio.

    A second start finds the assignments and the drill (by its name) and changes nothing."""
    from smishguard.training import compliance, simulations
    from smishguard.training.models import Assignment, Module, Simulation

    module = Module.objects.filter(slug=DEMO_MODULE, archived_at__isnull=True).first()
    if module is not None:
        missing = [
            person
            for person in compliance.active_employees().exclude(
                pk__in=Assignment.objects.filter(module=module).values("employee")
            )
            if not compliance.is_current(person, module)
        ]
        if missing:
            compliance.assign_to(
                module, missing, due_at=timezone.now() + timedelta(days=DEMO_MODULE_DUE_DAYS), assigned_by="demo"
            )
    if Simulation.objects.filter(name=DEMO_DRILL_NAME).exists():
        return
    programme = settings.SMISHGUARD.training.programme_group
    for person in Employee.objects.filter(email__in=DEMO_DRILL_PEOPLE, status=Employee.Status.ACTIVE):
        groups = list(person.groups.values_list("name", flat=True))
        if programme not in groups:
            services.update_employee(
                person,
                name=person.name,
                phone=person.phone,
                department=person.department,
                groups=[*groups, programme],
            )
    simulations.create(name=DEMO_DRILL_NAME, group=programme, template=DEMO_DRILL_TEXT, window=DEMO_DRILL_WINDOW)


def date_second_admin() -> None:
    """Date the demo's second admin's rights and keys past the four-eyes waiting age, so that every four-eyes
    flow can be tried at once: Sam can approve what Ada asks.  A demo shortcut, on every demo start, for this
    one demo account only (a real admin waits ``[approvals] min_age_days``)."""
    sam = Employee.objects.filter(email=DEMO_SECOND_ADMIN, is_admin=True).first()
    if sam is None:
        return
    past = timezone.now() - timedelta(days=settings.SMISHGUARD.approvals.min_age_days + 1)
    if sam.admin_granted_at is None or sam.admin_granted_at > past:
        Employee.objects.filter(pk=sam.pk).update(admin_granted_at=past)
    sam.credentials.filter(revoked_at__isnull=True, created_at__gt=past).update(created_at=past)


def _date_on_enrolment(instance, created: bool, **_: object) -> None:
    if created and instance.employee.email == DEMO_SECOND_ADMIN:
        transaction.on_commit(date_second_admin)


def keep_second_admin_eligible() -> None:
    """While the demo serves, date the second admin's key past the waiting age the moment it is enrolled, so Sam
    can approve at once without a restart of the demo (connected in the demo's process before its workers fork)."""
    from smishguard.passkeys.models import Credential

    post_save.connect(_date_on_enrolment, sender=Credential, dispatch_uid="smishguard.demo.second_admin")


def stop_keeping_second_admin_eligible() -> None:
    from smishguard.passkeys.models import Credential

    post_save.disconnect(sender=Credential, dispatch_uid="smishguard.demo.second_admin")


def second_admin_link() -> services.IssuedLink | None:
    """A fresh enrolment link for the demo's second admin while they have no key (the demo prints it)."""
    sam = Employee.objects.filter(email=DEMO_SECOND_ADMIN).first()
    if sam is None or sam.status != Employee.Status.ACTIVE or sam.credentials.filter(revoked_at__isnull=True).exists():
        return None
    issued = services.invite(sam)
    return issued if isinstance(issued, services.IssuedLink) else None
