"""Console pages (admins only): lookalike alerts from Certificate Transparency, and the watched logs."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from smishguard.accounts.page_guards import admin_only
from smishguard.accounts.sessions import require_fresh_assertion
from smishguard.watch import store
from smishguard.watch.models import LogState, LookalikeAlert

PAGE_SIZE = 50
Status = LookalikeAlert.Status


@require_GET
@admin_only
def alerts(request: HttpRequest) -> HttpResponse:
    brand = request.GET.get("brand", "").strip()
    status = request.GET.get("status", "").strip()
    query = request.GET.get("q", "").strip().lower()
    rows = LookalikeAlert.objects.all()
    if brand:
        rows = rows.filter(brand=brand)
    if status in Status.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    if query:
        rows = rows.filter(domain__contains=query)
    params = {k: v for k, v in (("brand", brand), ("status", status), ("q", query)) if v}
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "brands": LookalikeAlert.objects.order_by("brand").values_list("brand", flat=True).distinct(),
        "statuses": Status.choices,
        "flt": {"brand": brand, "status": status, "q": query},
        "filter_query": urlencode(params),
        "open_count": LookalikeAlert.objects.filter(status=Status.OPEN).count(),
        "nav": "watch-alerts",
    }
    return render(request, "watch/alerts.html", context)


@require_GET
@admin_only
def alert(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(LookalikeAlert, pk=pk)
    context = {
        "alert": row,
        "sightings": row.sightings.all()[:100],
        "deliveries": row.deliveries.all(),
        "statuses": Status.choices,
        "nav": "watch-alerts",
    }
    return render(request, "watch/alert.html", context)


@require_POST
@admin_only
def alert_status(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(LookalikeAlert, pk=pk)
    new = request.POST.get("status", "")
    if new not in Status.values:
        messages.error(request, "Choose open, acknowledged or false positive.")
        return redirect("watch:alert", pk=row.pk)
    if new == Status.FALSE_POSITIVE and row.status != new:
        # A false positive leaves the blocklists: the same key touch as removing a blocklist entry (issue 10).
        require_fresh_assertion(request, what="marking an alert false positive (its domain leaves the blocklists)")
    if store.set_status(row, new, actor=request.user, request=request):
        messages.success(request, f"{row.domain}: marked {row.get_status_display().lower()}.")
    return redirect("watch:alert", pk=row.pk)


@require_GET
@admin_only
def logs(request: HttpRequest) -> HttpResponse:
    return render(request, "watch/logs.html", {"logs": LogState.objects.all(), "nav": "watch-logs"})
