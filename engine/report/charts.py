"""The report's charts: aging over time, roll rates, DSO, collections by channel, goal progress.

Each function turns figures (arrears.engine.report.data, or a goals report) into `Chart`s or
goal bullet rows, with a one-sentence summary for the chart's <desc>: the text a
screen reader announces and a reader skimming the page takes away.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from arrears.engine.kpis.catalogue import charted
from arrears.engine.report import fmt
from arrears.engine.report.svg import Chart, lines, stacked_bars


def _last(values):
    return next((v for v in reversed(values) if v is not None), None)


def aging_chart(view) -> Chart:
    """Stacked bars: the balance in each aging bucket at each period's end."""
    cur = view.currency
    latest = {b: _last(v) for b, v in view.aging.items()}
    total = sum((v for v in latest.values() if v is not None), Fraction(0))
    oldest = view.buckets[-1]
    share = "" if not total or latest[oldest] is None else \
        f"; {fmt.number(latest[oldest] / total * 100, 'percent')} of it in {oldest}"
    summary = (f"Receivables by aging bucket at the end of each period, {cur}. At the end of "
               f"{view.periods[-1]}: {fmt.money(total, cur)}{share}.")
    return stacked_bars(f"aging-{cur}", f"Aging by bucket ({cur})", summary, view.periods,
                        [(b, b, view.aging[b]) for b in view.buckets], "money", lambda v: fmt.money(v, cur),
                        ordered=True)


def roll_chart(view) -> Chart:
    """Lines: the roll rate (by balance) from each bucket into the next, per period."""
    worst = max(((name, _last(v)) for name, v in view.rolls.items() if _last(v) is not None),
                key=lambda p: p[1], default=None)
    summary = (f"Share of each bucket's balance at a period's start found in the next bucket at its end, "
               f"{view.currency}." + ("" if worst is None else
                                      f" Highest in {view.periods[-1]}: {worst[0]} at "
                                      f"{fmt.number(worst[1], 'percent')}."))
    return lines(f"roll-{view.currency}", f"Roll rates by balance ({view.currency})", summary, view.periods,
                 [(name, name, v) for name, v in view.rolls.items()], "percent",
                 lambda v: fmt.number(v, "percent"), view.reasons)


def dso_chart(view) -> Chart:
    """Lines: the KPIs the catalogue charts in "dso" (DSO and best-possible DSO) per period."""
    now, best = _last(view.dso), _last(view.best_dso)
    summary = (f"Days sales outstanding per period, {view.currency}: "
               + ("no credit sales, so no DSO." if now is None else
                  f"{fmt.number(now, 'days')} in the last period, against a best possible "
                  f"{fmt.number(best, 'days')}."))
    return lines(f"dso-{view.currency}", f"DSO trend ({view.currency})", summary, view.periods,
                 [(k.name, k.label, view.trends[k.name]) for k in charted("dso")],
                 "days", lambda v: fmt.number(v, "days"), view.reasons)


def channel_chart(view) -> Chart:
    """Stacked bars: collections per period, by the channel kind of the payer's last contact."""
    cur = view.currency
    total = sum(view.collected, Fraction(0))
    top = max(view.by_channel.items(), key=lambda kv: sum(kv[1]), default=None)
    summary = (f"Money collected per period in {cur}, by the channel the debtor was last contacted on: "
               f"{fmt.money(total, cur)} in all" + ("" if top is None or not total else
                                                    f", {fmt.number(sum(top[1]) / total * 100, 'percent')} "
                                                    f"after {top[0]}") + ".")
    return stacked_bars(f"channels-{cur}", f"Collections by channel ({cur})", summary, view.periods,
                        [(k, k, v) for k, v in view.by_channel.items()], "money", lambda v: fmt.money(v, cur))


def contacts_chart(load) -> Chart:
    """Lines: contact attempts per day on each channel kind, and each limited kind's daily capacity."""
    over = {kind: sum(v > load.capacity[kind] for v in values) for kind, values in load.by_kind.items()
            if kind in load.capacity}
    total = sum(sum(v) for v in load.by_kind.values())
    limits = ", ".join(f"{k} {load.capacity[k]:,} a day" for k in sorted(load.capacity)) or "none set"
    busy = "; ".join(f"{k} above it on {n} of {len(load.days)} days" for k, n in over.items() if n)
    summary = (f"Contact attempts per day by channel, {load.days[0]} to {load.days[-1]}: {total:,} in all. "
               f"Daily capacity: {limits}" + (f"; {busy}" if busy else "") + ".")
    series = [(kind, kind, [Fraction(v) for v in values]) for kind, values in load.by_kind.items()]
    series += [(f"capacity:{kind}", f"{kind} capacity", [Fraction(limit)] * len(load.days))
               for kind, limit in sorted(load.capacity.items())]
    return lines("contacts", "Contacts per day against capacity", summary, load.days, series, "count",
                 lambda v: fmt.number(v, "count"))


@dataclass(frozen=True)
class GoalRow:
    """One goal as a bullet: positions (0..1 of the track) of its markers, and its words."""

    goal: dict
    markers: list                 # (name, position 0..1, value text, css class)
    bar: tuple | None             # (from, to) positions: baseline to current (or final)
    text: str                     # the goal's state in one sentence
    milestones: list              # one sentence per milestone


def goals_in_period(goals_report: dict, start: str, end: str) -> tuple[dict, list[dict]]:
    """(the goals report with only the goals whose span, baseline to target date, overlaps
    `start..end` (ISO dates), its counts recomputed; the goals left out)."""
    kept, left = [], []
    for g in goals_report["goals"]:
        overlaps = g["baseline"]["date"] <= end and g["target"]["date"] >= start
        (kept if overlaps else left).append(g)
    counts = {status: sum(g["status"] == status for g in kept) for status in goals_report["counts"]}
    return {**goals_report, "goals": kept, "counts": counts}, left


def goal_rows(goals_report: dict) -> list[GoalRow]:
    """Bullet rows for every goal of a goals report (`GoalsReport.to_dict()`)."""
    return [_goal_row(g) for g in goals_report["goals"]]


def _goal_row(g: dict) -> GoalRow:
    unit, cur = g["unit"], g["currency"]
    now = g["final"] if g["final"] is not None else g["current"]
    named = [("baseline", g["baseline"]["value"]), ("expected", g["expected"]), ("current", now["value"]),
             ("target", g["target"]["value"])]
    named += [(f"milestone {m['date']}", m["value"]) for m in g["milestones"]]
    values = {name: fmt.parse(v) for name, v in named if v is not None}
    text = _goal_text(g, values, unit, cur)
    stones = [_milestone_text(g, m, unit, cur) for m in g["milestones"]]
    if len(values) < 2:
        return GoalRow(g, [], None, text, stones)
    lo, hi = min(values.values()), max(values.values())
    pad = (hi - lo) / 10 or abs(hi) / 10 or Fraction(1)
    lo, hi = lo - pad, hi + pad

    def pos(v):
        return float((v - lo) / (hi - lo))
    markers = [(name, pos(v), fmt.number(v, unit, cur), name.split()[0]) for name, v in values.items()]
    bar = (pos(values["baseline"]), pos(values["current"])) if {"baseline", "current"} <= set(values) else None
    return GoalRow(g, markers, bar, text, stones)


def _milestone_text(g: dict, m: dict, unit, cur) -> str:
    better = "at most" if g["direction"] == "down" else "at least"
    level = f"{m['change_percent']}% from the baseline" if m["value"] is None else \
        f"{better} {fmt.number(fmt.parse(m['value']), unit, cur)}"
    got = "" if m["measured"] is None else f", measured {fmt.number(fmt.parse(m['measured']), unit, cur)}"
    return f"Milestone {m['date']} ({level}): {m['status']}{got}."


def _goal_text(g: dict, values: dict, unit, cur) -> str:
    def show(name):
        return fmt.number(values.get(name), unit, cur)
    better = "at most" if g["direction"] == "down" else "at least"
    if "target" in values:
        words = f"Target {better} {show('target')} by {g['target']['date']}"
    else:           # a relative target before its baseline has been measured
        words = f"Target {g['target']['change_percent']}% from the {g['baseline']['date']} level by {g['target']['date']}"
    if g["status"] == "not-started":
        return f"{words}; starts on {g['baseline']['date']}."
    if g["status"] == "no-data":
        return f"{words}; not measurable: {g['reason']}."
    words += f"; baseline {show('baseline')} on {g['baseline']['date']}"
    if g["status"] in ("achieved", "missed"):
        return f"{words}; {show('current')} on the target date."
    return f"{words}; now {show('current')}, plan {show('expected')}."
