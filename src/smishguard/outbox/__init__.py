"""The outbox: every outgoing call (an SMS, a chat alert, a CT sink's webhook, a security alert) in one place.

A send is recorded with an idempotency key before it is attempted (:func:`smishguard.outbox.queue.record`), claimed
and marked after by ONE django-tasks task (:func:`smishguard.outbox.queue.deliver`), retried with back-off, and what
a crash leaves in between (claimed, never marked) is reconciled with the provider before any retry.  Apps above
register their kinds in ``AppConfig.ready()`` (:mod:`smishguard.outbox.registry`); the outbox imports none of them.
"""
