"""The audit trail streamed to the company's SIEM: syslog (RFC 5424 over TCP or TLS) and HTTP (JSON lines, plain or
Splunk HEC), configured as ``[[siem.streams]]`` in smishguard.toml and delivered through the outbox.

Each stream keeps a position (:class:`smishguard.siem.models.Stream`): the highest audit id it has delivered.  The
worker's pass (:func:`smishguard.siem.streaming.pump`) reads the events after it, in id order, and records ONE batch
at a time per stream as an outbox delivery (kind ``siem``); the outbox makes the call, retries it with back-off while
the receiver is down, and only when the receiver has accepted the batch does the position move, in the transaction
that marks the delivery.  Nothing is lost (an event stays after the position until a receiver took it), nothing
is sent twice but after a crash or a connection broken after the send (every message carries the event's id), and
each stream's events go out in id order (see :mod:`smishguard.siem.streaming` for PostgreSQL's late commits).
"""
