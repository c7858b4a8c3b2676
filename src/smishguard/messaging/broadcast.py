"""Queue texts: one to many employees (``broadcast``) or one to one number (``queue_message``).

Both are idempotent by key: calling them again with the same key creates and sends nothing new.  Rows and
their tasks are written in one transaction (the task queue lives in the same database), so a message is never
recorded without its send being queued, nor queued without being recorded.

With no Twilio account configured (the demo; an install before SMS is set up) nothing is refused: the messages
are recorded as ``waiting`` (waiting for a Twilio account), with no task; once an account is configured the
worker's recovery pass gives each a sender and queues it (:func:`release_waiting`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.messaging.errors import BroadcastConflict, InvalidMessage, ProviderNotConfigured
from smishguard.messaging.models import Broadcast, OutboundMessage
from smishguard.messaging.sending import queue_send

log = logging.getLogger("smishguard.messaging")

MAX_BODY_CHARS = 1600  # Twilio's limit for one message body


def senders() -> tuple[str, ...]:
    """The configured senders: the sending numbers, else the Messaging Service."""
    from django.conf import settings

    config = settings.SMISHGUARD.twilio
    if config.from_numbers:
        return config.from_numbers
    if config.messaging_service_sid:
        return (config.messaging_service_sid,)
    raise ProviderNotConfigured("no sender: set SMISHGUARD_TWILIO_FROM or SMISHGUARD_TWILIO_MESSAGING_SERVICE_SID")


def provider_ready() -> bool:
    """True when a Twilio account and a sender are configured: sends are queued; else they wait for one."""
    from django.conf import settings

    return settings.SMISHGUARD.twilio.configured


def _check(body: str, purpose: str, key: str) -> None:
    if not body or not body.strip():
        raise InvalidMessage("the text is empty")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidMessage(f"the text is longer than {MAX_BODY_CHARS} characters")
    if "\x00" in body:
        raise InvalidMessage("the text contains a NUL character")
    if purpose not in OutboundMessage.Purpose.values:
        raise InvalidMessage(f"unknown purpose {purpose!r}; one of {', '.join(OutboundMessage.Purpose.values)}")
    if not key or len(key) > 200:
        raise InvalidMessage("the key must be 1 to 200 characters")


def _recipients(employees: Iterable[Any]) -> list[Any]:
    """Active employees with a phone number, in a stable order (by primary key)."""
    if isinstance(employees, QuerySet):
        people = list(employees.filter(status="active").exclude(phone="").order_by("pk"))
    else:
        people = sorted((e for e in employees if e.is_active and e.phone), key=lambda e: e.pk)
    return people


def broadcast(
    employees: Iterable[Any],
    body: str,
    *,
    purpose: str,
    batch_key: str,
    actor: Any = None,
    request: Any = None,
) -> Broadcast:
    """Text ``body`` to every active employee with a phone among ``employees`` (a queryset or an iterable).

    One OutboundMessage per employee, with the idempotency key ``f"{batch_key}:{employee.pk}"``, each sent by
    a task on the queue, spread round-robin over the sending numbers and rate-limited per number.  Calling it
    again with the same ``batch_key`` queues only employees not yet in the batch (none, usually); a different
    text or purpose under a used key raises BroadcastConflict.
    """
    _check(body, purpose, batch_key)
    ready = provider_ready()
    numbers = senders() if ready else ("",)
    people = _recipients(employees)
    created_by = getattr(actor, "email", "") or ""
    with transaction.atomic():
        batch, created = Broadcast.objects.get_or_create(
            batch_key=batch_key, defaults={"purpose": purpose, "body": body, "created_by": created_by}
        )
        if not created and (batch.body != body or batch.purpose != purpose):
            raise BroadcastConflict(f"batch key {batch_key!r} was used for a different text", batch_key=batch_key)
        keys = [f"{batch_key}:{person.pk}" for person in people]
        existing = set(
            OutboundMessage.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
        )
        queued = 0
        for index, (person, key) in enumerate(zip(people, keys, strict=True)):
            if key in existing:
                continue
            message = OutboundMessage.objects.create(
                idempotency_key=key,
                employee=person,
                broadcast=batch,
                to=person.phone,
                sender=numbers[index % len(numbers)],
                body=body,
                purpose=purpose,
                status=OutboundMessage.Status.QUEUED if ready else OutboundMessage.Status.WAITING,
            )
            if ready:
                queue_send(message)
            queued += 1
        if queued:
            record(
                Action.MESSAGING_BROADCAST_QUEUED,
                request=request,
                actor=actor,
                actor_label=None if actor is not None or request is not None else "messaging",
                batch_key=batch_key,
                purpose=purpose,
                queued=queued,
                recipients=len(people),
                waiting_for_provider=not ready,
            )
    return batch


def queue_message(
    to: str, body: str, *, purpose: str, idempotency_key: str, employee: Any = None, sender: str | None = None
) -> OutboundMessage:
    """Queue one text to ``to``; with a key used before, returns that message and queues nothing.  With no
    Twilio account configured the message is recorded as waiting for one (see the module's note)."""
    _check(body, purpose, idempotency_key)
    if not to:
        raise InvalidMessage("no recipient")
    ready = provider_ready()
    with transaction.atomic():
        message, created = OutboundMessage.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "to": to,
                "body": body,
                "purpose": purpose,
                "employee": employee,
                "sender": sender or (senders()[0] if ready else ""),
                "status": OutboundMessage.Status.QUEUED if ready else OutboundMessage.Status.WAITING,
            },
        )
        if created and ready:
            queue_send(message)
    return message


def release_waiting() -> int:
    """Sends recorded while no Twilio account was configured: once one is, give each a sender (round robin over
    the sending numbers, as broadcast does) and queue it.  Returns how many were queued; 0 while none is.
    Run by the outbox's recovery pass (the ``sms`` kind's ``before_recover``)."""
    if not provider_ready():
        return 0
    numbers = senders()
    released = 0
    waiting = OutboundMessage.objects.filter(status=OutboundMessage.Status.WAITING).order_by("pk")
    for index, (pk, sender) in enumerate(list(waiting.values_list("pk", "sender"))):
        with transaction.atomic():
            moved = OutboundMessage.objects.filter(pk=pk, status=OutboundMessage.Status.WAITING).update(
                status=OutboundMessage.Status.QUEUED,
                sender=sender or numbers[index % len(numbers)],
                updated_at=timezone.now(),
            )
            if moved:
                queue_send(OutboundMessage.objects.get(pk=pk))
                released += 1
    if released:
        log.info("a Twilio account is configured: queued %d message(s) that were waiting for one", released)
    return released
