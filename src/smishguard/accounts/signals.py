"""Signals the accounts layer (and the apps above it, such as passkeys) send for higher layers to act on.

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


def notify(employee, body: str, *, key: str, kind: str, to: str | None = None, request=None) -> list[str]:
    """Send ``security_notice``; returns what the receivers reported (e.g. ``["queued"]``)."""
    answers = security_notice.send(
        sender=employee.__class__, employee=employee, body=body, key=key, kind=kind, to=to, request=request
    )
    return [str(answer) for _receiver, answer in answers]
