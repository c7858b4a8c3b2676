"""The response to a campaign: blocklists, the warning to all staff, the security team's alert, status.

Each action is taken by the policy (``[response]`` in smishguard.toml, :class:`smishguard.config.ResponsePolicy`)
when a report arrives, or by an analyst in the console; either way it lands in the campaign's timeline
(``CampaignEvent``) and in the audit trail.

The default policy:
* a report from a KNOWN employee (matched by phone, e-mail or session to an active employee), judged smishing,
  that links to a lookalike of a protected brand: its lookalike domains go onto the blocklists at once;
* the warning to all staff waits for an analyst's click, or goes out by itself once ``warn_threshold`` (3)
  DIFFERENT known employees reported the same campaign within ``warn_window_seconds`` (an hour), provided the
  campaign is judged one of ``warn_verdicts`` (smishing);
* reports from unknown numbers are recorded and clustered but never trigger an action on their own;
* with ``alert_webhook`` set, the security team is alerted (once per campaign and event) when a known
  employee's report makes a campaign smishing, and when a campaign is blocklisted or warned about.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smishguard.audit import Action, record
from smishguard.config import ResponsePolicy
from smishguard.outbox import queue
from smishguard.reports import blocklists
from smishguard.reports.errors import AlreadyWarned, InvalidStatus, NothingToBlock, NotOnBlocklist, WarningNotQueued
from smishguard.reports.models import AlertDelivery, BlocklistEntry, Campaign, CampaignEvent, Report

log = logging.getLogger("smishguard.reports")

Kind = CampaignEvent.Kind

# The outbox kind of an alert about a campaign (registered by reports.alerting in ReportsConfig.ready()).
ALERT_KIND = "campaign-alert"


def policy() -> ResponsePolicy:
    return settings.SMISHGUARD.response


def _actor_label(actor: Any, automatic: bool) -> str:
    if automatic:
        return "policy"
    return getattr(actor, "email", "") or "cli"


def timeline(
    campaign: Campaign,
    kind: str,
    summary: str,
    *,
    automatic: bool = False,
    actor: Any = None,
    by: str = "",
    at: Any = None,
    **detail: Any,
) -> CampaignEvent:
    """One line of the campaign's timeline; ``by`` names who did it when that is not ``actor`` (a reporter);
    ``at`` dates it (default now: a report's lines take the report's time)."""
    return CampaignEvent.objects.create(
        campaign=campaign,
        at=at or timezone.now(),
        kind=kind,
        automatic=automatic,
        actor_label=(by or _actor_label(actor, automatic))[:254],
        summary=summary[:500],
        detail=detail,
    )


def _audit(action: Action, campaign: Campaign, *, actor: Any, request: Any, automatic: bool, **detail: Any) -> None:
    record(
        action,
        request=request,
        actor=actor,
        actor_label="response-policy" if automatic else None,
        subject_label=f"campaign {campaign.pk}",
        campaign_id=campaign.pk,
        automatic=automatic,
        **detail,
    )


# --- the policy, run for each new report ------------------------------------------------------------------------


def after_report(report: Report, campaign: Campaign, *, created: bool, request: Any = None) -> None:
    """Timeline entries for the report, then whatever the policy does.  Runs in the intake's transaction."""
    who = report.reporter_label + ("" if report.reporter_known else " (unknown, not trusted)")
    if created:
        timeline(
            campaign,
            Kind.CREATED,
            f"Campaign formed by a report from {who}",
            by=report.reporter_label,
            at=report.created_at,
            report_id=report.pk,
        )
        _audit(Action.CAMPAIGN_CREATED, campaign, actor=None, request=request, automatic=True, report_id=report.pk)
    timeline(
        campaign,
        Kind.REPORTED,
        f"Reported through {report.get_channel_display().lower()} by {who}: {report.verdict}",
        by=report.reporter_label,
        at=report.created_at,
        report_id=report.pk,
        known=report.reporter_known,
    )
    if not report.reporter_known:
        return  # unknown numbers never trigger an action on their own
    rules = policy()
    if campaign.verdict == "smishing":
        alert(campaign, "campaign", f"New smishing campaign reported by staff: {campaign.title}")
    if rules.auto_blocklist and report.verdict == "smishing" and report.lookalikes:
        with contextlib.suppress(NothingToBlock):
            add_to_blocklist(campaign, report.lookalikes, automatic=True, report=report, request=request)
    if rules.auto_warn and campaign.warned_at is None and campaign.verdict in rules.warn_verdicts:
        since = report.created_at - timedelta(seconds=rules.warn_window_seconds)
        reporters = (
            campaign.reports.filter(reporter_known=True, reporter__isnull=False, created_at__gte=since)
            .values("reporter_id")
            .distinct()
            .count()
        )
        if reporters >= rules.warn_threshold:
            try:
                warn(campaign, automatic=True, reporters=reporters, at=report.created_at)
            except (AlreadyWarned, WarningNotQueued) as exc:
                log.warning("automatic warning for campaign %s not sent: %s", campaign.pk, exc)


# --- actions ----------------------------------------------------------------------------------------------------


def add_to_blocklist(
    campaign: Campaign,
    domains: list[str] | None = None,
    *,
    actor: Any = None,
    request: Any = None,
    automatic: bool = False,
    report: Report | None = None,
) -> list[str]:
    """Put ``domains`` (default: every domain the campaign links to) on the blocklists; returns those added.

    Official domains of the protected brands are refused; a domain already on the lists is left as it is.
    Raises NothingToBlock when no domain may be blocked.  Done by the policy for ``report``, it is dated with
    the report (the moment it arrived: now, or its ``received_at``).
    """
    wanted = sorted(set(domains if domains is not None else campaign.domains))
    officials = blocklists.official_domains()
    allowed = [d for d in wanted if not blocklists.is_official((blocklists.to_ascii(d) or d), officials)]
    refused = sorted(set(wanted) - set(allowed))
    if not allowed:
        raise NothingToBlock(
            "nothing to block: " + ("only official domains" if refused else "the campaign links to no domain"),
            refused=refused,
        )
    added: list[str] = []
    who = _actor_label(actor, automatic)
    now = report.created_at if automatic and report is not None else timezone.now()
    with transaction.atomic():
        for domain in allowed:
            entry = BlocklistEntry.objects.select_for_update().filter(domain=domain).first()
            if entry is None:
                BlocklistEntry.objects.create(
                    domain=domain,
                    brand=campaign.brand,
                    campaign=campaign,
                    report=report,
                    automatic=automatic,
                    added_by=who,
                    added_at=now,
                )
            elif entry.removed_at is not None:
                entry.removed_at, entry.removed_by = None, ""
                entry.campaign, entry.automatic, entry.added_by = campaign, automatic, who
                entry.added_at = now
                entry.save()
            else:
                continue
            added.append(domain)
        if added:
            Campaign.objects.filter(pk=campaign.pk, blocklisted_at__isnull=True).update(blocklisted_at=now)
            campaign.blocklisted_at = campaign.blocklisted_at or now
            reason = "by policy (a known employee reported a brand lookalike)" if automatic else f"by {who}"
            timeline(
                campaign,
                Kind.BLOCKLISTED,
                f"Added {', '.join(added)} to the blocklists {reason}",
                automatic=automatic,
                actor=actor,
                at=now,
                domains=added,
                refused_official=refused,
                report_id=report.pk if report else None,
            )
            _audit(
                Action.CAMPAIGN_BLOCKLISTED,
                campaign,
                actor=actor,
                request=request,
                automatic=automatic,
                domains=added,
                refused_official=refused,
            )
            alert(campaign, "blocklisted", f"Blocklisted {', '.join(added)} (campaign {campaign.pk}) {reason}")
            blocklists.publish_after_commit()
    return added


def remove_from_blocklist(entry: BlocklistEntry, *, actor: Any = None, request: Any = None) -> None:
    if entry.removed_at is not None:
        return
    with transaction.atomic():
        entry.removed_at = timezone.now()
        entry.removed_by = _actor_label(actor, False)
        entry.save(update_fields=["removed_at", "removed_by"])
        record(Action.BLOCKLIST_ENTRY_REMOVED, request=request, actor=actor, subject_label=entry.domain)
        if entry.campaign is not None:
            timeline(entry.campaign, Kind.BLOCKLISTED, f"Removed {entry.domain} from the blocklists", actor=actor)
        blocklists.publish_after_commit()


def remove_domain(domain: str, *, actor: Any = None, request: Any = None) -> blocklists.BlockedDomain:
    """Take ``domain`` off the blocklists, whatever put it there (issue 11, item 9).

    Its report entries are removed (as :func:`remove_from_blocklist` does), and the Certificate Transparency
    alerts that put it there are marked false positive (the blocklists leave those out, and a later certificate
    for the same domain joins the same alert, so it stays off).  One audit event names every source.
    """
    ascii_form = blocklists.to_ascii(domain) if domain and len(domain) <= 253 else None
    listed = {e.ascii: e for e in blocklists.entries()[0]}
    item = listed.get(ascii_form or "")
    if item is None:
        raise NotOnBlocklist(f"{domain.strip()[:253] or 'an empty name'} is not on the blocklists")
    from smishguard.watch import alerts as ct_alerts

    with transaction.atomic():
        removed: list[BlocklistEntry] = []
        for entry in BlocklistEntry.objects.select_for_update().filter(removed_at__isnull=True):
            if blocklists.to_ascii(entry.domain) == item.ascii:
                entry.removed_at = timezone.now()
                entry.removed_by = _actor_label(actor, False)
                entry.save(update_fields=["removed_at", "removed_by"])
                removed.append(entry)
        alert_ids = ct_alerts.dismiss(item.alert_ids, actor=actor, request=request, why="removed from blocklists")
        record(
            Action.BLOCKLIST_ENTRY_REMOVED,
            request=request,
            actor=actor,
            subject_label=item.ascii,
            sources=list(item.sources),
            alert_ids=alert_ids,
            campaign_ids=sorted({e.campaign_id for e in removed if e.campaign_id is not None}),
        )
        for entry in removed:
            if entry.campaign is not None:
                timeline(entry.campaign, Kind.BLOCKLISTED, f"Removed {entry.domain} from the blocklists", actor=actor)
        blocklists.publish_after_commit()
    return item


def _defang(domain: str) -> str:
    head, _, tail = domain.rpartition(".")
    return f"{head}[.]{tail}" if head else domain


def warning_text(campaign: Campaign) -> str:
    """The warning SMS for ``campaign``, from ``[response] warning_template``."""
    lookalikes = sorted({d for r in campaign.reports.all() for d in (r.lookalikes or ())})
    domains = lookalikes or list(campaign.domains)
    shown = ", ".join(_defang(d) for d in domains[:3]) or "unfamiliar sites"
    brand = f" in {campaign.brand}'s name" if campaign.brand else ""
    return policy().warning_template.format(domains=shown, brand=brand)[:1600]


def warning_progress(campaign: Campaign) -> Any:
    """The delivery figures of the campaign's warning (``messaging.models.BroadcastProgress``), or None."""
    from smishguard.messaging.models import Broadcast

    batch = Broadcast.objects.filter(batch_key=f"campaign-{campaign.pk}-warning").first()
    return batch.progress() if batch is not None else None


def warn(
    campaign: Campaign,
    *,
    actor: Any = None,
    request: Any = None,
    automatic: bool = False,
    reporters: int = 0,
    at: Any = None,
) -> Any:
    """Warn every active employee by SMS, once per campaign (queued; ``smishguard worker`` sends it).  With no
    Twilio account configured (the demo) the texts are recorded as waiting for one and sent once it is."""
    from smishguard.accounts.models import Employee
    from smishguard.messaging.broadcast import broadcast
    from smishguard.messaging.errors import BroadcastConflict, InvalidMessage, ProviderNotConfigured

    body = warning_text(campaign)
    batch_key = f"campaign-{campaign.pk}-warning"
    now = at or timezone.now()  # the policy's warning is dated with the report that triggered it
    try:
        with transaction.atomic():
            if not Campaign.objects.filter(pk=campaign.pk, warned_at__isnull=True).update(warned_at=now):
                raise AlreadyWarned("staff have already been warned about this campaign")
            batch = broadcast(
                Employee.objects.filter(status="active"),
                body,
                purpose="warning",
                batch_key=batch_key,
                actor=actor,
                request=request,
            )
            recipients = batch.messages.count()
            waiting = batch.messages.filter(status="waiting").exists()
            campaign.warned_at = now
            reason = (
                f"by policy ({reporters} different employees reported it)"
                if automatic
                else f"by {_actor_label(actor, False)}"
            )
            timeline(
                campaign,
                Kind.WARNED,
                f"Warning queued to {recipients} employee(s) {reason}"
                + ("; waiting for a Twilio account: it is sent once one is connected" if waiting else ""),
                automatic=automatic,
                actor=actor,
                at=now,
                batch_key=batch_key,
                recipients=recipients,
                text=body,
                waiting_for_provider=waiting,
            )
            _audit(
                Action.CAMPAIGN_WARNED,
                campaign,
                actor=actor,
                request=request,
                automatic=automatic,
                batch_key=batch_key,
                recipients=recipients,
            )
            alert(campaign, "warned", f"All staff warned about campaign {campaign.pk} ({campaign.title}) {reason}")
    except (ProviderNotConfigured, InvalidMessage, BroadcastConflict) as exc:
        timeline(
            campaign, Kind.WARN_FAILED, f"The warning could not be queued: {exc}", automatic=automatic, actor=actor
        )
        raise WarningNotQueued(f"the warning could not be queued: {exc}") from None
    return batch


def mark_attack(report: Report, *, actor: Any = None, request: Any = None) -> Campaign:
    """An analyst says a report the engine judged harmless is an attack: it counts as smishing from now on and
    opens a campaign (or joins the one it matches).  Once per report; returns the report's campaign."""
    from smishguard.reports import campaigns

    if report.state != Report.State.SCANNED:
        raise InvalidStatus("this report was not scanned (refused: too many reports), so it cannot be marked")
    with transaction.atomic():
        row = Report.objects.select_for_update().get(pk=report.pk)
        if row.marked_attack_at is not None and row.campaign is not None:
            return row.campaign
        engine_verdict = row.verdict
        row.verdict = "smishing"
        row.marked_attack_at = timezone.now()
        row.marked_attack_by = _actor_label(actor, False)
        row.save(update_fields=["verdict", "marked_attack_at", "marked_attack_by"])
        campaign, created = campaigns.assign(row)
        assert campaign is not None  # noqa: S101 - a smishing report always has a campaign
        who = _actor_label(actor, False)
        if created:
            timeline(
                campaign, Kind.CREATED, f"Campaign formed when {who} marked report {row.pk} an attack", actor=actor
            )
            _audit(Action.CAMPAIGN_CREATED, campaign, actor=actor, request=request, automatic=False, report_id=row.pk)
        timeline(
            campaign,
            Kind.ATTACK,
            f"Report {row.pk} (judged {engine_verdict or 'unscanned'} by the engine) marked an attack by {who}",
            actor=actor,
            report_id=row.pk,
        )
        record(
            Action.REPORT_MARKED_ATTACK,
            request=request,
            actor=actor,
            subject=row.reporter,
            subject_label=None if row.reporter else row.reporter_label,
            report_id=row.pk,
            campaign_id=campaign.pk,
            engine_verdict=engine_verdict,
            created=created,
        )
        alert(campaign, "campaign", f"Report {row.pk} marked an attack by {who}: {campaign.title}")
    report.refresh_from_db()
    return campaign


def set_status(campaign: Campaign, status: str, *, actor: Any = None, request: Any = None) -> Campaign:
    if status not in Campaign.Status.values:
        raise InvalidStatus(f"status must be one of {', '.join(Campaign.Status.values)}")
    if status == campaign.status:
        return campaign
    with transaction.atomic():
        old = campaign.status
        campaign.status = status
        campaign.status_changed_at = timezone.now()
        campaign.status_changed_by = _actor_label(actor, False)
        campaign.save(update_fields=["status", "status_changed_at", "status_changed_by"])
        timeline(campaign, Kind.STATUS, f"Marked {status} (was {old})", actor=actor, old=old, new=status)
        _audit(
            Action.CAMPAIGN_STATUS_CHANGED, campaign, actor=actor, request=request, automatic=False, old=old, new=status
        )
    return campaign


def stix_exported(campaigns: list[Campaign], *, actor: Any = None, request: Any = None) -> None:
    for campaign in campaigns:
        timeline(campaign, Kind.STIX, "STIX bundle exported", actor=actor)
    record(
        Action.CAMPAIGN_STIX_EXPORTED,
        request=request,
        actor=actor,
        subject_label=", ".join(f"campaign {c.pk}" for c in campaigns[:20]),
        campaign_ids=[c.pk for c in campaigns],
    )


# --- the security team's webhook ---------------------------------------------------------------------------------


def alert(campaign: Campaign, event: str, text: str) -> AlertDelivery | None:
    """Queue one alert to ``[response] alert_webhook`` (once per campaign and event) through the outbox
    (:mod:`smishguard.reports.alerting`); None when none is set."""
    url = policy().alert_webhook
    if not url:
        return None
    key = f"campaign-{campaign.pk}-{event}"
    link = settings.SMISHGUARD.origin.rstrip("/") + f"/console/campaigns/{campaign.pk}"
    payload = {
        "text": f":rotating_light: smishguard: {text}\n{link}",
        "event": event,
        "campaign": campaign.to_dict(),
        "url": link,
    }
    with transaction.atomic():
        delivery, created = AlertDelivery.objects.get_or_create(
            key=key, defaults={"campaign": campaign, "url": url, "payload": payload}
        )
        if created:
            if campaign.alerted_at is None:
                now = timezone.now()
                Campaign.objects.filter(pk=campaign.pk, alerted_at__isnull=True).update(alerted_at=now)
                campaign.alerted_at = now
            queue.record(ALERT_KIND, key, target_id=delivery.pk)
    return delivery
