# The SMS send protocol moves onto the outbox (issue 12, item 7): each unfinished send (queued, or sending: claimed
# and maybe in doubt) gets its outbox delivery, kind "sms", key "sms-<id>", with its attempts and claim time, so
# the first recovery pass queues it (and reconciles one in doubt with Twilio first).  The task id moves to the
# outbox delivery (left empty here: the old task function is gone, so recovery gives each a new task).

from django.db import migrations


def carry_unfinished_sends(apps, schema_editor):  # noqa: ARG001 - RunPython's signature
    OutboundMessage = apps.get_model("messaging", "OutboundMessage")
    Delivery = apps.get_model("outbox", "Delivery")
    for message in OutboundMessage.objects.filter(status__in=["queued", "sending"]).iterator():
        Delivery.objects.get_or_create(
            key=f"sms-{message.pk}",
            defaults={
                "kind": "sms",
                "target_id": message.pk,
                "status": "sending" if message.status == "sending" else "pending",
                "attempts": message.attempts,
                "attempted_at": message.attempted_at,
                "last_error": message.error_message,
                "created_at": message.created_at,
                "updated_at": message.updated_at,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0002_waiting_for_account"),
        ("outbox", "0001_outbox_delivery"),
    ]

    operations = [
        migrations.RunPython(carry_unfinished_sends, migrations.RunPython.noop),
        migrations.RemoveField(model_name="outboundmessage", name="task_id"),
    ]
