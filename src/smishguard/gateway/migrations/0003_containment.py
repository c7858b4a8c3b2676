"""Containment (gateway.containment): one row per employee, locked by each check on a customer route and holding
"contained until released"; whether a session was opened from a network new for its employee."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_four_eyes"),
        ("gateway", "0002_access_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Containment",
            fields=[
                (
                    "employee",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("contained_at", models.DateTimeField(blank=True, null=True)),
                ("customers", models.PositiveIntegerField(default=0)),
                ("max_customers", models.PositiveIntegerField(default=0)),
                ("window_minutes", models.PositiveIntegerField(default=0)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("released_by", models.CharField(blank=True, max_length=254)),
            ],
        ),
        migrations.CreateModel(
            name="SessionNetwork",
            fields=[
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="accounts.session",
                    ),
                ),
                ("network", models.CharField(blank=True, max_length=64)),
                ("new_network", models.BooleanField(default=False)),
            ],
        ),
    ]
