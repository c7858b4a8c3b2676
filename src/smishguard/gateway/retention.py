"""The access record's retention: ``smishguard gateway access prune --before ISO`` deletes older rows, as the
database owner (the running service may only insert and read them), in one transaction, audited.

On PostgreSQL the services' role has no DELETE on the table (``smishguard.dbroles``): the command connects with
SMISHGUARD_MIGRATE_DATABASE_URL, as ``smishguard migrate`` does, and refuses to run without it.  On SQLite, which
has no roles, the table's DELETE trigger (gateway migration 0002) is dropped, the rows deleted and the trigger made
again in the same transaction: a crash or an error in between rolls all three back, and no other connection ever
sees the table without its trigger (SQLite's DDL is transactional, and the transaction holds the write lock).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from smishguard.audit import Action, record
from smishguard.gateway.models import AccessRecord

TABLE = AccessRecord._meta.db_table
AT = AccessRecord._meta.get_field("at").column
SQLITE_DELETE_TRIGGER = "gateway_access_no_delete"
# As gateway migration 0002 makes it.
SQLITE_MAKE_DELETE_TRIGGER = (
    f"CREATE TRIGGER {SQLITE_DELETE_TRIGGER} BEFORE DELETE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END"
)


def prune(before: datetime) -> int:
    """Delete the access rows written before ``before``; returns how many.  Audited (GATEWAY_ACCESS_PRUNED)."""
    with transaction.atomic(), connection.cursor() as cursor:
        sqlite = connection.vendor == "sqlite"
        if sqlite:
            cursor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_DELETE_TRIGGER}")
        cursor.execute(f"DELETE FROM {TABLE} WHERE {AT} < %s", [connection.ops.adapt_datetimefield_value(before)])  # noqa: S608 - names from _meta
        deleted = cursor.rowcount
        role = None
        if sqlite:
            cursor.execute(SQLITE_MAKE_DELETE_TRIGGER)
        else:
            cursor.execute("SELECT current_user")
            role = cursor.fetchone()[0]
        record(Action.GATEWAY_ACCESS_PRUNED, before=before.isoformat(), deleted=deleted, role=role)
    return deleted
