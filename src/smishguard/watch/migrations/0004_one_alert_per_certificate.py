# One alert per certificate (issue 11, item 9): an alert lists the lookalike names it covers.

from django.db import migrations, models


def existing_alerts_list_their_domain(apps, schema_editor):  # noqa: ARG001 - RunPython's signature
    LookalikeAlert = apps.get_model("watch", "LookalikeAlert")
    for alert in LookalikeAlert.objects.only("pk", "domain", "lookalike_names").iterator():
        if not alert.lookalike_names:
            LookalikeAlert.objects.filter(pk=alert.pk).update(lookalike_names=[alert.domain])


class Migration(migrations.Migration):
    dependencies = [
        ("watch", "0003_replay_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="lookalikealert",
            name="lookalike_names",
            field=models.JSONField(
                default=list,
                help_text="every lookalike name under this domain seen in its certificates (bare, www., ...)",
            ),
        ),
        migrations.AlterField(
            model_name="lookalikealert",
            name="registrable",
            field=models.CharField(db_index=True, max_length=253),
        ),
        migrations.RunPython(existing_alerts_list_their_domain, migrations.RunPython.noop),
    ]
