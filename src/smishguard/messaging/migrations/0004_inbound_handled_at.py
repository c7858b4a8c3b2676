"""InboundMessage.handled_at: when the inbound handlers were done with a text (empty: left for the recovery pass).
Every text stored before this migration counts as handled when it was received."""

from django.db import migrations, models
from django.db.models import F


def existing_texts_were_handled(apps, _schema_editor):
    InboundMessage = apps.get_model("messaging", "InboundMessage")
    InboundMessage.objects.filter(handled_at__isnull=True).update(handled_at=F("received_at"))


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_sends_move_to_the_outbox")]

    operations = [
        migrations.AddField(
            model_name="inboundmessage",
            name="handled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(existing_texts_were_handled, migrations.RunPython.noop),
    ]
