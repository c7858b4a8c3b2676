"""Console pages for the response: API tokens, the reports inbox, campaigns (with their response actions) and the
blocklist (the protected brands are :mod:`smishguard.detection.views`')."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from smishguard.accounts import scopes, tokens
from smishguard.accounts.models import ApiToken
from smishguard.accounts.page_errors import flash_errors
from smishguard.accounts.page_guards import admin_only
from smishguard.accounts.sessions import require_fresh_assertion
from smishguard.errors import SmishguardError
from smishguard.reports import blocklists, response, stix
from smishguard.reports.actions import campaign_buttons
from smishguard.reports.models import BlocklistEntry, Campaign, Report


@admin_only
def api_tokens(request: HttpRequest) -> HttpResponse:
    new_secret = None
    error = None
    if request.method == "POST":
        require_fresh_assertion(request, what="issuing an API token")
        try:
            row, new_secret = tokens.issue(
                request.POST.get("name", ""),
                scopes=request.POST.getlist("scopes"),
                actor=request.user,
                request=request,
            )
        except SmishguardError as exc:
            error = exc.message
        else:
            messages.success(request, f"Issued the token “{row.name}”. Copy it now: it is not shown again.")
    context = {
        "tokens": ApiToken.objects.all(),
        "scopes": scopes.names(),
        "new_secret": new_secret,
        "error": error,
        "nav": "tokens",
    }
    # The secret is in this one response only; never cached anywhere.
    response = render(request, "reports/tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@admin_only
@require_POST
@flash_errors("reports:tokens")
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    require_fresh_assertion(request, what="revoking an API token")
    row = tokens.revoke(pk, actor=request.user, request=request)
    messages.success(request, f"Revoked the token “{row.name}”. Requests with it are refused from now on.")
    return redirect(reverse("reports:tokens"))


# --- reported texts, campaigns and the blocklist ----------------------------------------------------------------

PAGE_SIZE = 50


def _page(request: HttpRequest, rows):
    from django.core.paginator import Paginator

    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
@admin_only
def inbox(request: HttpRequest) -> HttpResponse:
    verdict = request.GET.get("verdict", "").strip()
    channel = request.GET.get("channel", "").strip()
    reporter = request.GET.get("reporter", "").strip()
    query = request.GET.get("q", "").strip()
    rows = Report.objects.select_related("campaign", "reporter")
    if verdict in ("smishing", "spam", "benign"):
        rows = rows.filter(verdict=verdict)
    elif verdict == "review":  # judged harmless, in no campaign: waiting for an analyst's look
        rows = rows.filter(state=Report.State.SCANNED, verdict="benign", campaign__isnull=True)
    elif verdict == "rate_limited":
        rows = rows.filter(state=Report.State.RATE_LIMITED)
    else:
        verdict = ""
    if channel in Report.Channel.values:
        rows = rows.filter(channel=channel)
    else:
        channel = ""
    if reporter == "known":
        rows = rows.filter(reporter_known=True)
    elif reporter == "unknown":
        rows = rows.filter(reporter_known=False)
    else:
        reporter = ""
    if query:
        rows = rows.filter(Q(text__icontains=query) | Q(reporter_label__icontains=query) | Q(sender__icontains=query))
    params = {k: v for k, v in (("verdict", verdict), ("channel", channel), ("reporter", reporter), ("q", query)) if v}
    context = {
        "page": _page(request, rows),
        "flt": {"verdict": verdict, "channel": channel, "reporter": reporter, "q": query},
        "channels": Report.Channel.choices,
        "filter_query": urlencode(params),
        "nav": "reports-inbox",
    }
    return render(request, "reports/inbox.html", context)


@require_GET
@admin_only
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(Report.objects.select_related("campaign", "reporter"), pk=pk)
    return render(request, "reports/report.html", {"report": report, "nav": "reports-inbox"})


@require_POST
@admin_only
@flash_errors("reports:report", "pk", sentence=True)
def report_attack(request: HttpRequest, pk: int) -> HttpResponse:
    """ "This is an attack": a report judged harmless opens (or joins) a campaign, which then offers the response."""
    report = get_object_or_404(Report, pk=pk)
    campaign = response.mark_attack(report, actor=request.user, request=request)
    messages.success(request, f"Report {report.pk} marked an attack: it is now in campaign #{campaign.pk}.")
    return redirect("reports:campaign", pk=campaign.pk)


@require_GET
@admin_only
def campaigns(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "").strip()
    verdict = request.GET.get("verdict", "").strip()
    rows = Campaign.objects.all()
    if status in Campaign.Status.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    if verdict in ("smishing", "spam", "benign"):
        rows = rows.filter(verdict=verdict)
    else:
        verdict = ""
    params = {k: v for k, v in (("status", status), ("verdict", verdict)) if v}
    context = {
        "page": _page(request, rows),
        "flt": {"status": status, "verdict": verdict},
        "statuses": Campaign.Status.choices,
        "filter_query": urlencode(params),
        "open_count": Campaign.objects.filter(status=Campaign.Status.OPEN, verdict="smishing").count(),
        "nav": "campaigns",
    }
    return render(request, "reports/campaigns.html", context)


def _reporters(campaign: Campaign) -> list[dict]:
    """Who reported the campaign: the label (number, e-mail, token) and, for an employee, their name."""
    rows: dict[str, dict] = {}
    fields = ("reporter_label", "reporter_known", "reporter__name", "created_at")
    for r in campaign.reports.order_by("created_at").values(*fields):
        row = rows.setdefault(
            r["reporter_label"],
            {"label": r["reporter_label"], "known": r["reporter_known"], "name": r["reporter__name"] or "", "n": 0},
        )
        row["n"] += 1
        row["last"] = r["created_at"]
    return list(rows.values())


@require_GET
@admin_only
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Campaign, pk=pk)
    samples = []
    seen = set()
    for report in row.reports.order_by("created_at"):
        if report.fingerprint not in seen:
            seen.add(report.fingerprint)
            samples.append(report)
        if len(samples) >= 5:
            break
    from smishguard.reports.blocklists import is_official, official_domains

    officials = official_domains()
    blocked = set(BlocklistEntry.objects.filter(removed_at__isnull=True).values_list("domain", flat=True))
    domains = [{"name": d, "blocked": d in blocked, "official": is_official(d, officials)} for d in row.domains]
    context = {
        "campaign": row,
        "samples": samples,
        "reporters": _reporters(row),
        "domains": domains,
        "can_block": any(not d["blocked"] and not d["official"] for d in domains),
        "events": row.events.all(),
        "warning": response.warning_progress(row) if row.warned_at else None,
        "statuses": Campaign.Status.choices,
        "actions": campaign_buttons(row),  # other apps' buttons (reports.actions): training's "make a drill of it"
        "nav": "campaigns",
    }
    return render(request, "reports/campaign.html", context)


@require_POST
@admin_only
@flash_errors("reports:campaign", "pk", sentence=True)
def campaign_blocklist(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Campaign, pk=pk)
    added = response.add_to_blocklist(row, actor=request.user, request=request)
    if added:
        messages.success(request, f"Added {', '.join(added)} to the blocklists.")
    else:
        messages.info(request, "Every domain of this campaign is already on the blocklists.")
    return redirect("reports:campaign", pk=row.pk)


@admin_only
@flash_errors("reports:campaign", "pk", sentence=True)
def campaign_warn(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Campaign, pk=pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        require_fresh_assertion(request, what="texting a warning to all staff")
        progress = response.warn(row, actor=request.user, request=request).progress()
        if progress.waiting:
            messages.success(
                request,
                f"Warning queued to {progress.total} employee(s), waiting for a Twilio account: "
                "it is sent once one is connected (docs/messaging.md).",
            )
        else:
            messages.success(request, f"Warning queued to {progress.total} employee(s); the worker sends it now.")
        return redirect("reports:campaign", pk=row.pk)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    from smishguard.accounts.models import Employee

    recipients = Employee.objects.filter(status="active").exclude(phone="").count()
    context = {
        "campaign": row,
        "text": response.warning_text(row),
        "recipients": recipients,
        "twilio_ready": settings.SMISHGUARD.twilio.configured,
        "nav": "campaigns",
    }
    return render(request, "reports/warn_confirm.html", context)


@require_GET
@admin_only
def campaign_warning(request: HttpRequest, pk: int) -> HttpResponse:
    """The texts of the campaign's warning to staff: each recipient and its state (queued, sent, delivered,
    failed, or waiting for a Twilio account)."""
    from smishguard.messaging.models import Broadcast

    row = get_object_or_404(Campaign, pk=pk)
    batch = Broadcast.objects.filter(batch_key=f"campaign-{row.pk}-warning").first()
    texts = batch.messages.select_related("employee").order_by("pk") if batch is not None else []
    context = {
        "campaign": row,
        "batch": batch,
        "progress": batch.progress() if batch is not None else None,
        "page": _page(request, texts),
        "twilio_ready": settings.SMISHGUARD.twilio.configured,
        "nav": "campaigns",
    }
    return render(request, "reports/campaign_warning.html", context)


@require_POST
@admin_only
@flash_errors("reports:campaign", "pk")
def campaign_status(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Campaign, pk=pk)
    response.set_status(row, request.POST.get("status", ""), actor=request.user, request=request)
    messages.success(request, f"Campaign marked {row.status}.")
    return redirect("reports:campaign", pk=row.pk)


@require_GET
@admin_only
def campaign_stix(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Campaign, pk=pk)
    body = stix.bundle_json([row])
    response.stix_exported([row], actor=request.user, request=request)
    out = HttpResponse(body, content_type="application/stix+json;version=2.1")
    out["Content-Disposition"] = f'attachment; filename="smishguard-campaign-{row.pk}.stix.json"'
    return out


@require_GET
@admin_only
def blocklist(request: HttpRequest) -> HttpResponse:
    lists = blocklists.build()
    base = request.build_absolute_uri("/api/blocklists/")
    context = {
        "lists": lists,
        "entries": lists.entries,
        "rows": _blocklist_rows(lists.entries),
        "urls": {kind: base + kind for kind in ("rpz", "hosts", "domains")},
        "stix_url": request.build_absolute_uri("/api/stix/campaigns"),
        "directory": settings.SMISHGUARD.response.blocklist_dir,
        "files": blocklists.FILES,
        "nav": "blocklist",
    }
    return render(request, "reports/blocklist.html", context)


def _blocklist_rows(entries: tuple[blocklists.BlockedDomain, ...]) -> list[dict[str, object]]:
    """Each blocked domain with where it came from: its report entries and the CT alerts that raised it."""
    from smishguard.watch import alerts as ct_alerts

    by_ascii: dict[str, list[BlocklistEntry]] = {}
    for entry in BlocklistEntry.objects.filter(removed_at__isnull=True):
        by_ascii.setdefault(blocklists.to_ascii(entry.domain) or entry.domain, []).append(entry)
    alert_ids = [pk for e in entries for pk in e.alert_ids]
    alerts_by_pk = {a.pk: a for a in ct_alerts.lookalikes(ids=alert_ids)}
    return [
        {
            "entry": e,
            "reports": by_ascii.get(e.ascii, []),
            "alerts": [alerts_by_pk[pk] for pk in e.alert_ids if pk in alerts_by_pk],
        }
        for e in entries
    ]


@require_POST
@admin_only
@flash_errors("reports:blocklist")
def blocklist_remove_domain(request: HttpRequest) -> HttpResponse:
    """Remove a domain whatever put it there: reports and/or Certificate Transparency alerts (issue 11)."""
    domain = request.POST.get("domain", "").strip()[:300]
    require_fresh_assertion(request, what="removing a domain from the blocklists")
    item = response.remove_domain(domain, actor=request.user, request=request)
    note = " (its CT alerts are marked false positive)" if "ct" in item.sources else ""
    messages.success(request, f"Removed {item.ascii} from the blocklists{note}.")
    return redirect("reports:blocklist")


@require_POST
@admin_only
def blocklist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(BlocklistEntry, pk=pk)
    require_fresh_assertion(request, what="removing a domain from the blocklists")
    response.remove_from_blocklist(entry, actor=request.user, request=request)
    messages.success(request, f"Removed {entry.domain} from the blocklists.")
    return redirect("reports:blocklist")
