"""The compliance area's registrations with lower apps (called from hooks.register_all): new employees get
``[training] new_employee_modules`` (``accounts.signals.employee_created``), the gateway's ``training``
requirement (``gateway.requirements``: no overdue open assignment), and the console's Compliance page."""

from __future__ import annotations

from smishguard.training.nav import NAV_SECTION


def _new_employee(employee, **_kwargs) -> None:
    from smishguard.training import compliance

    compliance.assign_new_employee(employee)


def _trained(employee_id: int) -> bool:
    from smishguard.training import compliance

    return not compliance.is_overdue(employee_id)


def _where_to_learn(employee_id: int) -> str:
    """Where the gateway's refusal sends an overdue employee: the page of the module overdue the longest (its
    quiz is one click on), else their training pages."""
    from django.urls import reverse

    from smishguard.training import compliance

    slug = compliance.first_overdue_slug(employee_id)
    return reverse("learn:module", args=[slug]) if slug else reverse("learn:index")


def register() -> None:
    from smishguard.accounts.signals import employee_created
    from smishguard.gateway import requirements

    employee_created.connect(_new_employee, dispatch_uid="training.compliance.new_employee")
    requirements.register(requirements.TRAINING, _trained, reason="training_overdue", url=_where_to_learn)
    _nav()


def _nav() -> None:
    from smishguard.accounts import nav
    from smishguard.training.compliance_views import overdue_count

    nav.register(
        "training-compliance",
        label="Compliance",
        url_name="compliance:table",
        section=NAV_SECTION,
        order=20,
        badge=overdue_count,
    )
