"""Drop single-column indexes that a composite index or no query needs (fewer pages written per sign-in).

Only the index is dropped (RunSQL), so SQLite does not rebuild the table: a rebuild would copy every row
and, for audit_event, lose the append-only triggers."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_apitoken"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="session",
                    name="employee",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sessions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS accounts_session_employee_id_59e994c8",
                    reverse_sql='CREATE INDEX "accounts_session_employee_id_59e994c8" ON "accounts_session" ("employee_id")',
                ),
            ],
        ),
    ]
