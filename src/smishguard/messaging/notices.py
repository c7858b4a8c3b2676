"""Security notices by SMS: the receiver of ``accounts.signals.security_notice``.

Lower layers (accounts, passkeys) send the signal; this receiver queues one text through the one sending path
(``broadcast.queue_message``, idempotent by key, recorded with its task in the sender's transaction) and
records in the audit trail that the notice was queued (waiting for a Twilio account when none is configured:
the worker sends it once one is), or why it was not (no phone number, an unusable text).
"""

from __future__ import annotations

import logging
from typing import Any

from smishguard.audit import Action, record
from smishguard.messaging.broadcast import queue_message
from smishguard.messaging.errors import InvalidMessage, ProviderNotConfigured
from smishguard.messaging.models import OutboundMessage

log = logging.getLogger("smishguard.messaging")


def _mask(number: str) -> str:
    return f"…{number[-4:]}" if len(number) > 4 else "…"


def send_security_notice(
    sender: Any,  # noqa: ARG001 - a signal receiver's signature
    *,
    employee: Any,
    body: str,
    key: str,
    kind: str,
    to: str | None = None,
    request: Any = None,
    **_: Any,
) -> str:
    number = to if to is not None else employee.phone
    if not number:
        record(Action.SECURITY_NOTICE_SKIPPED, request=request, subject=employee, kind=kind, reason="no phone number")
        return "skipped: no phone number"
    try:
        message = queue_message(
            number, body, purpose=OutboundMessage.Purpose.NOTICE, idempotency_key=f"notice:{key}", employee=employee
        )
    except (ProviderNotConfigured, InvalidMessage) as exc:
        log.warning("security notice %s for employee %s not queued: %s", kind, employee.pk, exc)
        record(
            Action.SECURITY_NOTICE_SKIPPED,
            request=request,
            subject=employee,
            kind=kind,
            to=_mask(number),
            reason=str(exc)[:200],
        )
        return f"skipped: {exc}"
    record(
        Action.SECURITY_NOTICE_QUEUED,
        request=request,
        subject=employee,
        kind=kind,
        to=_mask(number),
        message_id=message.pk,
        waiting_for_provider=message.status == OutboundMessage.Status.WAITING,
    )
    return "queued"


def connect() -> None:
    from smishguard.accounts.signals import security_notice

    security_notice.connect(send_security_notice, dispatch_uid="messaging-security-notice")
