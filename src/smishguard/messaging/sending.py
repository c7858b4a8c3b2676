"""Sending an SMS through Twilio: the outbox kind ``sms`` (:mod:`smishguard.outbox.queue` runs the protocol).

1. A send is recorded (``OutboundMessage`` and its outbox delivery, key ``sms-<message id>``) before any call.
2. The outbox claims it (``queued -> sending`` here, mirrored from the outbox; ``attempted_at`` is its rate-limit
   slot, reserved in the claim's transaction by :func:`_pace`), committed BEFORE the API call: two workers can
   never both claim it.  The call waits for the slot, then asks Twilio.
3. The mark: ``sending -> sent`` with Twilio's message SID (or ``failed`` with Twilio's error code).

A process that dies between 2 and 3 leaves the message in ``sending``.  Once that row is older than the send
lease (``SMISHGUARD_TWILIO_SEND_LEASE_SECONDS``, longer than the HTTP timeout, so no live worker can still be
in the call) it is *in doubt*, and before anything else it is reconciled against Twilio's list of messages for
that recipient (time window, and the same text): found -> marked sent with that SID; not found -> queued again
and sent.  So a restart neither loses nor repeats a message.  A 5xx or a network failure leaves the message in
``sending`` too (the request may have taken effect) and the outbox retries after the lease, which reconciles.
"""

from __future__ import annotations

import logging
import os
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.config import TwilioSettings
from smishguard.messaging import twilio
from smishguard.messaging.errors import InvalidNumber, ProviderRefused, ProviderUnavailable
from smishguard.messaging.models import DeliveryStatus, OutboundMessage
from smishguard.messaging.ratelimit import reserve_slot
from smishguard.outbox import queue, registry
from smishguard.outbox.errors import ReconcileUnavailable, SendFailed
from smishguard.outbox.models import Delivery

log = logging.getLogger("smishguard.messaging")

Status = OutboundMessage.Status

KIND = "sms"

# Clock difference allowed between us and Twilio when matching a listed message to a send.
CLOCK_SKEW = timedelta(minutes=5)

# Fault-injection hook for the crash test (tests/messaging/test_messaging_crash.py), OFF unless set: with
# SMISHGUARD_TEST_CRASH_AFTER_SEND=N the process exits abruptly (os._exit, like kill -9) right after its Nth
# successful provider call returns and before the message is marked sent.  Never set it in production.
CRASH_AFTER_SEND_ENV = "SMISHGUARD_TEST_CRASH_AFTER_SEND"
_provider_calls = 0


def _after_provider_call() -> None:
    global _provider_calls  # noqa: PLW0603 - a per-process counter for the fault-injection hook
    limit = os.environ.get(CRASH_AFTER_SEND_ENV)
    if not limit:
        return
    _provider_calls += 1
    if _provider_calls >= int(limit):
        log.warning("fault injection: exiting after provider call %d, before the mark", _provider_calls)
        os._exit(137)


def _config() -> TwilioSettings:
    from django.conf import settings

    return settings.SMISHGUARD.twilio


def status_callback_url(message: OutboundMessage, config: TwilioSettings | None = None) -> str | None:
    """Where Twilio posts delivery statuses for ``message``: only when SMISHGUARD_PUBLIC_URL is set."""
    config = config or _config()
    if not config.public_url:
        return None
    return f"{config.public_url}{reverse('messaging:status')}?m={message.pk}"


def _fold(text: str) -> str:
    """Text compared loosely: Twilio's smart encoding may turn dashes and quotes into ASCII ones."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(ch for ch in decomposed if (ch.isascii() and ch.isalnum()) or ch.isspace()).split())


def find_at_provider(message: OutboundMessage) -> twilio.ProviderMessage | None:
    """The message Twilio holds for this send, if the API call took effect: same recipient, same text, made
    after the message was created (less clock skew) and not already the SID of another of our messages."""
    start = message.created_at - CLOCK_SKEW
    end = timezone.now() + CLOCK_SKEW
    claimed = set(
        OutboundMessage.objects.filter(to=message.to, provider_sid__isnull=False)
        .exclude(pk=message.pk)
        .values_list("provider_sid", flat=True)
    )
    wanted = _fold(message.body)
    # First by date sent (Twilio filters by day); then the most recent without it, since a message Twilio
    # has accepted but not yet sent has no date_sent and the first query cannot see it.
    for query in ({"date_sent_after": start}, {}):
        for listed in twilio.list_messages(to=message.to, **query):
            created = listed.date_created or listed.date_sent
            if listed.sid in claimed or created is None or not start <= created <= end:
                continue
            if _fold(listed.body) == wanted:
                return listed
    return None


def _mark_sent(message: OutboundMessage, sid: str) -> None:
    now = timezone.now()
    OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT, provider_sid=sid, sent_at=now, updated_at=now, error_code=None, error_message=""
    )
    # A status callback may have arrived before the mark: link it and apply it now.
    early = DeliveryStatus.objects.filter(message_sid=sid)
    early.filter(message__isnull=True).update(message=message)
    for status in early.values_list("status", flat=True):
        apply_status(message.pk, status, None)


# How far along each status is: callbacks only ever move a message forward.
_RANK = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.UNDELIVERED: 3,
    Status.FAILED: 3,
}


def apply_status(message_id: int, provider_status: str, error_code: int | None) -> bool:
    """Move a sent message to Twilio's reported status (sent / delivered / undelivered / failed) if it is later."""
    try:
        new = Status(provider_status)
    except ValueError:
        return False  # accepted, queued, sending, read, ...: recorded, but not a state of ours
    if new in (Status.QUEUED, Status.SENDING):
        return False
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None or message.status not in (Status.SENT, Status.DELIVERED) or _RANK[new] <= _RANK[message.status]:
        return False
    changes: dict[str, object] = {"status": new, "updated_at": timezone.now()}
    if error_code is not None:
        changes["error_code"] = error_code
    return bool(OutboundMessage.objects.filter(pk=message_id, status=message.status).update(**changes))


def queue_send(message: OutboundMessage) -> None:
    """Record the send of a queued ``message`` in the outbox (in the caller's transaction)."""
    queue.record(KIND, f"sms-{message.pk}", target_id=message.pk)


def _message(delivery: Delivery) -> OutboundMessage:
    return OutboundMessage.objects.select_related("employee").get(pk=delivery.target_id)


def _pace(delivery: Delivery) -> datetime:
    """In the claim's transaction: the sender's next rate-limit slot, the moment of the API call."""
    message = OutboundMessage.objects.get(pk=delivery.target_id)
    return reserve_slot(message.sender, _config().rate_per_second)


def _send(delivery: Delivery) -> str:
    """The API call for a claimed send, at its slot; returns Twilio's SID."""
    config = _config()
    message = _message(delivery)
    assert delivery.attempted_at is not None  # noqa: S101 - a claimed delivery has its slot
    delay = (delivery.attempted_at - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)  # no database work between the end of the wait and the call: an even rate at Twilio
    try:
        sid = twilio.send_sms(
            message.to, message.body, status_callback_url(message, config), sender=message.sender or None
        )
    except (InvalidNumber, ProviderRefused) as exc:
        raise SendFailed(str(exc), retry=False, code=exc.code) from exc
    except ProviderUnavailable as exc:
        raise SendFailed(str(exc), retry=True, in_doubt=True, code=exc.code) from exc
    _after_provider_call()
    return sid


def _reconcile(delivery: Delivery) -> str | None:
    """Twilio's SID for an in-doubt send if it took effect; None if Twilio has no such message."""
    try:
        found = find_at_provider(_message(delivery))
    except ProviderUnavailable as exc:
        raise ReconcileUnavailable(str(exc)) from exc
    return None if found is None else found.sid


def _on_change(delivery: Delivery, change: str, error: Exception | None) -> None:
    """Mirror the outbox's state onto the message (its status is what the console and the API show)."""
    rows = OutboundMessage.objects.filter(pk=delivery.target_id)
    now = timezone.now()
    if change == registry.CLAIMED:
        rows.update(
            status=Status.SENDING, attempted_at=delivery.attempted_at, attempts=delivery.attempts, updated_at=now
        )
    elif change == registry.REQUEUED:
        rows.filter(status=Status.SENDING).update(status=Status.QUEUED, updated_at=now)
    elif change == registry.DELIVERED:
        message = rows.first()
        if message is not None:
            _mark_sent(message, delivery.provider_ref)
    elif change == registry.RETRY:
        rows.update(error_code=getattr(error, "code", None), error_message=str(error)[:500], updated_at=now)
    elif change == registry.FAILED:
        message = rows.select_related("employee").first()
        if message is not None:
            _mark_failed(message, error)


def _mark_failed(message: OutboundMessage, exc: Exception | None) -> None:
    code = getattr(exc, "code", None)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED, error_code=code, error_message=str(exc)[:500], updated_at=timezone.now()
    )
    record(
        Action.MESSAGING_SMS_FAILED,
        actor_label="messaging",
        subject=message.employee,
        subject_label=message.employee.email if message.employee else message.to,
        message_id=message.pk,
        to=message.to,
        purpose=message.purpose,
        error_code=code,
        error=str(exc)[:200],
    )


def register(*, before_recover: Callable[[], object]) -> None:
    """The ``sms`` kind (MessagingConfig.ready()); ``before_recover`` queues the sends that waited for an account."""
    registry.register(
        registry.Kind(
            name=KIND,
            send=_send,
            reconcile=_reconcile,
            max_attempts=lambda: _config().max_attempts,
            lease_seconds=lambda: float(_config().send_lease_seconds),
            pace=_pace,
            on_change=_on_change,
            before_recover=before_recover,
        )
    )
