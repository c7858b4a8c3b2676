"""The access record's retention: ``smishguard gateway access prune --before ISO`` deletes older rows, as the
database owner (the running service may only insert and read them), in one transaction, audited.

On PostgreSQL the services' role has no DELETE on the table (``smishguard.dbroles``): the command connects with
SMISHGUARD_MIGRATE_DATABASE_URL, as ``smishguard migrate`` does, and refuses to run without it.  On SQLite, which
has no roles, the table's DELETE trigger (gateway migration 0002) is dropped, the rows deleted and the trigger made
again in the same transaction: a crash or an error in between rolls all three back, and no other connection ever
sees the table without its trigger (SQLite's DDL is transactional, and the transaction holds the write lock).

The roll-up of admitted reads (``CustomerRead``: per employee, host and customer, the reads, the first and the
last) is pruned with it, in the same transaction, before the rows go, so it stays exactly the roll-up of the rows
that remain (the breach scope answers from it): a customer whose last read is before the cutoff loses its row; one
read on both sides of the cutoff has the reads before it taken off its count and its first read moved to the first
one kept (one range of the index gateway_access_scope each).  There are no days in it, so no day "holding the
cutoff": it is exact to the instant.  Containment counts these rows too (the customers read in its window): a
cutoff inside the window, minutes ago, would also forget those reads there, as it deletes their access rows.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from smishguard.audit import Action, record
from smishguard.db import column, table
from smishguard.gateway.models import AccessRecord, CustomerRead

TABLE = AccessRecord._meta.db_table
AT = AccessRecord._meta.get_field("at").column
_R = table(CustomerRead)
_r = {f: column(CustomerRead, f) for f in ("employee", "host", "customer", "reads", "first_at", "last_at")}
_a = {f: column(AccessRecord, f) for f in ("employee", "host", "customer", "decision", "at")}
# The admitted access rows of the roll-up row being updated (its employee, host and customer).
_OF_ROW = (
    f"{_a['employee']} = {_R}.{_r['employee']} AND {_a['decision']} = 'allow' "
    f"AND {_a['host']} = {_R}.{_r['host']} AND {_a['customer']} = {_R}.{_r['customer']}"
)
# Parameter: the cutoff.  Customers whose every read goes.
ROLLUP_DROP = f"DELETE FROM {_R} WHERE {_r['last_at']} < %s"  # noqa: S608 - names from _meta
# Parameters: the cutoff, three times.  Customers read on both sides of it: the reads before it off the count,
# the first read the first one kept.  (After ROLLUP_DROP every row left with first_at < cutoff has a read at or
# after it, so the MIN is never NULL.)
ROLLUP_TRIM = (
    f"UPDATE {_R} SET "  # noqa: S608 - names from _meta
    f"{_r['reads']} = {_r['reads']} - (SELECT COUNT(*) FROM {TABLE} WHERE {_OF_ROW} AND {_a['at']} < %s), "
    f"{_r['first_at']} = (SELECT MIN({_a['at']}) FROM {TABLE} WHERE {_OF_ROW} AND {_a['at']} >= %s) "
    f"WHERE {_r['first_at']} < %s"
)
SQLITE_DELETE_TRIGGER = "gateway_access_no_delete"
# As gateway migration 0002 makes it.
SQLITE_MAKE_DELETE_TRIGGER = (
    f"CREATE TRIGGER {SQLITE_DELETE_TRIGGER} BEFORE DELETE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END"
)


def prune(before: datetime) -> int:
    """Delete the access rows written before ``before``, and their part of the roll-up of admitted reads; returns
    how many access rows.  Audited (GATEWAY_ACCESS_PRUNED)."""
    cutoff = connection.ops.adapt_datetimefield_value(before)
    with transaction.atomic(), connection.cursor() as cursor:
        sqlite = connection.vendor == "sqlite"
        cursor.execute(ROLLUP_DROP, [cutoff])
        cursor.execute(ROLLUP_TRIM, [cutoff, cutoff, cutoff])
        if sqlite:
            cursor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_DELETE_TRIGGER}")
        cursor.execute(f"DELETE FROM {TABLE} WHERE {AT} < %s", [cutoff])  # noqa: S608 - names from _meta
        deleted = cursor.rowcount
        role = None
        if sqlite:
            cursor.execute(SQLITE_MAKE_DELETE_TRIGGER)
        else:
            cursor.execute("SELECT current_user")
            role = cursor.fetchone()[0]
        record(Action.GATEWAY_ACCESS_PRUNED, before=before.isoformat(), deleted=deleted, role=role)
    return deleted
