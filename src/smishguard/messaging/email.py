"""E-mail through the outbox (kind ``email``), on Django's mail framework.

An app above records one e-mail with :func:`queue_email` inside the transaction that makes it owed (training's
reminders do); the worker sends it with the configured backend (SMTP: ``SMISHGUARD_EMAIL_HOST`` and friends,
settings.py), retries a failure with back-off, and the audit trail gets ``messaging:email:sent`` or
``messaging:email:failed`` naming the recipient's address (never the body).  SMTP has no way to ask whether a
message sent before a crash arrived, so a call in doubt is made again: an e-mail is delivered at least once.
"""

from __future__ import annotations

import smtplib
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from smishguard.audit import Action, record
from smishguard.outbox import queue, registry
from smishguard.outbox.errors import SendFailed
from smishguard.outbox.models import Delivery

KIND = "email"
MAX_ATTEMPTS = 6


def configured() -> bool:
    """Whether e-mail can be sent: a host for SMTP, or any other backend (locmem in the tests, console)."""
    return bool(settings.EMAIL_HOST) or not settings.EMAIL_BACKEND.endswith("smtp.EmailBackend")


def queue_email(
    to: str, subject: str, body: str, *, key: str, from_email: str, subject_label: str = ""
) -> Delivery | None:
    """Record one plain-text e-mail (once per ``key``: a key recorded before queues nothing); None when e-mail is
    not configured (no ``SMISHGUARD_EMAIL_HOST``)."""
    if not configured():
        return None
    payload = {
        "to": to,
        "from": from_email,
        "subject": subject.replace("\r", " ").replace("\n", " ")[:200],
        "body": body,
        "message_id": make_msgid(domain="smishguard"),  # the same on a retry: a receiver may drop the repeat
        "subject_label": subject_label or to,
    }
    delivery, _ = queue.record(KIND, f"email:{key}", payload=payload)
    return delivery


def _send(delivery: Delivery) -> str:
    payload: dict[str, Any] = delivery.payload
    message = EmailMessage(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from"],
        to=[payload["to"]],
        headers={"Message-ID": payload["message_id"], "Auto-Submitted": "auto-generated"},
        connection=get_connection(fail_silently=False),
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendFailed(f"the mail server refused the recipient: {exc}"[:300], retry=False) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}"[:300], retry=True, in_doubt=True) from None
    return payload["message_id"]


def _on_change(delivery: Delivery, change: str, error: Exception | None) -> None:
    if change not in (registry.DELIVERED, registry.FAILED):
        return
    detail: dict[str, Any] = {"attempts": delivery.attempts, "key": delivery.key}
    if error is not None:
        detail["error"] = str(error)[:200]
    record(
        Action.EMAIL_SENT if change == registry.DELIVERED else Action.EMAIL_FAILED,
        actor_label=KIND,
        subject_label=str(delivery.payload.get("subject_label") or delivery.payload.get("to", "")),
        **detail,
    )


def register() -> None:
    registry.register(registry.Kind(name=KIND, send=_send, max_attempts=lambda: MAX_ATTEMPTS, on_change=_on_change))
