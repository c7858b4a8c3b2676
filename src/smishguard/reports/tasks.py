"""Background tasks (django-tasks, database backend): alerts to the security team's webhook, with retries.

``smishguard worker`` runs them.  One POST per task run, with an ``Idempotency-Key`` header naming the alert;
a 408/425/429, a 5xx, a timeout or a refused connection is retried by a new task with exponential backoff
(5 s, 10 s, ... up to 10 min) until ``[response] alert_attempts``; a delivered or failed alert lands in the
campaign's timeline and the audit trail (a security alert, with no campaign, in the audit trail only:
SECURITY_ALERT_SENT or SECURITY_ALERT_FAILED).  A crash after the receiver answered but before the row is marked can
repeat a POST: receivers dedupe on ``Idempotency-Key``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from smishguard.audit import Action, record
from smishguard.reports.models import AlertDelivery, CampaignEvent
from smishguard.reports.response import timeline
from smishguard.webhooks import WebhookFailed, backoff, post_json

log = logging.getLogger("smishguard.reports")

Status = AlertDelivery.Status


def deliver(delivery_id: int) -> str:
    """One attempt; returns the outcome (delivered, retry, failed, gone, already ...)."""
    from django.conf import settings

    max_attempts = settings.SMISHGUARD.response.alert_attempts
    delivery = AlertDelivery.objects.select_related("campaign").filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    if delivery.status != Status.PENDING:
        return f"already {delivery.status}"
    attempts = delivery.attempts + 1
    campaign = delivery.campaign
    try:
        post_json(delivery.url, delivery.payload, key=f"smishguard-{delivery.key}", user_agent="smishguard-response")
    except WebhookFailed as exc:
        give_up = not exc.retry or attempts >= max_attempts
        with transaction.atomic():
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts, last_error=str(exc)[:2000], status=Status.FAILED if give_up else Status.PENDING
            )
            if give_up and campaign is None:
                _security_audit(Action.SECURITY_ALERT_FAILED, delivery, attempts=attempts, error=str(exc))
            elif give_up:
                timeline(
                    campaign,
                    CampaignEvent.Kind.ALERT_FAILED,
                    f"The alert to the security team's webhook failed after {attempts} attempt(s): {exc}",
                    automatic=True,
                    key=delivery.key,
                    error=str(exc),
                )
                record(
                    Action.CAMPAIGN_ALERT_FAILED,
                    actor_label="response-policy",
                    subject_label=f"campaign {campaign.pk}",
                    campaign_id=campaign.pk,
                    key=delivery.key,
                    attempts=attempts,
                    error=str(exc),
                )
            else:
                enqueue_alert(delivery, run_after=timezone.now() + timedelta(seconds=backoff(attempts)))
        log.warning("alert %s: %s (attempt %d)", delivery.key, exc, attempts)
        return "failed" if give_up else "retry"
    with transaction.atomic():
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.DELIVERED, attempts=attempts, delivered_at=timezone.now(), last_error=""
        )
        if campaign is None:
            _security_audit(Action.SECURITY_ALERT_SENT, delivery, attempts=attempts)
            return "delivered"
        timeline(
            campaign,
            CampaignEvent.Kind.ALERTED,
            f"Security team alerted ({delivery.payload.get('event', 'alert')})",
            automatic=True,
            key=delivery.key,
            attempts=attempts,
        )
        record(
            Action.CAMPAIGN_ALERTED,
            actor_label="response-policy",
            subject_label=f"campaign {campaign.pk}",
            campaign_id=campaign.pk,
            key=delivery.key,
            attempts=attempts,
        )
    return "delivered"


def _security_audit(action: Action, delivery: AlertDelivery, **detail: object) -> None:
    """A security alert (no campaign) sent or given up: its subject is the employee it is about."""
    employee = delivery.payload.get("employee") or {}
    record(
        action,
        actor_label="security-alert",
        subject_label=str(employee.get("email") or delivery.key),
        event=delivery.payload.get("event", "alert"),
        key=delivery.key,
        **detail,
    )


@task()
def deliver_alert(delivery_id: int) -> str:
    """POST one alert to the security team's webhook; a failure re-queues itself with backoff."""
    return deliver(delivery_id)


def enqueue_alert(delivery: AlertDelivery, *, run_after: datetime | None = None) -> None:
    runner = deliver_alert if run_after is None else deliver_alert.using(run_after=run_after)
    runner.enqueue(delivery.pk)
