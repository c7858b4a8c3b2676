"""Sending a simulation's texts: the outbox kind ``simulation-sms`` (:mod:`smishguard.outbox.queue` runs the
protocol: recorded with an idempotency key before the call, claimed, called, marked; reconciled after a crash).

- **When**: the kind's ``poll`` (run on every pass of ``smishguard worker``) records the send of each recipient of a
  running simulation whose ``send_after`` has come and who is inside the window in their own time zone now (else
  their next opening is set); one delivery per recipient, key ``simulation-<recipient id>``.
- **From**: ``[training] simulation_sender`` only (never the reporting number: a STOP to a drill must not stop real
  warnings), at the Twilio rate (``SMISHGUARD_TWILIO_RATE_PER_SECOND``) through messaging's shared send slots.
- **How**: ``messaging.twilio.send_sms`` (the one wrapper of the SDK).  A pause or a cancel takes back the sends
  recorded and not yet claimed (``simulations._delete_pending_sends``).
- **Delivered**: Twilio's status callback reaches ``messaging``'s view, which tells :func:`on_status` (registered
  with ``messaging.statuses``) of a SID that is not one of its own messages; a callback that came before the send
  was marked is found in ``DeliveryStatus`` when it is (:func:`_on_change`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from smishguard.messaging import statuses, twilio
from smishguard.messaging.errors import InvalidNumber, ProviderNotConfigured, ProviderRefused, ProviderUnavailable
from smishguard.messaging.models import DeliveryStatus
from smishguard.messaging.ratelimit import reserve_slot
from smishguard.messaging.sending import CLOCK_SKEW
from smishguard.outbox import queue, registry
from smishguard.outbox.errors import ReconcileUnavailable, SendFailed
from smishguard.outbox.models import Delivery
from smishguard.training import simulations
from smishguard.training.models import Recipient, Simulation, SimulationEvent

log = logging.getLogger("smishguard.training")

KIND = simulations.SEND_KIND
BATCH = 500  # recipients recorded per poll


def delivery_key(recipient: Recipient) -> str:
    return f"simulation-{recipient.pk}"


def poll(now: datetime | None = None) -> int:
    """Record the sends that are due (see the module's note); returns how many were recorded."""
    now = now or timezone.now()
    due = (
        Recipient.objects.select_related("employee", "simulation")
        .filter(
            simulation__status=Simulation.Status.RUNNING,
            skipped="",
            queued_at__isnull=True,
            sent_at__isnull=True,
            send_after__lte=now,
        )
        .order_by("send_after", "pk")[:BATCH]
    )
    recorded = 0
    for recipient in due:
        simulation = recipient.simulation
        zone = simulations.zone_of(recipient.employee)
        opening = simulations.next_opening(simulation.window_start, simulation.window_end, zone, now)
        if opening > now:  # the window closed before the send was recorded: wait for its next opening
            Recipient.objects.filter(pk=recipient.pk).update(send_after=opening)
            continue
        recorded += _record(recipient, now)
    return recorded


def _record(recipient: Recipient, now: datetime) -> int:
    with transaction.atomic():
        claimed = Recipient.objects.filter(
            pk=recipient.pk, queued_at__isnull=True, simulation__status=Simulation.Status.RUNNING
        ).update(queued_at=now, delivery_key=delivery_key(recipient))
        if not claimed:
            return 0
        body = simulations.render(recipient.simulation.template, recipient.employee, recipient.rid)
        payload = {"to": recipient.employee.phone, "body": body}
        queue.record(KIND, delivery_key(recipient), target_id=recipient.pk, payload=payload)
    return 1


def _sender() -> str:
    return settings.SMISHGUARD.training.simulation_sender


def _pace(delivery: Delivery) -> datetime:  # noqa: ARG001 - the kind's hook shape
    """In the claim's transaction: the simulation sender's next rate-limit slot (shared with every worker)."""
    return reserve_slot(_sender(), settings.SMISHGUARD.twilio.rate_per_second)


def status_callback_url() -> str | None:
    public = settings.SMISHGUARD.twilio.public_url
    return f"{public.rstrip('/')}{reverse('messaging:status')}" if public else None


def _send(delivery: Delivery) -> str:
    """The API call for a claimed send, at its slot; returns Twilio's SID."""
    sender = _sender()
    if not sender:
        raise SendFailed("no [training] simulation_sender", retry=False)
    assert delivery.attempted_at is not None  # noqa: S101 - a claimed delivery has its slot
    delay = (delivery.attempted_at - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)  # an even rate at Twilio (the outbox's pace), as messaging's own sends do
    try:
        return twilio.send_sms(
            str(delivery.payload["to"]), str(delivery.payload["body"]), status_callback_url(), sender=sender
        )
    except (InvalidNumber, ProviderRefused) as exc:
        raise SendFailed(str(exc), retry=False, code=exc.code) from exc
    except ProviderUnavailable as exc:
        raise SendFailed(str(exc), retry=True, in_doubt=True, code=exc.code) from exc
    except ProviderNotConfigured as exc:
        raise SendFailed(str(exc), retry=True) from exc  # no call was made


def _reconcile(delivery: Delivery) -> str | None:
    """Twilio's SID for an in-doubt send if it took effect (same recipient, sender and text, made after the send
    was recorded, and no other of our deliveries has it); None if Twilio has no such message."""
    start = delivery.created_at - CLOCK_SKEW
    end = timezone.now() + CLOCK_SKEW
    to, body = str(delivery.payload["to"]), str(delivery.payload["body"])
    others = Delivery.objects.filter(kind=KIND, created_at__gte=start).exclude(pk=delivery.pk)
    claimed = set(others.exclude(provider_ref="").values_list("provider_ref", flat=True))
    try:
        for query in ({"date_sent_after": start}, {}):
            for listed in twilio.list_messages(to=to, **query):
                created = listed.date_created or listed.date_sent
                if listed.sid in claimed or created is None or not start <= created <= end:
                    continue
                if listed.body == body and listed.from_ in ("", _sender()):
                    return listed.sid
    except ProviderUnavailable as exc:
        raise ReconcileUnavailable(str(exc)) from exc
    return None


def _on_change(delivery: Delivery, change: str, error: Exception | None) -> None:
    """Mirror the outbox's marks onto the recipient: sent (with its event), or the send failed for good."""
    recipient_id = delivery.target_id
    if recipient_id is None:
        return
    recipient = Recipient.objects.filter(pk=recipient_id).only("pk", "simulation_id").first()
    if recipient is None:
        return
    if change == registry.DELIVERED:
        simulations.add_event(recipient_id, SimulationEvent.Kind.SENT, via="twilio")
        # A status callback may have come before this mark (messaging kept it): apply it now.
        if (
            delivery.provider_ref
            and DeliveryStatus.objects.filter(message_sid=delivery.provider_ref, status="delivered").exists()
        ):
            simulations.add_event(recipient_id, SimulationEvent.Kind.DELIVERED, via="twilio-status")
        simulations.finish_if_done(recipient.simulation_id)
    elif change == registry.FAILED:
        Recipient.objects.filter(pk=recipient_id, sent_at__isnull=True).update(skipped=Recipient.Skipped.SEND_FAILED)
        log.warning("simulation text to recipient %s could not be sent: %s", recipient_id, error)
        simulations.finish_if_done(recipient.simulation_id)


def on_status(message_sid: str, status: str, error_code: int | None) -> None:  # noqa: ARG001 - the listener's shape
    """A Twilio status for a SID that is not one of messaging's messages: ``delivered`` marks our recipient."""
    if status != "delivered":
        return
    delivery = Delivery.objects.filter(kind=KIND, provider_ref=message_sid).only("target_id").first()
    if delivery is None or delivery.target_id is None:
        return  # not ours, or the send is not marked yet (then _on_change applies it)
    simulations.add_event(delivery.target_id, SimulationEvent.Kind.DELIVERED, via="twilio-status")


def unfinished() -> int:
    """Simulation sends recorded and not yet done."""
    return queue.unfinished(KIND)


def register() -> None:
    registry.register(
        registry.Kind(
            name=KIND,
            send=_send,
            reconcile=_reconcile,
            max_attempts=lambda: settings.SMISHGUARD.twilio.max_attempts,
            lease_seconds=lambda: float(settings.SMISHGUARD.twilio.send_lease_seconds),
            pace=_pace,
            on_change=_on_change,
            poll=poll,
        )
    )
    statuses.register("training", on_status)
