"""Security alerts that are about no campaign (a key flagged as possibly cloned; later, containment): kind
``security-alert``, posted to the security team's alert hook (``[response] alert_webhook``).

Any app records one with :func:`security_alert` inside the transaction that makes it owed (passkeys does, in the
transaction that flags a key); the worker posts it like any webhook (``Idempotency-Key: smishguard-<key>``, retries
with back-off up to ``[response] alert_attempts``) and the audit trail gets SECURITY_ALERT_SENT or
SECURITY_ALERT_FAILED, naming the subject (an employee's e-mail) and never the hook's URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from smishguard.audit import Action, record
from smishguard.outbox import queue, registry
from smishguard.outbox.models import Delivery
from smishguard.outbox.webhook import post_webhook

KIND = "security-alert"
PREFIX = ":rotating_light: smishguard: "
USER_AGENT = "smishguard-response"


def security_alert(
    event: str, once: str, title: str, text: str, /, *, subject_label: str = "", **fields: Any
) -> Delivery | None:
    """Record one security alert (once per key ``once``) for ``[response] alert_webhook``; None when none is set.

    The hook receives ``{"text": PREFIX + text, "event": event, **fields}``; ``title`` and ``subject_label`` (whom
    the alert is about, for the audit trail) stay with the delivery."""
    url = settings.SMISHGUARD.response.alert_webhook
    if not url:
        return None
    body = {"text": PREFIX + text, "event": event, **fields}
    payload = {"url": url, "title": title, "subject_label": subject_label, "body": body}
    delivery, _ = queue.record(KIND, once, payload=payload)
    return delivery


def _send(delivery: Delivery) -> str:
    return post_webhook(delivery, delivery.payload["url"], delivery.payload["body"], user_agent=USER_AGENT)


def _on_change(delivery: Delivery, change: str, error: Exception | None) -> None:
    if change not in (registry.DELIVERED, registry.FAILED):
        return
    detail: dict[str, Any] = {"attempts": delivery.attempts}
    if error is not None:
        detail["error"] = str(error)
    record(
        Action.SECURITY_ALERT_SENT if change == registry.DELIVERED else Action.SECURITY_ALERT_FAILED,
        actor_label="security-alert",
        subject_label=str(delivery.payload.get("subject_label") or delivery.key),
        event=delivery.payload.get("body", {}).get("event", "alert"),
        key=delivery.key,
        **detail,
    )


def register() -> None:
    registry.register(
        registry.Kind(
            name=KIND,
            send=_send,
            max_attempts=lambda: settings.SMISHGUARD.response.alert_attempts,
            on_change=_on_change,
        )
    )
