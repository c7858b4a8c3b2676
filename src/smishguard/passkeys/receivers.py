"""What passkeys does when a lower layer says so: ``accounts`` sends ``employee_offboarded`` inside offboarding's
transaction, and every key of the employee is revoked in it (connected in ``PasskeysConfig.ready``)."""

from __future__ import annotations

from django.utils import timezone

from smishguard.accounts.signals import employee_offboarded
from smishguard.passkeys.models import Credential


def revoke_keys_of_offboarded(
    sender: object,  # noqa: ARG001 - a signal receiver's first argument
    *,
    employee: object,
    reason: str,
    **_: object,
) -> int:
    """Revoke every active key of ``employee``; returns how many."""
    return Credential.objects.active().filter(employee=employee).update(revoked_at=timezone.now(), revoke_reason=reason)


def connect() -> None:
    employee_offboarded.connect(revoke_keys_of_offboarded, dispatch_uid="passkeys-revoke-keys-of-offboarded")
