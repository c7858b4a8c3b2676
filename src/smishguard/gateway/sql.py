"""The statements the gateway's check writes out, built from the models' ``_meta`` (DESIGN.md, hot paths).

The check runs on every request to every protected app; a statement the ORM compiles on each call costs more
than the database answering it.  Plain SQL that SQLite and PostgreSQL share; every value is a parameter; every
table and column name comes from ``_meta``.  Each is tested against its ORM form (tests/gateway/test_gateway_access.py).
The session and its employee's groups are read by ``accounts.sql.CHECK_SESSION``.

- ``INSERT_ACCESS``: one access row (``gateway.models.AccessRecord``);
- ``DISTINCT_ADMITTED``: how many distinct customers (host, customer) the employee was admitted to since a time,
  and whether the one asked about is among them: one indexed count over the employee's ``CustomerRead`` rows
  (one per customer, whatever the number of reads); ``NOTE_READ`` keeps them, one upsert per admitted read, with
  the reads counted and the first and last kept (the breach scope's roll-up, ``gateway.scope``);
- ``LOCK_EMPLOYEE``: the employee's containment row, locked on PostgreSQL (``FOR NO KEY UPDATE``: a second check
  of the same employee waits here until the first commits); on SQLite the transaction's ``BEGIN IMMEDIATE`` took
  the database's write lock already.  With it, the session's new-network answer, if worked out (one round trip).
"""

from __future__ import annotations

from smishguard.db import Columns, FastInsert, column, table
from smishguard.gateway.models import AccessRecord, Containment, CustomerRead, SessionNetwork

ACCESS_FIELDS = (
    "at",
    "employee",
    "session_id",
    "method",
    "host",
    "path",
    "rule",
    "decision",
    "reason",
    "customer",
    "ip",
)
INSERT_ACCESS = FastInsert(AccessRecord, ACCESS_FIELDS)

_r = Columns(CustomerRead, "r")
# Parameters: host, customer (the one asked about), employee id, since.  One range of the index
# gateway_customer_read_recent: the employee's customers read since the window began (at most the threshold and
# one more, since the one after the threshold is refused).
DISTINCT_ADMITTED = (
    f"SELECT COUNT(*), COALESCE(MAX(CASE WHEN {_r['host']} = %s AND {_r['customer']} = %s THEN 1 ELSE 0 END), 0) "
    f"FROM {_r.table} WHERE {_r['employee']} = %s AND {_r['last_at']} >= %s"
)

# An admitted read of a customer: its row made (one read, first and last at ``at``), or one more read counted and
# its first and last moved to take ``at`` in.  Parameters: employee id, host, customer, at, at (the same time
# twice: the new row's first and last).  SQLite (3.24+) and PostgreSQL share INSERT ... ON CONFLICT ... DO UPDATE;
# CASE rather than MAX/GREATEST, which the two spell differently.  The times compare as the instants do in both
# (SQLite keeps UTC text of one format).  Not "last_at = the new time": two checks of one employee take their
# times before the lock, so the second to write may hold the earlier time.
_read_table, _read = (
    table(CustomerRead),
    {f: column(CustomerRead, f) for f in ("employee", "host", "customer", "reads", "first_at", "last_at")},
)
NOTE_READ = (
    f"INSERT INTO {_read_table} ({_read['employee']}, {_read['host']}, {_read['customer']}, {_read['reads']}, "
    f"{_read['first_at']}, {_read['last_at']}) VALUES (%s, %s, %s, 1, %s, %s) "
    f"ON CONFLICT ({_read['employee']}, {_read['host']}, {_read['customer']}) "
    f"DO UPDATE SET {_read['reads']} = {_read_table}.{_read['reads']} + 1, "
    f"{_read['first_at']} = CASE WHEN excluded.{_read['first_at']} < {_read_table}.{_read['first_at']} "
    f"THEN excluded.{_read['first_at']} ELSE {_read_table}.{_read['first_at']} END, "
    f"{_read['last_at']} = CASE WHEN excluded.{_read['last_at']} > {_read_table}.{_read['last_at']} "
    f"THEN excluded.{_read['last_at']} ELSE {_read_table}.{_read['last_at']} END"
)

_c = Columns(Containment, "c")
_n = Columns(SessionNetwork, "n")
# Parameters: session id, employee id.  Answers (contained_at, released_at, new_network or NULL when not worked
# out yet).
_LOCK = (
    f"SELECT {_c['contained_at']}, {_c['released_at']}, "
    f"(SELECT {_n['new_network']} FROM {_n.table} WHERE {_n['session']} = %s) "
    f"FROM {_c.table} WHERE {_c['employee']} = %s"
)
LOCK_EMPLOYEE = {"postgresql": _LOCK + " FOR NO KEY UPDATE OF c", "sqlite": _LOCK}
