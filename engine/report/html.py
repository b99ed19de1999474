"""The report as one self-contained HTML page: inline CSS, inline SVG, no script, no network.

Rendered with Jinja2 with autoescaping on for every template, so account data, goal
titles and policy names cannot inject markup. `render(data, goals)` returns the page.
"""
from __future__ import annotations

from datetime import datetime, timezone
from fractions import Fraction
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from arrears.engine.domain.money import exponent
from arrears.engine.kpis.catalogue import KPIS
from arrears.engine.report import fmt, palette
from arrears.engine.report.charts import (
    aging_chart,
    channel_chart,
    contacts_chart,
    dso_chart,
    goal_rows,
    goals_in_period,
    roll_chart,
)
from arrears.engine.report.data import ReportData

TEMPLATES = Path(str(files(__package__))) / "templates"
STATUS_TEXT = {"on-track": "On track", "at-risk": "At risk", "off-track": "Off track", "achieved": "Achieved",
               "missed": "Missed", "not-started": "Not started", "no-data": "No data"}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The report's Jinja2 environment: autoescape always, undefined names are errors (one per
    process: its templates are compiled once)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(status_text=STATUS_TEXT)
    return env


def _kpi_rows(view) -> list[tuple[str, str, str]]:
    """(label, value, note) for the KPI table: the whole period's KPIs (every one of the KPI
    catalogue, with its label), then its money figures."""
    row, cur = view.summary, view.currency
    out = []
    for k in KPIS:
        kpi = row.kpis[k.name]
        out.append((k.label, fmt.number(kpi.value, kpi.unit, cur), kpi.reason or ""))
    for name in ("opening_receivables", "credit_sales", "collected", "written_off", "closing_receivables"):
        amount = Fraction(row.figures[name], 10 ** exponent(cur))
        out.append((name.replace("_", " "), fmt.money(amount, cur), ""))
    return out


def _section(view) -> dict:
    return {"currency": view.currency, "accounts": view.summary.figures["accounts"], "kpis": _kpi_rows(view),
            "charts": [aging_chart(view), roll_chart(view), dso_chart(view), channel_chart(view)]}


def render(data: ReportData, goals: dict | None = None, *, generated: datetime | None = None,
           experiment: dict | None = None) -> str:
    """The HTML page for `data` (and a goals report, `GoalsReport.to_dict()`, if given); goals
    whose span does not overlap the report's period are left out, and named as such. An
    experiment's results (`Results.to_dict()`), if given, get a section of their own."""
    generated = generated or datetime.now(timezone.utc).replace(microsecond=0)
    template = environment().get_template("report.html.j2")
    buckets = max((len(v.buckets) for v in data.currencies), default=1)
    return template.render(
        palette_css=Markup(palette.css(buckets)),
        start=data.start.isoformat(), end=data.end.isoformat(), policy=data.policy, accounts=data.accounts,
        generated=generated.isoformat().replace("+00:00", "Z"),
        sections=[_section(v) for v in data.currencies], segment=data.segment,
        contacts=None if data.contacts is None else contacts_chart(data.contacts),
        goals=None if goals is None else _goals(goals, data),
        experiment=None if experiment is None else experiment_view(experiment))


def _p_text(p) -> str:
    if p is None:
        return "n/a"
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


def experiment_view(results: dict) -> dict:
    """An experiment's results (`Results.to_dict()`) as text for people, for the report's
    section and the console's page: each strategy's debtors and primary KPI (`rows`), each
    challenger's difference with its interval and p-value in percentage points or percent
    (`comparisons`), the sample-ratio check, each challenger's guardrails, the days a pause left
    out (`paused`, a sentence or None), the alarms and the verdict."""
    e = results["experiment"]
    kpi = e["primary_metric"]["kpi"]
    scale = 100 if e["primary_metric"]["test"] == "two proportions" else 1

    def points(value):
        return "n/a" if value is None else f"{value * scale:+.2f}"
    rows = [(s["name"], results["debtors"].get(s["name"], 0), results["kpis"].get(s["name"], {}).get(kpi) or "n/a")
            for s in e["strategies"]]
    comparisons = [(name, points(c["difference"]), f"{points(c['low'])} to {points(c['high'])}",
                    _p_text(c["p_value"])) for name, c in results["primary"].items()]
    ratio = results.get("sample_ratio")
    sample_ratio = None if ratio is None else {
        "observed": ratio["observed"], "expected": {k: f"{v:,.1f}" for k, v in ratio["expected"].items()},
        "chi_square": "n/a" if ratio["chi_square"] is None else f"{ratio['chi_square']:.2f}",
        "p_value": _p_text(ratio["p_value"]), "mismatch": ratio["mismatch"]}
    guardrails = [(name, metric.replace("_", " "), _share(c["champion"]), _share(c["challenger"]),
                   _p_text(c["p_value"]))
                  for name, by in results.get("guardrails", {}).items() for metric, c in by.items()]
    label = next((k.label for k in KPIS if k.name == kpi), kpi)
    return {"name": results["name"], "status": results["status"], "kpi": label, "period": results["period"],
            "test": e["primary_metric"]["test"], "unit": "points" if scale == 100 else "percent",
            "rows": rows, "comparisons": comparisons, "sample_ratio": sample_ratio, "guardrails": guardrails,
            "alarms": results["alarms"], "verdict": results["verdict"], "paused": _paused_sentence(results.get("paused"))}


def _paused_sentence(paused: dict | None) -> str | None:
    """The days a pause left out of every strategy's figures (`paused` of the results: how many,
    each stretch with its reason) as one sentence; None when there are none (results from before
    pauses were kept have no `paused`)."""
    days = (paused or {}).get("days_excluded", 0)
    if not days:
        return None
    stretches = "; ".join(f"{s['from']} to {s['to']} ({s['reason']})" for s in paused["stretches"])
    return (f"{days} paused day{'s' if days != 1 else ''} left out of every strategy's figures "
            f"(the champion decided everyone then): {stretches}.")


def _share(value) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _goals(goals: dict, data: ReportData) -> dict:
    """The goals section: the goals overlapping the period, and those left out."""
    kept, left = goals_in_period(goals, data.start.isoformat(), data.end.isoformat())
    return {"at": goals["at"], "source": Path(goals["source"]).name, "counts": kept["counts"],
            "rows": goal_rows(kept),
            "left_out": [(g["id"], g["baseline"]["date"], g["target"]["date"]) for g in left]}
