"""Drop single-column indexes that a composite index or no query needs (fewer pages written per sign-in).

Only the index is dropped (RunSQL), so SQLite does not rebuild the table: a rebuild would copy every row
and, for audit_event, lose the append-only triggers."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_fewer_indexes"),
        ("passkeys", "0002_user_handle"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="challenge",
                    name="employee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="challenge",
                    name="enrolment_link",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="accounts.enrolmentlink",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS passkeys_challenge_employee_id_5d146e80",
                    reverse_sql='CREATE INDEX "passkeys_challenge_employee_id_5d146e80" ON "passkeys_challenge" ("employee_id")',
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS passkeys_challenge_enrolment_link_id_a4c7c58b",
                    reverse_sql='CREATE INDEX "passkeys_challenge_enrolment_link_id_a4c7c58b" ON "passkeys_challenge" ("enrolment_link_id")',
                ),
            ],
        ),
    ]
