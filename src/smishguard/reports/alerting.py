"""The security team's alerts about a campaign, delivered through the outbox (kind ``campaign-alert``).

:func:`smishguard.reports.response.alert` records one ``AlertDelivery`` (once per campaign and event) and its outbox
delivery in one transaction; the outbox's worker POSTs it (``Idempotency-Key: smishguard-<key>``), retrying a
408/425/429, a 5xx, a timeout or a refused connection with back-off (5 s, 10 s, ... up to 10 min) until
``[response] alert_attempts``.  Each change is mirrored onto the ``AlertDelivery`` row; a delivered or failed
alert lands in the campaign's timeline and the audit trail (CAMPAIGN_ALERTED or CAMPAIGN_ALERT_FAILED).  A crash
after the receiver answered but before the mark can repeat a POST: receivers dedupe on ``Idempotency-Key``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.outbox import registry
from smishguard.outbox.models import Delivery
from smishguard.outbox.webhook import post_webhook
from smishguard.reports.models import AlertDelivery, CampaignEvent
from smishguard.reports.response import ALERT_KIND, timeline

Status = AlertDelivery.Status


def _send(delivery: Delivery) -> str:
    alert = AlertDelivery.objects.get(pk=delivery.target_id)
    return post_webhook(delivery, alert.url, alert.payload, user_agent="smishguard-response")


def _on_change(delivery: Delivery, change: str, error: Exception | None) -> None:
    alert = AlertDelivery.objects.select_related("campaign").filter(pk=delivery.target_id).first()
    if alert is None or change in (registry.CLAIMED, registry.REQUEUED):
        return
    rows = AlertDelivery.objects.filter(pk=alert.pk)
    attempts = delivery.attempts
    campaign = alert.campaign
    if change == registry.RETRY:
        rows.update(attempts=attempts, last_error=str(error)[:2000], status=Status.PENDING)
    elif change == registry.DELIVERED:
        rows.update(status=Status.DELIVERED, attempts=attempts, delivered_at=timezone.now(), last_error="")
        if campaign is None:
            return
        timeline(
            campaign,
            CampaignEvent.Kind.ALERTED,
            f"Security team alerted ({alert.payload.get('event', 'alert')})",
            automatic=True,
            key=alert.key,
            attempts=attempts,
        )
        record(
            Action.CAMPAIGN_ALERTED,
            actor_label="response-policy",
            subject_label=f"campaign {campaign.pk}",
            campaign_id=campaign.pk,
            key=alert.key,
            attempts=attempts,
        )
    elif change == registry.FAILED:
        rows.update(attempts=attempts, last_error=str(error)[:2000], status=Status.FAILED)
        if campaign is None:
            return
        timeline(
            campaign,
            CampaignEvent.Kind.ALERT_FAILED,
            f"The alert to the security team's webhook failed after {attempts} attempt(s): {error}",
            automatic=True,
            key=alert.key,
            error=str(error),
        )
        record(
            Action.CAMPAIGN_ALERT_FAILED,
            actor_label="response-policy",
            subject_label=f"campaign {campaign.pk}",
            campaign_id=campaign.pk,
            key=alert.key,
            attempts=attempts,
            error=str(error),
        )


def register() -> None:
    registry.register(
        registry.Kind(
            name=ALERT_KIND,
            send=_send,
            max_attempts=lambda: settings.SMISHGUARD.response.alert_attempts,
            on_change=_on_change,
        )
    )
