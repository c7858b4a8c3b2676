"""Issue 16 in the demo: `smishguard demo` shows the awareness feature without setup — two demo employees in the
simulation programme's group, the bundled smishing module assigned to everyone due a week ahead, and one draft
simulation made from a template (never launched: no texts without Twilio); a second start changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from smishguard.accounts.models import Employee
from smishguard.audit.models import Event
from smishguard.demo import DEMO_DRILL_NAME, DEMO_DRILL_PEOPLE, DEMO_MODULE, seed_demo
from smishguard.outbox.models import Delivery
from smishguard.training import simulations
from smishguard.training.models import Assignment, Module, Recipient, Simulation


def _snapshot() -> dict[str, object]:
    return {
        "assignments": sorted(Assignment.objects.values_list("employee_id", "module_id", "due_at", "completed_at")),
        "simulations": sorted(Simulation.objects.values_list("pk", "name", "status")),
        "recipients": sorted(Recipient.objects.values_list("simulation_id", "employee_id", "rid", "skipped")),
        "groups": sorted(Employee.objects.values_list("email", "groups__name")),
        # (not every event: each start issues the demo admin a fresh enrolment link while they have no key)
        "training_events": Event.objects.filter(action__startswith="training:").count(),
        "employee_updates": Event.objects.filter(action="accounts:employee:updated").count(),
    }


def test_the_demo_assigns_the_smishing_module_to_everyone_due_in_a_week(db):
    before = timezone.now()
    seed_demo()
    after = timezone.now()
    module = Module.objects.get(slug=DEMO_MODULE)
    active = set(Employee.objects.filter(status=Employee.Status.ACTIVE).values_list("pk", flat=True))
    assert len(active) >= 10
    rows = Assignment.objects.filter(module=module)
    assert set(rows.values_list("employee_id", flat=True)) == active
    for row in rows:
        assert row.completed_at is None
        assert before + timedelta(days=7) <= row.due_at <= after + timedelta(days=7)
        assert row.assigned_by == "demo"
    assert Event.objects.filter(action="training:assignment:created").count() == len(active)


def test_the_demo_puts_two_employees_in_the_programme_and_drafts_a_drill(db):
    seed_demo()
    programme = settings.SMISHGUARD.training.programme_group
    members = set(Employee.objects.filter(groups__name=programme).values_list("email", flat=True))
    assert members == set(DEMO_DRILL_PEOPLE)
    carl = Employee.objects.get(email="carl.support@example.com")
    assert set(carl.groups.values_list("name", flat=True)) == {"support", "customer-data", programme}

    drill = Simulation.objects.get(name=DEMO_DRILL_NAME)
    assert drill.status == Simulation.Status.DRAFT
    assert drill.launched_at is None
    assert drill.group.name == programme
    assert simulations.window_text(drill) == "09:00-17:00"
    assert simulations.check_template(drill.template) == drill.template  # a template the app accepts
    recipients = Recipient.objects.filter(simulation=drill)
    assert sorted(r.employee.email for r in recipients) == sorted(DEMO_DRILL_PEOPLE)
    assert all(r.skipped == "" and r.rid for r in recipients)  # enrolled, with a phone: ready to launch
    assert all(r.send_after is None and r.queued_at is None and r.sent_at is None for r in recipients)
    assert not Delivery.objects.filter(kind=simulations.SEND_KIND).exists()  # nothing texted
    assert Event.objects.filter(action="training:simulation:created").count() == 1
    text = simulations.render(drill.template, carl, recipients.get(employee=carl).rid)
    assert text.startswith(f"{simulations.company()} IT: hi Carl, ")
    assert f"/s/{recipients.get(employee=carl).rid}" in text


def test_a_second_demo_start_changes_nothing(db):
    seed_demo()
    first = _snapshot()
    seed_demo()
    assert _snapshot() == first


def test_a_demo_whose_admin_removed_the_drill_people_from_the_programme_keeps_it_so(db):
    seed_demo()
    programme = settings.SMISHGUARD.training.programme_group
    eli = Employee.objects.get(email="eli.sales@example.com")
    eli.groups.remove(*eli.groups.filter(name=programme))
    seed_demo()  # the drill exists: the demo does not put Eli back
    assert not Employee.objects.filter(email=eli.email, groups__name=programme).exists()
    assert Simulation.objects.filter(name=DEMO_DRILL_NAME).count() == 1


def test_a_new_employee_after_the_first_start_is_assigned_on_the_next(db):
    seed_demo()
    from smishguard.accounts import services

    nora = services.add_employee(email="nora.new@example.com", name="Nora Newhire")
    assert not Assignment.objects.filter(employee=nora).exists()
    seed_demo()
    assignment = Assignment.objects.get(employee=nora, module__slug=DEMO_MODULE)
    assert assignment.due_at > timezone.now() + timedelta(days=6)
