"""Signals that ``passkeys`` sends, so apps above it can act without ``passkeys`` importing them (DESIGN.md).

``key_flagged`` is sent inside the transaction that flags a key as possibly cloned, after the sessions the key
opened were revoked.  A receiver's writes (``passkeys.alerts`` records the security team's alert in the outbox)
join that transaction, so they commit with the flag or not at all; a receiver that raises is logged and does not
undo the flag.

Keyword arguments: ``credential`` (the flagged Credential, its employee attached), ``employee``, ``reason``
(plain words), ``sessions_revoked`` (how many sessions were ended), ``detail`` (what the flag recorded, such as
the ``stored`` and ``seen`` counters) and ``request`` (the request that revealed the clone, or None).
"""

from __future__ import annotations

from django.dispatch import Signal

key_flagged = Signal()
