"""Console: the Awareness results page — the trend over simulations (chart and table), the employees who clicked
in more than one drill, and the downloads (the trend as CSV, every statement as xAPI JSON lines).  Admins only;
each download is recorded in the audit trail."""

from __future__ import annotations

import csv
import io
import json

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from smishguard.accounts.page_guards import admin_only
from smishguard.audit import Action, record
from smishguard.training import charts, results, xapi

TREND_LIMIT = 12  # simulations on the chart; the table and the CSV have them all

TREND_COLUMNS = (
    "id",
    "name",
    "launched_at",
    "recipients",
    "sent",
    "delivered",
    "clicked",
    "submitted",
    "reported",
    "click_rate",
    "submit_rate",
    "report_rate",
    "time_to_first_report_seconds",
    "median_report_seconds",
)


@require_GET
@admin_only
def overview(request: HttpRequest) -> HttpResponse:
    points = results.trend()
    shown = points[-TREND_LIMIT:]
    clickers = results.repeat_clickers()
    sent = sum(p.funnel.sent for p in points)
    totals = {
        "simulations": len(points),
        "sent": sent,
        "click_rate": charts.percent(sum(p.funnel.clicked for p in points), sent),
        "submit_rate": charts.percent(sum(p.funnel.submitted for p in points), sent),
        "report_rate": charts.percent(sum(p.funnel.reported for p in points), sent),
    }
    rows = [
        {
            "name": p.name,
            "launched_at": p.launched_at,
            "funnel": p.funnel,
            "first_report": charts.short_duration(p.funnel.time_to_first_report_seconds),
        }
        for p in reversed(points)
    ]
    context = {
        "points": rows,
        "trend": charts.trend_chart(shown) if shown else None,
        "series": [(label, charts.STEP_COLOURS[step]) for step, label in charts.TREND_SERIES],
        "clickers": clickers,
        "totals": totals,
    }
    return render(request, "training/results.html", context)


def _trend_rows():
    for point in results.trend():
        row = point.as_dict()
        funnel = row.pop("funnel")
        yield [*(row[c] if c in row else funnel.get(c) for c in TREND_COLUMNS)]


@require_GET
@admin_only
def trend_csv(request: HttpRequest) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TREND_COLUMNS)
    for row in _trend_rows():
        writer.writerow("" if value is None else value for value in row)
    record(Action.SIMULATION_RESULTS_EXPORTED, request=request, what="trend", format="csv")
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="smishguard-awareness-trend-{timezone.now():%Y%m%d}.csv"'
    return response


@require_GET
@admin_only
def xapi_lines(request: HttpRequest) -> StreamingHttpResponse:
    record(Action.SIMULATION_RESULTS_EXPORTED, request=request, what="xapi", format="jsonl")
    response = StreamingHttpResponse(
        (json.dumps(statement, ensure_ascii=False) + "\n" for statement in xapi.statements()),
        content_type="application/x-ndjson; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="smishguard-xapi-{timezone.now():%Y%m%d}.jsonl"'
    return response
