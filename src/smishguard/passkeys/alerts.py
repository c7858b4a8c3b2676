"""The security team's alert when a key is flagged as possibly cloned: a campaign-free ``security-alert`` in the
outbox (:mod:`smishguard.outbox.alerts`), recorded in the transaction that flags the key.

``passkeys`` sends ``key_flagged`` inside that transaction, after the sessions the key opened were revoked; this
receiver (connected in :class:`smishguard.passkeys.apps.PasskeysConfig`) records the alert there, keyed
``key-<id>-flagged`` so it is never owed twice, so the alert is owed exactly when the flag commits.  The text names
the employee and the key, never a secret: no session token, credential id, key material, enrolment link or
webhook URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from smishguard.outbox.alerts import security_alert
from smishguard.outbox.models import Delivery


def on_key_flagged(
    sender: Any,  # noqa: ARG001 - a signal receiver's signature
    *,
    credential: Any,
    employee: Any,
    reason: str,
    sessions_revoked: int,
    detail: dict[str, Any],
    **_: Any,
) -> Delivery | None:
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
        "Possible cloned security key",
        text,
        subject_label=employee.email,
        employee={"id": employee.pk, "email": employee.email, "name": employee.name},
        key={"id": credential.pk, "name": credential.name, "model": credential.model},
        reason=reason,
        sessions_revoked=sessions_revoked,
        url=link,
    )


def connect() -> None:
    from smishguard.passkeys.signals import key_flagged

    key_flagged.connect(on_key_flagged, dispatch_uid="passkeys-security-alert-key-flagged")
