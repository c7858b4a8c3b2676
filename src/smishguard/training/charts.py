"""The geometry of the results pages' charts, drawn as inline SVG by the templates (no script: the pages' strict
Content-Security-Policy allows none).  Pure arithmetic over ``results``' dataclasses; the templates only place it.

- ``trend_chart``: per simulation in launch order, three bars side by side, the click, submit and report rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from smishguard.training.results import TrendPoint

# The colours say good or bad: a click or a submit is the drill catching someone (orange, red), a report is the
# right answer (green).
STEP_COLOURS = {"clicked": "#f97316", "submitted": "#dc2626", "reported": "#16a34a"}
TREND_SERIES = (("clicked", "Clicked"), ("submitted", "Typed on the page"), ("reported", "Reported"))


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    colour: str
    x: float
    y: float
    width: float
    height: float
    value: int
    percent: str  # "42%", or "" when nothing was sent
    text_x: float
    text_y: float


def short_duration(seconds: float | None) -> str:
    """A delay for a person to read: 45 s, 12 min, 3 h 5 min, 2 d 4 h ("" for None)."""
    if seconds is None:
        return ""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else ""


@dataclass(frozen=True)
class TrendGroup:
    name: str
    bars: tuple[Bar, ...]
    label_x: float


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    plot_right: int
    groups: tuple[TrendGroup, ...]
    gridlines: tuple[tuple[float, str], ...]  # (y, "50%")
    description: str


def trend_chart(points: list[TrendPoint], *, width: int = 640, height: int = 220) -> TrendChart:
    plot_left, plot_right, plot_top, plot_bottom = 40, width - 10, 10, height - 40
    plot_height = plot_bottom - plot_top
    slot = (plot_right - plot_left) / max(1, len(points))
    bar_width = min(22.0, slot / (len(TREND_SERIES) + 1))
    groups = []
    for index, point in enumerate(points):
        start = plot_left + index * slot + (slot - bar_width * len(TREND_SERIES)) / 2
        bars = []
        for offset, (step, label) in enumerate(TREND_SERIES):
            rate = point.funnel.rate(step) or 0.0
            bar_height = round(plot_height * rate, 1)
            x = round(start + offset * bar_width, 1)
            bars.append(
                Bar(
                    key=step,
                    label=label,
                    colour=STEP_COLOURS[step],
                    x=x,
                    y=round(plot_bottom - bar_height, 1),
                    width=round(bar_width - 2, 1),
                    height=bar_height,
                    value=getattr(point.funnel, step),
                    percent=percent(getattr(point.funnel, step), point.funnel.sent),
                    text_x=x,
                    text_y=plot_bottom,
                )
            )
        groups.append(TrendGroup(point.name, tuple(bars), round(plot_left + index * slot + slot / 2, 1)))
    gridlines = tuple((round(plot_bottom - plot_height * share, 1), f"{int(share * 100)}%") for share in (0.5, 1.0))
    description = "; ".join(
        f"{g.name}: " + ", ".join(f"{b.label.lower()} {b.percent or '0%'}" for b in g.bars) for g in groups
    )
    return TrendChart(
        width, height, plot_left, plot_top, plot_bottom, plot_right, tuple(groups), gridlines, description
    )
