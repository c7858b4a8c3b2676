"""Signals the accounts layer (and the apps above it, such as passkeys) send for higher layers to act on.

``employee_offboarded``: see below; it is how offboarding revokes keys without ``accounts`` importing ``passkeys``.

``security_notice``: tell an employee about a security-relevant change on their phone (a key added, admin
rights granted, the phone number changed).  Sent inside the sender's transaction; ``messaging`` (a higher
layer) connects the receiver that queues the SMS through its one sending path and records the notice (or why
none was sent) in the audit trail.  Nothing here imports ``messaging``.

Arguments: ``employee`` (who the notice is about, and its recipient unless ``to`` is given), ``body`` (the
text), ``key`` (an idempotency key, unique per notice), ``kind`` (a short tag for the audit trail), ``to``
(optional: another number, e.g. the old number after a change), ``request`` (optional, for the audit trail).
"""

from __future__ import annotations

from django.dispatch import Signal

security_notice = Signal()

# ``employee_offboarded``: sent inside offboarding's transaction with ``employee`` and ``reason``; ``passkeys``
# (a higher layer) connects the receiver that revokes the employee's keys and answers how many it revoked.
employee_offboarded = Signal()

# ``employee_created``: sent inside ``services.add_employee``'s transaction (the console, the CLI, a CSV import)
# with ``employee``, once the row and its groups exist; ``training`` (a higher layer) connects the receiver that
# assigns ``[training] new_employee_modules``.
employee_created = Signal()


def announce_created(employee) -> None:
    """Send ``employee_created`` for a new ``employee`` (inside the caller's transaction)."""
    employee_created.send(sender=employee.__class__, employee=employee)


def offboarded(employee, *, reason: str) -> int:
    """Send ``employee_offboarded``; returns how many credentials the receivers revoked in all."""
    answers = employee_offboarded.send(sender=employee.__class__, employee=employee, reason=reason)
    return sum(answer for _receiver, answer in answers if isinstance(answer, int))


def notify(employee, body: str, *, key: str, kind: str, to: str | None = None, request=None) -> list[str]:
    """Send ``security_notice``; returns what the receivers reported (e.g. ``["queued"]``)."""
    answers = security_notice.send(
        sender=employee.__class__, employee=employee, body=body, key=key, kind=kind, to=to, request=request
    )
    return [str(answer) for _receiver, answer in answers]
