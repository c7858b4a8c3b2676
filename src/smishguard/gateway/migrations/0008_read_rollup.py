"""The breach scope's roll-up: each ``CustomerRead`` row (one per employee, host and customer) counts the admitted
reads and keeps the first and the last, not only the last (``gateway.models.CustomerRead``; docs/gateway.md,
"Breach scope").

The rows are made again from the access record, which is what they roll up: every ``allow`` row of an employee,
grouped by host and customer, gives ``reads = COUNT(*)``, ``first_at = MIN(at)``, ``last_at = MAX(at)``.  So an
upgraded install's scope is exact from the first run, and containment's count (which reads ``last_at``) is what
it was, for every read the access record still holds.

On PostgreSQL the access record is locked against inserts (SHARE) for the migration's transaction, so no check
writes an access row between the roll-up's query and the commit (a check waits, and then writes both, as usual).
On a large table this takes a while (10 million rows: tens of seconds): migrate in a quiet hour.  SQLite: the
migration holds the database's write lock anyway.
"""

from datetime import UTC, datetime

from django.db import migrations, models

FILL = """
INSERT INTO gateway_customerread (employee_id, host, customer, reads, first_at, last_at)
SELECT employee_id, host, customer, COUNT(*), MIN(at), MAX(at) FROM gateway_accessrecord
WHERE decision = 'allow' AND employee_id IS NOT NULL
GROUP BY employee_id, host, customer
"""


def fill(apps, schema_editor):  # noqa: ARG001 - RunPython passes the app registry
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("LOCK TABLE gateway_accessrecord IN SHARE MODE")
    schema_editor.execute("DELETE FROM gateway_customerread")
    schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0007_drop_admitted_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="customerread",
            name="reads",
            field=models.PositiveIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(  # the default only for the rows there now, which fill() replaces
            model_name="customerread",
            name="first_at",
            field=models.DateTimeField(default=datetime(1970, 1, 1, tzinfo=UTC)),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
