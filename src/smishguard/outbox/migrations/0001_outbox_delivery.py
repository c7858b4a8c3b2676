# The outbox (issue 12, item 7): one table of outgoing calls of every kind (SMS, alerts, CT webhooks, security alerts).

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Delivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(db_index=True, max_length=64)),
                (
                    "key",
                    models.CharField(
                        help_text="the idempotency key (sent as a header by webhooks)", max_length=255, unique=True
                    ),
                ),
                (
                    "target_id",
                    models.BigIntegerField(blank=True, help_text="the kind's own record (its primary key)", null=True),
                ),
                ("payload", models.JSONField(blank=True, default=dict)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sending", "Sending (claimed: the call is made or in flight)"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                (
                    "max_attempts",
                    models.PositiveIntegerField(blank=True, help_text="None: the kind's default", null=True),
                ),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                (
                    "attempted_at",
                    models.DateTimeField(
                        blank=True, help_text="when the last claimed call was (to be) made", null=True
                    ),
                ),
                ("last_error", models.TextField(blank=True)),
                ("provider_ref", models.CharField(blank=True, max_length=128)),
                (
                    "task_id",
                    models.CharField(
                        blank=True, help_text="the django-tasks result of the pending attempt", max_length=64
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["id"],
                "indexes": [
                    models.Index(fields=["status", "kind"], name="outbox_deli_status_0b2092_idx"),
                    models.Index(fields=["kind", "target_id"], name="outbox_deli_kind_19087a_idx"),
                ],
            },
        ),
    ]
