"""A breach scope as JSON, CSV or a self-contained HTML page, and the chart of reads over time (an SVG drawn on
the server: the console's CSP allows no script, and the HTML report carries no script and no style sheet, so it
opens and prints anywhere).  docs/gateway.md, "Breach scope"."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import render_to_string

from smishguard.gateway.scope import Scope, Timeline, iso

FORMATS = ("json", "csv", "html")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
CSV_HEADER = ("kind", "host", "customer", "count", "first", "last", "users", "decisions")


def to_json(result: Scope) -> str:
    return json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n"


def _cell(value: str) -> str:
    """A text cell a spreadsheet will not run: one that starts like a formula gets a leading apostrophe (OWASP's
    CSV injection advice); a customer id comes from a URL, so anyone can choose it."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def to_csv(result: Scope) -> str:
    """One row per customer: ``read`` rows (count = admitted reads), then ``refused`` rows (count = attempts)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for c in result.customers:
        writer.writerow(
            ("read", _cell(c.host), _cell(c.customer), c.reads, iso(c.first), iso(c.last), " ".join(c.users), "")
        )
    for r in result.refused:
        decisions = " ".join(f"{d}={n}" for d, n in r.decisions)
        writer.writerow(
            (
                "refused",
                _cell(r.host),
                _cell(r.customer),
                r.attempts,
                iso(r.first),
                iso(r.last),
                " ".join(r.users),
                decisions,
            )
        )
    return out.getvalue()


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    read_y: float
    read_height: float
    refused_y: float
    refused_height: float
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    """The geometry of the reads-over-time chart, in the SVG's own units (``WIDTH`` x ``HEIGHT``)."""

    unit: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    peak: int
    total_reads: int
    total_refused: int
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    plot_right: int

    @property
    def description(self) -> str:
        return (
            f"Reads per {self.unit}: {self.total_reads} admitted reads and {self.total_refused} refused attempts "
            f"in {len(self.bars)} {self.unit}s; the busiest {self.unit} had {self.peak}."
        )


WIDTH, HEIGHT = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 28  # margins: the peak's label on the left, the time labels below
_LABEL = {"hour": "%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}


def _label(start: datetime, unit: str) -> str:
    return start.strftime(_LABEL[unit])


def chart(timeline: Timeline) -> Chart:
    buckets = timeline.buckets
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    peak = timeline.peak
    slot = plot_w / max(len(buckets), 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    for i, b in enumerate(buckets):
        read_h = plot_h * b.reads / peak if peak else 0.0
        refused_h = plot_h * b.refused / peak if peak else 0.0
        base = TOP + plot_h
        bars.append(
            Bar(
                x=round(LEFT + i * slot + gap / 2, 2),
                width=round(max(slot - gap, 0.5), 2),
                read_y=round(base - read_h, 2),
                read_height=round(read_h, 2),
                refused_y=round(base - read_h - refused_h, 2),
                refused_height=round(refused_h, 2),
                title=f"{_label(b.start, timeline.unit)} UTC: {b.reads} read(s), {b.refused} refused",
            )
        )
    step = max(1, -(-len(buckets) // 6))  # at most about 6 labels under the axis
    ticks = tuple(
        Tick(round(LEFT + i * slot + slot / 2, 2), _label(buckets[i].start, timeline.unit))
        for i in range(0, len(buckets), step)
    )
    return Chart(
        unit=timeline.unit,
        bars=tuple(bars),
        ticks=ticks,
        peak=peak,
        total_reads=sum(b.reads for b in buckets),
        total_refused=sum(b.refused for b in buckets),
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_top=TOP,
        plot_bottom=TOP + plot_h,
        plot_right=WIDTH - RIGHT,
    )


def to_html(result: Scope, timeline: Timeline, *, generated: datetime, organisation: str) -> str:
    """A page that stands alone: no script, no style sheet, no link out; the browser's defaults print it."""
    return render_to_string(
        "gateway/incident_report.html",
        {
            "scope": result,
            "data": result.as_dict(),
            "chart": chart(timeline),
            "generated": iso(generated),
            "organisation": organisation,
        },
    )


def render(result: Scope, fmt: str, *, timeline: Timeline | None, generated: datetime, organisation: str) -> str:
    if fmt == "json":
        return to_json(result)
    if fmt == "csv":
        return to_csv(result)
    if timeline is None:
        raise ValueError("the HTML report needs the timeline")
    return to_html(result, timeline, generated=generated, organisation=organisation)
