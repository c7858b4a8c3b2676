"""Console: the audit trail and its export.  The rows are audit's (the lowest layer, which has no pages: the
admin-only guard is accounts'), read here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from smishguard.accounts.page_guards import admin_only
from smishguard.audit import Action, record
from smishguard.audit.models import Event

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    person: str = ""
    since: datetime | None = None
    until: datetime | None = None
    errors: tuple[str, ...] = ()

    def apply(self, events: QuerySet[Event]) -> QuerySet[Event]:
        if self.action:
            if self.action.endswith(":"):
                events = events.filter(action__startswith=self.action)
            else:
                events = events.filter(action=self.action)
        if self.person:
            events = events.filter(Q(actor_label__icontains=self.person) | Q(subject_label__icontains=self.person))
        if self.since is not None:
            events = events.filter(at__gte=self.since)
        if self.until is not None:
            events = events.filter(at__lt=self.until)
        return events

    def to_dict(self) -> dict[str, str]:
        out = {"action": self.action, "person": self.person}
        if self.since is not None:
            out["since"] = self.since.isoformat()
        if self.until is not None:
            out["until"] = self.until.isoformat()
        return {k: v for k, v in out.items() if v}


# What the audit page's From and To fields take (their HTML pattern, and checked again here): an ISO date, or a
# date and time with a "T" or a space between, to the minute or second, in UTC ("Z" may end it).
TIME_PATTERN = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?"
_TIME_RE = re.compile(TIME_PATTERN)


def _parse_time(value: str, *, end: bool) -> datetime:
    """A date (YYYY-MM-DD) or a UTC date and time (YYYY-MM-DDTHH:MM[:SS], "T" or a space between).

    As an end ("To") the value is inclusive to its precision: a date covers the whole day, a minute the whole
    minute; the returned instant is then the exclusive upper bound.
    """
    value = value.strip()
    if not _TIME_RE.fullmatch(value):
        raise ValueError(value)
    value = value.removesuffix("Z")
    if len(value) == 10:
        start = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not end:
        return parsed
    return parsed + (timedelta(minutes=1) if len(value) == 16 else timedelta(seconds=1))


def audit_filter(params: dict[str, str]) -> AuditFilter:
    action = params.get("action", "").strip()[:64]
    known = (
        {a.value for a in Action} | {a.value.rsplit(":", 1)[0] + ":" for a in Action} | {a.source + ":" for a in Action}
    )
    errors: list[str] = []
    if action and action not in known:
        errors.append(f"unknown action {action!r}")
        action = ""
    times: dict[str, datetime | None] = {"since": None, "until": None}
    for key in times:
        raw = params.get(key, "").strip()
        if not raw:
            continue
        try:
            times[key] = _parse_time(raw, end=key == "until")
        except ValueError:
            label = "From" if key == "since" else "To"
            errors.append(f"{label}: {raw!r} is not a date like 2025-01-31 or 2025-01-31T09:30 (UTC)")
    return AuditFilter(action, params.get("person", "").strip()[:254], times["since"], times["until"], tuple(errors))


def _action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Actions grouped by ``source:subject``, each group led by an entry that matches the whole group."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for a in Action:
        groups.setdefault(a.value.rsplit(":", 1)[0], []).append((a.value, a.value))
    return [(prefix, [(f"{prefix}:", f"any {prefix} event"), *members]) for prefix, members in groups.items()]


@require_GET
@admin_only
def audit(request: HttpRequest) -> HttpResponse:
    flt = audit_filter(request.GET)
    events = flt.apply(Event.objects.all())
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "accounts/console/audit.html",
        {
            "page": page,
            "flt": flt,
            "params": request.GET,
            "actions": _action_choices(),
            "filter_query": filters.urlencode(),
            "time_pattern": TIME_PATTERN,
            "nav": "audit",
        },
    )


def _jsonl(events: QuerySet[Event]) -> Iterator[str]:
    for event in events.iterator(chunk_size=1000):
        yield json.dumps(event.to_dict(), separators=(",", ":"), sort_keys=True) + "\n"


@require_GET
@admin_only
def audit_export(request: HttpRequest) -> HttpResponse:
    flt = audit_filter(request.GET)
    if flt.errors:
        messages.error(request, "Cannot export: " + "; ".join(flt.errors))
        return redirect(f"{reverse('accounts:console-audit')}?{request.GET.urlencode()}")
    events = flt.apply(Event.objects.all()).order_by("at", "id")
    # Recorded before the export is streamed, so the export includes its own record when the filter matches.
    record(Action.AUDIT_EXPORTED, request=request, filters=flt.to_dict(), format="jsonl")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(_jsonl(events), content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="smishguard-audit-{stamp}.jsonl"'
    return response
