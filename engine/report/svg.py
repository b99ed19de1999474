"""Chart geometry: stacked bars and lines over periods, as plain values for the template.

Nothing here writes markup: the Jinja2 template (autoescaped) turns a `Chart` into
inline SVG, so every label is escaped in one place. Each series becomes a
`<g data-series=NAME>` whose bars or points carry `data-period` and `data-value`,
which is what the tests count and what a reader's tools can pick up. Series colours
are CSS classes `s0`, `s1` … and, for ordered series, `q0`, `q1` … (engine/report/palette.py).
"""
from __future__ import annotations

import math
from datetime import date
from dataclasses import dataclass, field
from fractions import Fraction

from arrears.engine.report.fmt import NA, short
from arrears.engine.report.palette import categorical

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 44


@dataclass(frozen=True)
class Mark:
    """A bar (x, y, w, h) or a point (x, y; w = h = 0), with its period, value and tooltip."""

    x: float
    y: float
    w: float
    h: float
    period: str
    value: str
    title: str


@dataclass
class Series:
    """One named series: its marks and, for lines, the polylines joining them (gaps where null)."""

    name: str
    label: str
    css: str
    marks: list = field(default_factory=list)
    lines: list = field(default_factory=list)      # "x,y x,y …" per unbroken run


@dataclass
class Chart:
    """Everything the template needs to draw one chart and its text alternative."""

    id: str
    kind: str                     # "stacked-bars" or "lines"
    title: str
    summary: str                  # the <desc>: the chart in one or two sentences
    unit: str | None
    periods: list                 # labels of the x positions
    series: list
    y_ticks: list                 # (y, label)
    x_labels: list                # (x, label)
    table_head: list
    table_rows: list
    width: int = WIDTH
    height: int = HEIGHT
    plot: tuple = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering lo..hi (steps of 1, 2 or 5 times a power of ten)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t < hi + step * 0.999:
        ticks.append(round(t, 10))
        t += step
    return ticks


class _Frame:
    """Maps period indexes and values to SVG coordinates."""

    def __init__(self, n: int, ticks: list[float]):
        x0, y0, x1, y1 = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
        self.n, self.lo, self.hi = n, ticks[0], ticks[-1]
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.slot = (x1 - x0) / max(n, 1)

    def x(self, i: int) -> float:
        return round(self.x0 + self.slot * (i + 0.5), 2)

    def y(self, value: float) -> float:
        return round(self.y1 - (value - self.lo) / (self.hi - self.lo) * (self.y1 - self.y0), 2)


def axis_label(period: str) -> str:
    """A period label short enough for the x axis: 'Mar 2026' and '15-31 Mar 2026' -> 'Mar 26',
    a day '2026-03-15' -> '15 Mar'."""
    parts = period.split()
    if len(parts) == 1 and len(period) == 10 and period[4] == period[7] == "-":     # an ISO day: '1 Jul'
        return date.fromisoformat(period).strftime("%-d %b")
    return f"{parts[-2]} {parts[-1][-2:]}" if len(parts) >= 2 else period


def _axes(frame: _Frame, ticks, periods, unit):
    y_ticks = [(frame.y(t), short(t, unit)) for t in ticks]
    every = max(1, math.ceil(len(periods) / 12))      # at most ~12 labels fit under the plot
    x_labels = [(frame.x(i), axis_label(p)) for i, p in enumerate(periods) if i % every == 0]
    return y_ticks, x_labels


def stacked_bars(chart_id: str, title: str, summary: str, periods: list[str], series: list[tuple],
                 unit: str | None, shown, *, ordered: bool = False) -> Chart:
    """Bars per period stacked by series. `series`: (name, label, values) with Fractions or
    None (drawn as nothing); `shown(value)` formats a value for tooltips and the table;
    `ordered`: the series are steps of one scale (aging buckets), coloured light to dark."""
    totals = [sum((v[i] or 0 for _, _, v in series), Fraction(0)) for i in range(len(periods))]
    ticks = nice_ticks(0, float(max(totals, default=0)) or 1)
    frame = _Frame(len(periods), ticks)
    out, base = [], [Fraction(0)] * len(periods)
    for k, (name, label, values) in enumerate(series):
        s = Series(name, label, f"q{k}" if ordered else categorical(k))
        for i, v in enumerate(values):
            if v is None:
                continue
            top, bottom = frame.y(float(base[i] + v)), frame.y(float(base[i]))
            w = min(frame.slot * 0.62, 56.0)     # few periods: bars, not slabs
            s.marks.append(Mark(round(frame.x(i) - w / 2, 2), top, round(w, 2), round(bottom - top, 2),
                                periods[i], str(float(v)), f"{label}, {periods[i]}: {shown(v)}"))
            base[i] += v
        out.append(s)
    y_ticks, x_labels = _axes(frame, ticks, periods, unit)
    rows = [[p, *(shown(v[i]) for _, _, v in series), shown(totals[i])] for i, p in enumerate(periods)]
    return Chart(chart_id, "stacked-bars", title, summary, unit, periods, out, y_ticks, x_labels,
                 ["period", *(label for _, label, _ in series), "total"], rows)


def lines(chart_id: str, title: str, summary: str, periods: list[str], series: list[tuple],
          unit: str | None, shown, reasons: dict | None = None) -> Chart:
    """One line per series over the periods; a null value breaks the line there, and its
    table cell says n/a and why (`reasons`: series name -> the reason per period)."""
    values = [float(v) for _, _, vs in series for v in vs if v is not None]
    lo = min(0.0, min(values, default=0.0))
    ticks = nice_ticks(lo, max(values, default=0.0) or 1)
    frame = _Frame(len(periods), ticks)
    out = []
    for k, (name, label, vs) in enumerate(series):
        s = Series(name, label, categorical(k))
        run: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                if len(run) > 1:
                    s.lines.append(" ".join(run))
                run = []
                continue
            x, y = frame.x(i), frame.y(float(v))
            s.marks.append(Mark(x, y, 0, 0, periods[i], str(float(v)), f"{label}, {periods[i]}: {shown(v)}"))
            run.append(f"{x},{y}")
        if len(run) > 1:
            s.lines.append(" ".join(run))
        out.append(s)
    y_ticks, x_labels = _axes(frame, ticks, periods, unit)
    why = reasons or {}

    def cell(name, vs, i):
        if vs[i] is not None or not why.get(name) or not why[name][i]:
            return shown(vs[i])
        return f"{NA}: {why[name][i]}"
    rows = [[p, *(cell(name, vs, i) for name, _, vs in series)] for i, p in enumerate(periods)]
    return Chart(chart_id, "lines", title, summary, unit, periods, out, y_ticks, x_labels,
                 ["period", *(label for _, label, _ in series)], rows)
