"""Console: four-eyes requests, live sessions, the audit trail (audit's rows, read here: audit, the lowest
layer, has no pages of its own, since the admin-only guard is accounts')."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from smishguard.accounts import notices, services, sessions
from smishguard.accounts.middleware import clear_session_cookie
from smishguard.accounts.models import RecoveryRequest, Session
from smishguard.accounts.page_actions import plural
from smishguard.accounts.page_errors import flash_errors
from smishguard.accounts.page_guards import admin_only
from smishguard.audit import Action, record
from smishguard.audit.models import Event

AUDIT_PAGE_SIZE = 50


# --- recovery requests ---------------------------------------------------------------------------------


def pending_requests(request: HttpRequest) -> int:  # noqa: ARG001 - a menu badge's signature (accounts.nav)
    """The menu's count beside "Four-eyes requests": requests waiting for a second admin."""
    return RecoveryRequest.objects.filter(status=RecoveryRequest.Status.PENDING).count()


@require_GET
@admin_only
def recovery(request: HttpRequest) -> HttpResponse:
    pending = RecoveryRequest.objects.filter(status=RecoveryRequest.Status.PENDING).select_related(
        "employee", "requested_by"
    )
    decided = (
        RecoveryRequest.objects.exclude(status=RecoveryRequest.Status.PENDING)
        .select_related("employee", "decided_by")
        .order_by("-decided_at", "-requested_at")[:20]
    )
    context = {
        "pending": pending,
        "decided": decided,
        "nav": "recovery",
        "min_age_days": settings.SMISHGUARD.approvals.min_age_days,
    }
    return render(request, "accounts/console/recovery.html", context)


@require_POST
@admin_only
@flash_errors("accounts:console-recovery")
def approve_recovery(request: HttpRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(RecoveryRequest.objects.select_related("employee"), pk=pk)
    sessions.require_fresh_assertion(request, what="approving a four-eyes request")
    approval = services.approve(rec.pk, approver=request.user, request=request)
    if approval.link is None:
        messages.success(request, f"Approved request #{rec.pk}: {rec.employee.name} is now an admin.")
    else:
        label = "recovery" if rec.kind == RecoveryRequest.Kind.RECOVERY else "first enrolment link"
        messages.success(request, f"Approved {label} #{rec.pk} for {rec.employee.name}.")
        # Shown once, on the next page, from server-side state (accounts.notices), never from a cookie.
        notices.hold(request, approval.link.url, approval.link.expires)
    return redirect("accounts:console-employee", pk=rec.employee.pk)


@require_POST
@admin_only
@flash_errors("accounts:console-recovery")
def refuse_recovery(request: HttpRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(RecoveryRequest.objects.select_related("employee"), pk=pk)
    services.refuse_recovery(rec.pk, approver=request.user, request=request)
    label = "recovery" if rec.kind == RecoveryRequest.Kind.RECOVERY else "request"
    messages.success(request, f"Refused {label} #{rec.pk} for {rec.employee.name}. Nothing was issued or granted.")
    return redirect("accounts:console-recovery")


# --- sessions ------------------------------------------------------------------------------------------


@require_GET
@admin_only
def all_sessions(request: HttpRequest) -> HttpResponse:
    live = sessions.live().select_related("employee", "credential").order_by("-last_seen_at")
    page = Paginator(live, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/console/sessions.html",
        {"page": page, "current_id": request.sg_session.pk, "nav": "console-sessions"},
    )


@require_POST
@admin_only
def revoke_session(request: HttpRequest, pk: int) -> HttpResponse:
    target = Session.objects.filter(pk=pk)
    session = get_object_or_404(target.select_related("employee"))
    count = sessions.revoke(target, reason="revoked by admin", request=request)
    if pk == request.sg_session.pk:
        messages.success(request, "You revoked your own session and are signed out.")
        response = redirect(settings.LOGIN_URL)
        clear_session_cookie(response)
        return response
    if count:
        messages.success(request, f"Revoked a session of {session.employee.name}. That device is signed out now.")
    else:
        messages.info(request, "That session had already ended.")
    return redirect("accounts:console-sessions")


@require_http_methods(["GET", "POST"])
@admin_only
def revoke_all(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        others = sessions.live().exclude(pk=request.sg_session.pk)
        return render(
            request,
            "accounts/console/revoke_all_confirm.html",
            {
                "session_count": others.count(),
                "employee_count": others.values("employee").distinct().count(),
                "nav": "console-sessions",
            },
        )
    sessions.require_fresh_assertion(request, what="revoking every session")
    if request.POST.get("confirm") != "REVOKE ALL":
        messages.error(request, "Type REVOKE ALL to confirm.")
        return redirect("accounts:console-revoke-all")
    include_mine = request.POST.get("include_mine") == "on"
    targets = Session.objects.all() if include_mine else Session.objects.exclude(pk=request.sg_session.pk)
    count = sessions.revoke(targets, reason="all sessions revoked by admin", request=request)
    messages.success(request, f"Revoked {plural(count, 'session')}. Everyone must sign in again with their key.")
    if include_mine:
        response = redirect(settings.LOGIN_URL)
        clear_session_cookie(response)
        return response
    return redirect("accounts:console-sessions")


# --- audit trail ---------------------------------------------------------------------------------------


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
