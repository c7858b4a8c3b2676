# The CT alerts' webhook deliveries move onto the outbox (issue 12, item 7): each pending webhook delivery gets its
# outbox delivery, kind "ct-webhook", key "ct-alert-<id>" (its Idempotency-Key stays smishguard-ct-alert-<id>), so
# the first recovery pass queues it.  The task id moves to the outbox delivery (left empty: the old task function
# is gone, so recovery gives each a new task).  The JSON lines sink keeps its own rows and reconciliation.

from django.db import migrations


def carry_pending_webhooks(apps, schema_editor):  # noqa: ARG001 - RunPython's signature
    SinkDelivery = apps.get_model("watch", "SinkDelivery")
    Delivery = apps.get_model("outbox", "Delivery")
    for delivery in SinkDelivery.objects.filter(sink="webhook", status="pending").iterator():
        Delivery.objects.get_or_create(
            key=f"ct-alert-{delivery.pk}",
            defaults={
                "kind": "ct-webhook",
                "target_id": delivery.pk,
                "attempts": delivery.attempts,
                "last_error": delivery.last_error,
                "created_at": delivery.created_at,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("watch", "0004_one_alert_per_certificate"),
        ("outbox", "0001_outbox_delivery"),
    ]

    operations = [
        migrations.RunPython(carry_pending_webhooks, migrations.RunPython.noop),
        migrations.RemoveField(model_name="sinkdelivery", name="task_id"),
    ]
