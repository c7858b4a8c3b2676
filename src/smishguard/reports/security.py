"""Security alerts that are not about a campaign (a key flagged as possibly cloned), to the security team's webhook.

``passkeys`` sends ``key_flagged`` inside the transaction that flags a key and ends its sessions; the receiver here
queues one alert in that same transaction (an ``AlertDelivery`` without a campaign, keyed so it is never queued
twice), so the alert is owed exactly when the flag commits.  The worker posts it to ``[response] alert_webhook``
like a campaign alert (:mod:`smishguard.reports.tasks`, retries with backoff) and records SECURITY_ALERT_SENT or
SECURITY_ALERT_FAILED.  The text names the employee and the key, never a secret: no session token, credential
id, key material, enrolment link or webhook URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from smishguard.reports.models import AlertDelivery

PREFIX = ":rotating_light: smishguard: "


def security_alert(event: str, once: str, text: str, /, **fields: Any) -> AlertDelivery | None:
    """Queue one alert (once per key ``once``) to ``[response] alert_webhook``; None when none is set."""
    url = settings.SMISHGUARD.response.alert_webhook
    if not url:
        return None
    from smishguard.reports.tasks import enqueue_alert

    payload = {"text": PREFIX + text, "event": event, **fields}
    with transaction.atomic():
        delivery, created = AlertDelivery.objects.get_or_create(
            key=once, defaults={"campaign": None, "url": url, "payload": payload}
        )
        if created:
            enqueue_alert(delivery)
    return delivery


def on_key_flagged(
    sender: Any,  # noqa: ARG001 - a signal receiver's signature
    *,
    credential: Any,
    employee: Any,
    reason: str,
    sessions_revoked: int,
    detail: dict[str, Any],
    **_: Any,
) -> AlertDelivery | None:
    """``passkeys.signals.key_flagged``: tell the security team, in the flag's transaction."""
    link = settings.SMISHGUARD.origin.rstrip("/") + f"/console/employees/{employee.pk}"
    counters = ""
    if "stored" in detail and "seen" in detail:
        counters = f" (stored {detail['stored']}, presented {detail['seen']})"
    text = (
        f"Possible cloned security key: “{credential.name}” of {employee.name} <{employee.email}>: "
        f"{reason}{counters}. The key is blocked and the {sessions_revoked} session(s) it opened were ended. "
        f"Ask the employee where the key has been, then remove it and issue a new one.\n{link}"
    )
    return security_alert(
        "key_flagged",
        f"key-{credential.pk}-flagged",
        text,
        employee={"id": employee.pk, "email": employee.email, "name": employee.name},
        key={"id": credential.pk, "name": credential.name, "model": credential.model},
        reason=reason,
        sessions_revoked=sessions_revoked,
        url=link,
    )
