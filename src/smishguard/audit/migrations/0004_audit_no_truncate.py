"""On PostgreSQL, refuse TRUNCATE of the audit table as well (a statement trigger: TRUNCATE fires no row
trigger, so 0002's row trigger does not see it).  SQLite has no TRUNCATE (its ``DELETE FROM`` without a WHERE
fires 0002's row trigger): nothing to do there."""

from django.db import migrations

POSTGRES = [
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
]


def _run(statements):
    def apply(apps, schema_editor):  # noqa: ARG001 - RunPython passes the app registry
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_fewer_indexes")]

    operations = [migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE))]
