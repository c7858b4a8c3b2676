"""The access record, append-only in the database itself (as the audit trail is, audit migrations 0002 and 0004),
and the index containment counts with.

- SQLite: triggers refuse UPDATE and DELETE of a row.  ``smishguard gateway access prune`` (retention) drops the
  DELETE trigger, deletes and makes the trigger again in one transaction (``gateway.retention``).
- PostgreSQL: the services' role gets SELECT and INSERT only (``smishguard.dbroles.append_only_tables``); a
  statement trigger refuses TRUNCATE to everyone (TRUNCATE fires no row trigger, and a role's missing privilege
  does not stop the owner).  There is no row trigger: the owner's DELETE is the retention step.
"""

from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS gateway_access_no_update BEFORE UPDATE ON gateway_accessrecord
       BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS gateway_access_no_delete BEFORE DELETE ON gateway_accessrecord
       BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS gateway_access_no_update",
    "DROP TRIGGER IF EXISTS gateway_access_no_delete",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION gateway_access_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'access records are append-only (retention: smishguard gateway access prune)'; END;
       $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER gateway_access_no_truncate BEFORE TRUNCATE ON gateway_accessrecord
       FOR EACH STATEMENT EXECUTE FUNCTION gateway_access_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS gateway_access_no_truncate ON gateway_accessrecord",
    "DROP FUNCTION IF EXISTS gateway_access_append_only()",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):  # noqa: ARG001 - RunPython passes the app registry
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("gateway", "0001_access_record")]

    operations = [
        migrations.AddIndex(
            model_name="accessrecord",
            index=models.Index(
                condition=models.Q(("decision", "allow")),
                fields=["employee", "at"],
                include=("host", "customer"),
                name="gateway_access_admitted",
            ),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
