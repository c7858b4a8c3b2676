"""Rate limits kept in the database, so that every worker process and every web worker shares them.

* Sending: each sender (a number, or a Messaging Service SID) may send ``rate`` messages per second.  A send
  reserves the sender's next free slot in one short transaction (row lock on PostgreSQL, the write lock on
  SQLite) and sleeps until it; so N workers together never exceed the rate.
* Inbound: a number that sends more than ``limit`` texts within ``window`` seconds is answered politely and
  not processed (counted from the InboundMessage rows).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from smishguard.messaging.models import InboundMessage, SenderSlot


def reserve_slot(sender: str, rate_per_second: float) -> datetime:
    """Reserve the next send slot of ``sender``; returns when it starts (now, or later when the sender is busy)."""
    if rate_per_second <= 0:
        raise ValueError("rate_per_second must be greater than 0")
    interval = timedelta(seconds=1.0 / rate_per_second)
    for _ in range(3):
        try:
            with transaction.atomic():
                row = SenderSlot.objects.select_for_update().filter(sender=sender).first()
                now = timezone.now()
                if row is None:
                    SenderSlot.objects.create(sender=sender, next_at=now + interval)
                    return now
                slot = max(now, row.next_at)
                row.next_at = slot + interval
                row.save(update_fields=["next_at"])
                return slot
        except IntegrityError:  # another process created the sender's row first: lock it and go on
            continue
    raise RuntimeError(f"cannot reserve a send slot for {sender}")


def wait_for_slot(sender: str, rate_per_second: float) -> datetime:
    """Reserve a slot for ``sender`` and sleep until it starts."""
    slot = reserve_slot(sender, rate_per_second)
    delay = (slot - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)
    return slot


def inbound_flooding(from_number: str, *, limit: int, window_seconds: int, now: datetime | None = None) -> bool:
    """True when ``from_number`` already sent ``limit`` texts or more within the last ``window_seconds``."""
    since = (now or timezone.now()) - timedelta(seconds=window_seconds)
    recent = InboundMessage.objects.filter(from_number=from_number, received_at__gte=since)
    return recent.count() >= limit
