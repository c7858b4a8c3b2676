"""Drop single-column indexes that a composite index or no query needs (fewer pages written per sign-in).

Only the index is dropped (RunSQL), so SQLite does not rebuild the table: a rebuild would copy every row
and, for audit_event, lose the append-only triggers."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="subject",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS audit_event_actor_id_fdb5de2b",
                    reverse_sql='CREATE INDEX "audit_event_actor_id_fdb5de2b" ON "audit_event" ("actor_id")',
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS audit_event_subject_id_fe112bba",
                    reverse_sql='CREATE INDEX "audit_event_subject_id_fe112bba" ON "audit_event" ("subject_id")',
                ),
            ],
        ),
    ]
