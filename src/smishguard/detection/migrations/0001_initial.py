"""Brand and Keyword move here from ``reports`` (issue 12), every row kept.

The models are created in this app's migration state only (their tables are ``reports``'), then the tables are
renamed to ``detection_brand`` and ``detection_keyword``; ``reports.0005_brands_move_to_detection`` removes them
from ``reports``' state.  Nothing points at either table (no foreign key, no many-to-many: a brand's domains and
tokens are JSON columns on its row), so the rename is all the database sees.  The content types follow the
models, so whatever refers to them keeps pointing at the same rows.
"""

import django.utils.timezone
from django.db import migrations, models


def _move_content_types(apps, schema_editor, *, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in ("brand", "keyword"):
        if not content_type.objects.using(db).filter(app_label=new, model=model).exists():
            content_type.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def content_types_forwards(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, old="reports", new="detection")


def content_types_backwards(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, old="detection", new="reports")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("reports", "0004_benign_review"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Brand",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True)),
                        (
                            "domains",
                            models.JSONField(default=list, help_text="official registrable domains, never flagged"),
                        ),
                        (
                            "tokens",
                            models.JSONField(
                                blank=True, default=list, help_text="extra strings that stand for the brand"
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={"ordering": ["name"], "db_table": "reports_brand"},
                ),
                migrations.CreateModel(
                    name="Keyword",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("word", models.CharField(max_length=50, unique=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={"ordering": ["word"], "db_table": "reports_keyword"},
                ),
            ],
        ),
        # The tables take this app's names: reports_brand -> detection_brand, reports_keyword -> detection_keyword.
        migrations.AlterModelTable(name="brand", table=None),
        migrations.AlterModelTable(name="keyword", table=None),
        migrations.RunPython(content_types_forwards, content_types_backwards),
    ]
