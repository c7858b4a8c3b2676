"""The send protocol: record, call, mark; and reconcile what a crash leaves in between.

1. A send is claimed by a conditional update ``queued -> sending`` (``attempted_at`` set to its rate-limit
   slot, ``attempts`` + 1), committed BEFORE the API call: two workers can never both claim it.
2. The API call.
3. The mark: ``sending -> sent`` with Twilio's message SID (or ``failed`` with Twilio's error code).

A process that dies between 2 and 3 leaves the message in ``sending``.  Once that row is older than the send
lease (``SMISHGUARD_TWILIO_SEND_LEASE_SECONDS``, longer than the HTTP timeout, so no live worker can still be
in the call) it is *in doubt*, and before anything else it is reconciled against Twilio's list of messages for
that recipient (time window, and the same text): found -> marked sent with that SID; not found -> queued again
and sent.  So a restart neither loses nor repeats a message.  A 5xx or a network failure leaves the message in
``sending`` too (the request may have taken effect) and schedules a retry after the lease, which reconciles.
"""

from __future__ import annotations

import logging
import os
import time
import unicodedata
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.config import TwilioSettings
from smishguard.messaging import twilio
from smishguard.messaging.errors import InvalidNumber, ProviderRefused, ProviderUnavailable
from smishguard.messaging.models import DeliveryStatus, OutboundMessage
from smishguard.messaging.ratelimit import reserve_slot

log = logging.getLogger("smishguard.messaging")

Status = OutboundMessage.Status

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


def in_doubt(message: OutboundMessage, *, now: datetime | None = None, config: TwilioSettings | None = None) -> bool:
    """A ``sending`` row that no live worker can still be sending (older than the send lease)."""
    config = config or _config()
    if message.status != Status.SENDING or message.attempted_at is None:
        return False
    return message.attempted_at <= (now or timezone.now()) - timedelta(seconds=config.send_lease_seconds)


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


def reconcile(message: OutboundMessage) -> bool:
    """Settle an in-doubt send with Twilio.  True: it was sent (now marked); False: it was not (queued again).

    Raises ProviderUnavailable when Twilio cannot be asked; the message then stays in doubt.
    """
    found = find_at_provider(message)
    if found is not None:
        log.info("reconciled message %s: Twilio has it as %s", message.pk, found.sid)
        _mark_sent(message, found.sid)
        return True
    log.info("reconciled message %s: Twilio has no such message; sending again", message.pk)
    OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED, updated_at=timezone.now()
    )
    return False


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


class _Taken(Exception):
    """Another worker claimed the message first."""


def deliver(message_id: int) -> str:
    """Send one queued message, following the protocol above.  Returns what happened (for the task result)."""
    config = _config()
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return "missing"
    if message.status == Status.SENDING:
        if not in_doubt(message, config=config):
            return "in_flight"  # another worker is in the API call; the recovery pass looks again later
        try:
            if reconcile(message):
                return "reconciled"
        except ProviderUnavailable as exc:
            _retry_later(message, exc, config)
            return "provider_unavailable"
        message.refresh_from_db()
    if message.status != Status.QUEUED:
        return message.status

    # The claim and the sender's rate slot in one transaction; attempted_at is the slot, the moment of the API
    # call, so the row only becomes "in doubt" a lease after the call started, however long the wait.
    try:
        with transaction.atomic():
            slot = reserve_slot(message.sender, config.rate_per_second)
            claimed = OutboundMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(
                status=Status.SENDING, attempted_at=slot, attempts=F("attempts") + 1, updated_at=timezone.now()
            )
            if not claimed:
                raise _Taken
    except _Taken:
        return "taken"  # another worker claimed it between our read and our update (its slot is not used)
    message.refresh_from_db()
    delay = (slot - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)  # no database work between the end of the wait and the call: an even rate at Twilio
    try:
        sid = twilio.send_sms(
            message.to, message.body, status_callback_url(message, config), sender=message.sender or None
        )
    except (InvalidNumber, ProviderRefused) as exc:
        _mark_failed(message, exc)
        return "failed"
    except ProviderUnavailable as exc:
        _retry_later(message, exc, config)
        return "provider_unavailable"
    _after_provider_call()
    _mark_sent(message, sid)
    return "sent"


def _mark_failed(message: OutboundMessage, exc: Exception) -> None:
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


def _retry_later(message: OutboundMessage, exc: Exception, config: TwilioSettings) -> None:
    """Twilio could not be reached (or failed): the send is in doubt; try again (reconciling) after the lease."""
    message.refresh_from_db()
    if message.attempts >= config.max_attempts:
        # Give up only when Twilio positively has no such message; otherwise the next recovery pass retries.
        try:
            found = find_at_provider(message)
        except ProviderUnavailable:
            found = None
        else:
            if found is None:
                _mark_failed(message, exc)
                return
        if found is not None:
            _mark_sent(message, found.sid)
            return
    OutboundMessage.objects.filter(pk=message.pk).update(
        error_code=getattr(exc, "code", None), error_message=str(exc)[:500], updated_at=timezone.now()
    )
    from smishguard.messaging.tasks import enqueue_delivery

    run_after = timezone.now() + timedelta(seconds=config.send_lease_seconds)
    enqueue_delivery(message, run_after=run_after)
