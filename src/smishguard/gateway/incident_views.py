"""Console: the Incidents page — the breach scope of ``smishguard incident scope`` in a form, with its chart of
reads over time and its downloads (JSON, CSV, HTML).  Admins only; each run is audited as the command's is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from smishguard.accounts.page_guards import admin_only
from smishguard.audit import Action, record
from smishguard.gateway import scope as scopes
from smishguard.gateway import scope_report
from smishguard.gateway.errors import ScopeInputInvalid

PAGE_ROWS = 1000  # rows of each table on the page; the downloads have them all


@dataclass(frozen=True)
class Question:
    people: tuple
    since: datetime
    until: datetime

    def query(self) -> str:
        return urlencode(
            {
                "users": " ".join(p.email for p in self.people),
                "since": scopes.iso(self.since),
                "until": scopes.iso(self.until),
            }
        )


def _question(params, now: datetime) -> Question:
    since_raw = params.get("since", "").strip()
    if not since_raw:
        raise ScopeInputInvalid("From: give the start of the period, e.g. 2026-11-01 or 2026-11-01T09:30Z")
    since = scopes.parse_time(since_raw, name="From")
    until_raw = params.get("until", "").strip()
    until = scopes.parse_time(until_raw, name="To") if until_raw else now
    scopes.check_period(since, until)
    people = scopes.employees([params.get("users", "")[:10_000]])
    return Question(people, since, until)


def _audit(request: HttpRequest, result: scopes.Scope, fmt: str) -> None:
    record(
        Action.INCIDENT_SCOPE_REPORTED,
        request=request,
        users=list(result.users),
        since=scopes.iso(result.since),
        until=scopes.iso(result.until),
        format=fmt,
        customers=result.total_customers,
        reads=result.total_reads,
        refused=result.refused_total,
        drafts=0,
    )


@require_GET
@admin_only
def incidents(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context: dict[str, object] = {
        "nav": "incidents",
        "params": request.GET,
        "default_since": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    if "users" not in request.GET:
        return render(request, "gateway/incidents.html", context)
    try:
        question = _question(request.GET, now)
        result = scopes.scope(question.people, question.since, question.until)
        timeline = scopes.timeline(question.people, question.since, question.until)
    except ScopeInputInvalid as exc:
        context["error"] = exc.message
        return render(request, "gateway/incidents.html", context, status=400)
    _audit(request, result, "page")
    context.update(
        {
            "scope": result,
            "data": result.as_dict(),
            "chart": scope_report.chart(timeline),
            "customers": result.customers[:PAGE_ROWS],
            "refused": result.refused[:PAGE_ROWS],
            "page_rows": PAGE_ROWS,
            "download_query": question.query(),
            "formats": scope_report.FORMATS,
        }
    )
    return render(request, "gateway/incidents.html", context)


@require_GET
@admin_only
def incidents_download(request: HttpRequest, fmt: str) -> HttpResponse:
    now = timezone.now()
    try:
        question = _question(request.GET, now)
        result = scopes.scope(question.people, question.since, question.until)
        timeline = scopes.timeline(question.people, question.since, question.until) if fmt == "html" else None
    except ScopeInputInvalid as exc:
        return render(
            request,
            "gateway/incidents.html",
            {"nav": "incidents", "params": request.GET, "error": exc.message},
            status=400,
        )
    body = scope_report.render(result, fmt, timeline=timeline, generated=now, organisation=settings.SMISHGUARD.rp_name)
    _audit(request, result, fmt)
    response = HttpResponse(body, content_type=scope_report.CONTENT_TYPES[fmt])
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="smishguard-incident-scope-{stamp}.{fmt}"'
    return response
