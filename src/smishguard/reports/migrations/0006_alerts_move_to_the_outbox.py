# The security team's alerts move onto the outbox (issue 12, item 7): each pending AlertDelivery gets its outbox
# delivery under the same key (so its Idempotency-Key, smishguard-<key>, stays the same): kind "campaign-alert"
# when it is about a campaign, "security-alert" (campaign-free, the hook's body carried as it was) when not.  The
# AlertDelivery rows stay as they are: the campaign alerts' record; new security alerts live in the outbox only.

from django.db import migrations


def carry_pending_alerts(apps, schema_editor):  # noqa: ARG001 - RunPython's signature
    AlertDelivery = apps.get_model("reports", "AlertDelivery")
    Delivery = apps.get_model("outbox", "Delivery")
    for alert in AlertDelivery.objects.filter(status="pending").iterator():
        if alert.campaign_id is not None:
            kind, target_id, payload = "campaign-alert", alert.pk, {}
        else:
            employee = (alert.payload or {}).get("employee") or {}
            kind, target_id = "security-alert", None
            payload = {
                "url": alert.url,
                "title": "",
                "subject_label": employee.get("email") or "",
                "body": alert.payload,
            }
        Delivery.objects.get_or_create(
            key=alert.key,
            defaults={
                "kind": kind,
                "target_id": target_id,
                "payload": payload,
                "attempts": alert.attempts,
                "last_error": alert.last_error,
                "created_at": alert.created_at,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_brands_move_to_detection"),
        ("outbox", "0001_outbox_delivery"),
    ]

    operations = [
        migrations.RunPython(carry_pending_alerts, migrations.RunPython.noop),
    ]
