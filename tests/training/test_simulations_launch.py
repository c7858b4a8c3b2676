"""Launch, pause, resume and cancel, each audited with who did it; a launch above the approval threshold waits for a
second admin (accounts' four-eyes flow: `smishguard employees approve`); no launch without a sender of its own."""

from __future__ import annotations

import pytest
from simulation_fixtures import (  # noqa: F401 - the shared fixtures
    SIMULATION_SENDER,
    configure,
    drills,
    eligible_admin,
    fake,
    people,
    training_settings,
)

from smishguard.accounts import services
from smishguard.accounts.errors import FourEyesRequired
from smishguard.accounts.models import RecoveryRequest
from smishguard.audit import Action
from smishguard.audit.models import Event
from smishguard.cli import main
from smishguard.errors import PermissionDenied
from smishguard.outbox.models import Delivery
from smishguard.training import simulation_sending, simulations
from smishguard.training.errors import SimulationNotReady, SimulationStateConflict
from smishguard.training.models import Recipient, Simulation

TEXT = "Hi {first_name}, your parcel is held: {link}"


def _draft(count: int, people, **kwargs) -> Simulation:  # noqa: F811 - the shared fixtures
    people(count)
    return simulations.create(name="Parcel", group="sales", template=TEXT, **kwargs)


@pytest.mark.django_db
def test_no_launch_without_a_simulation_sender_of_its_own(drills, people, settings) -> None:  # noqa: F811 - the shared fixtures
    simulation = _draft(1, people)
    training_settings(settings, simulation_sender="")
    with pytest.raises(SimulationNotReady, match="no simulation sender"):
        simulations.launch(simulation.pk)
    reporting = settings.SMISHGUARD.twilio.from_numbers[0]
    training_settings(settings, simulation_sender=reporting)
    with pytest.raises(SimulationNotReady, match="is a reporting number"):
        simulations.launch(simulation.pk)
    simulation.refresh_from_db()
    assert simulation.status == Simulation.Status.DRAFT
    assert not Event.objects.filter(action=Action.SIMULATION_LAUNCHED).exists()


@pytest.mark.django_db
def test_a_small_launch_runs_at_once_and_is_audited_with_who_did_it(drills, people) -> None:  # noqa: F811 - the shared fixtures
    ada = eligible_admin("ada@example.com")
    simulation = _draft(3, people, window="00:00-23:59")
    outcome = simulations.launch(simulation.pk, actor=ada)
    assert outcome.launched
    assert outcome.recipients == 3
    simulation.refresh_from_db()
    assert (simulation.status, simulation.launched_by, simulation.approved_by) == ("running", ada.email, "")
    assert Recipient.objects.filter(simulation=simulation, send_after__isnull=False).count() == 3
    event = Event.objects.get(action=Action.SIMULATION_LAUNCHED)
    assert event.actor_label == ada.email
    assert (event.detail["recipients"], event.detail["sender"]) == (3, SIMULATION_SENDER)
    with pytest.raises(SimulationStateConflict, match="not a draft"):
        simulations.launch(simulation.pk, actor=ada)


@pytest.mark.django_db
def test_a_launch_to_more_than_the_threshold_waits_for_a_second_admin(drills, people, settings, capsys) -> None:  # noqa: F811 - the shared fixtures
    training_settings(settings, approval_threshold=2)
    ada = eligible_admin("ada@example.com")
    sam = eligible_admin("sam@example.com")
    simulation = _draft(3, people)

    with pytest.raises(PermissionDenied, match="needs a second admin"):
        simulations.launch(simulation.pk)  # the CLI without --as: nobody to ask in the name of
    outcome = simulations.launch(simulation.pk, actor=ada)
    assert not outcome.launched
    simulation.refresh_from_db()
    assert simulation.status == Simulation.Status.AWAITING_APPROVAL
    rec = RecoveryRequest.objects.get(pk=outcome.request_id)
    assert (rec.kind, rec.employee, rec.requested_by, rec.status) == ("sim_launch", ada, ada, "pending")
    assert rec.kind_label == simulations.LAUNCH_LABEL
    assert f"employees approve {rec.pk} --as" in outcome.message()
    assert Event.objects.filter(action=Action.SIMULATION_LAUNCH_REQUESTED, actor_label=ada.email).count() == 1
    assert not Delivery.objects.exists()

    # A second launch of another simulation by the same admin is a request of its own.
    other = simulations.create(name="Other", group="sales", template=TEXT)
    second = simulations.launch(other.pk, actor=ada)
    assert second.request_id != rec.pk

    with pytest.raises(FourEyesRequired, match="they asked for it"):
        services.approve(rec.pk, approver=ada)
    assert main(["employees", "approve", str(rec.pk), "--as", sam.email]) == 0
    assert f"simulation {simulation.pk} (Parcel) is launched to 3 recipient(s)" in capsys.readouterr().out
    simulation.refresh_from_db()
    assert (simulation.status, simulation.launched_by, simulation.approved_by) == ("running", ada.email, sam.email)
    launched = Event.objects.get(action=Action.SIMULATION_LAUNCHED)
    assert (launched.actor_label, launched.detail["approved_by"]) == (sam.email, sam.email)

    # Cancelled while waiting: its request is refused (by whoever cancelled), and an approval launches nothing.
    simulations.cancel(other.pk, actor=ada)
    refused = RecoveryRequest.objects.get(pk=second.request_id)
    assert (refused.status, refused.decided_by) == ("refused", ada)
    assert main(["employees", "approve", str(second.request_id), "--as", sam.email]) != 0
    assert "is already refused" in capsys.readouterr().err
    assert Simulation.objects.get(pk=other.pk).status == Simulation.Status.CANCELLED


@pytest.mark.django_db
def test_pause_takes_back_unsent_texts_resume_sends_them_and_cancel_skips_the_rest(drills, people) -> None:  # noqa: F811 - the shared fixtures
    ada = eligible_admin("ada@example.com")
    simulation = _draft(3, people)
    simulations.launch(simulation.pk, actor=ada)
    assert simulation_sending.poll() == 3
    assert simulation_sending.poll() == 0  # recorded once: one delivery per recipient, keyed by it
    keys = set(Delivery.objects.values_list("key", flat=True))
    assert keys == {f"simulation-{pk}" for pk in Recipient.objects.values_list("pk", flat=True)}

    simulations.pause(simulation.pk, actor=ada)
    assert not Delivery.objects.exists()  # none was claimed: each is taken back
    assert Recipient.objects.filter(queued_at__isnull=True).count() == 3
    assert simulation_sending.poll() == 0  # paused: nothing is recorded
    with pytest.raises(SimulationStateConflict, match="cannot be paused"):
        simulations.pause(simulation.pk)

    simulations.resume(simulation.pk, actor=ada)
    assert simulation_sending.poll() == 3
    assert Delivery.objects.count() == 3

    simulations.cancel(simulation.pk, actor=ada)
    assert Recipient.objects.filter(skipped="cancelled").count() == 3
    assert not Delivery.objects.exists()
    with pytest.raises(SimulationStateConflict, match="cannot be resumed"):
        simulations.resume(simulation.pk)

    rows = Event.objects.filter(action__startswith="training:simulation:").order_by("id")
    actions = list(rows.values_list("action", "actor_label"))
    assert actions == [
        (Action.SIMULATION_CREATED, "cli:" + actions[0][1].split(":", 1)[1]),
        (Action.SIMULATION_LAUNCHED, ada.email),
        (Action.SIMULATION_PAUSED, ada.email),
        (Action.SIMULATION_RESUMED, ada.email),
        (Action.SIMULATION_CANCELLED, ada.email),
    ]
