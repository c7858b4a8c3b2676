"""Twilio sending (idempotent, reconciled, rate-limited) and the inbound / status webhooks.

Public API for other apps: :func:`smishguard.messaging.broadcast.broadcast`,
:func:`smishguard.messaging.broadcast.queue_message`, the models in :mod:`smishguard.messaging.models` and the
inbound handler registry :func:`smishguard.messaging.inbound.register` (asked in order by
:func:`smishguard.messaging.inbound.handle`).  See docs/messaging.md.
"""
