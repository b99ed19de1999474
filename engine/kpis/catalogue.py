"""The KPI catalogue: every KPI once, as one entry of `KPIS`.

An entry holds all there is to know about a KPI: its name (the JSON key, the goals'
`metric`), its label, its unit, which way is better (a goal's default direction), its
formula (a function of engine/kpis/formulas.py), whether the report charts it, and a
one-line definition. Everything else derives from this table:

- `compute_kpis` computes exactly these KPIs, in this order (engine/kpis/rows.py);
- goals accept exactly these names, with this direction (engine/goals/spec.py);
- the report's KPI table lists them with these labels, and its DSO chart draws the
  KPIs whose `chart` is "dso" (engine/report/);
- the OpenAPI schema's KPI names and their descriptions (api/openapi/kpis.py, goals.py);
- `arrears kpis --help` lists them (engine/cli/kpis.py).

docs/kpis.md documents each one; tests/kpis/test_kpi_catalogue.py holds the table, the
computation, the goals and the docs together. To add a KPI: its formula (and, if it needs
a sum the figures lack, a figure in engine/kpis/measures.py), one entry here, a test with
hand-computed figures, and its line in docs/kpis.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from arrears.engine.kpis import formulas as fx
from arrears.engine.kpis.report import PLACES, Kpi

UNIT_SYMBOLS = {"percent": "%", "days": "days", "ratio": "ratio"}
CHARTS = ("dso",)             # the report's KPI trend charts (engine/report/charts.py)


@dataclass(frozen=True)
class KpiDef:
    """One KPI (see the module docstring)."""

    name: str
    label: str                # for people: the report's KPI table, chart legends
    unit: str                 # percent, days or ratio (how it is rounded: report.PLACES)
    better: str               # "up" or "down": the default direction of a goal on it
    formula: Callable[[fx.Inputs], Fraction | str]
    definition: str           # one line: the formula in words
    chart: str | None = None  # the report chart it is a line of (CHARTS), None: the table only

    def compute(self, inputs: fx.Inputs) -> Kpi:
        """The KPI's value for one group, or null with the reason it cannot be computed."""
        value = self.formula(inputs)
        return Kpi(None, self.unit, value) if isinstance(value, str) else Kpi(value, self.unit)


def _k(name, label, unit, better, formula, definition, chart=None) -> KpiDef:
    assert unit in PLACES and better in ("up", "down") and chart in (None, *CHARTS), name
    return KpiDef(name, label, unit, better, formula, definition, chart)


KPIS: tuple[KpiDef, ...] = (
    _k("collection_rate", "collection rate", "percent", "up", fx.collection_rate,
       "Collected ÷ (opening receivables + credit sales) × 100."),
    _k("recovery_rate", "recovery rate", "percent", "up", fx.recovery_rate,
       "Recovered ÷ the past-due balance at the start × 100."),
    _k("dso", "DSO", "days", "down", fx.dso,
       "Days sales outstanding: closing receivables ÷ credit sales × days in the period.", chart="dso"),
    _k("best_possible_dso", "best possible DSO", "days", "down", fx.best_possible_dso,
       "Closing current (not past-due) receivables ÷ credit sales × days in the period.", chart="dso"),
    _k("average_days_delinquent", "average days delinquent", "days", "down", fx.average_days_delinquent,
       "DSO − best-possible DSO."),
    _k("past_due_rate", "past-due rate", "percent", "down", fx.past_due_rate,
       "Share of the closing receivables that is past due: (closing receivables − closing current) ÷ "
       "closing receivables × 100."),
    _k("cei", "CEI (collection effectiveness)", "percent", "up", fx.cei,
       "Collection effectiveness index: (opening + sales ÷ months − closing) ÷ "
       "(opening + sales ÷ months − closing current) × 100."),
    _k("cure_rate", "cure rate", "percent", "up", fx.cure_rate,
       "Accounts delinquent at the start and not at the end (and without a write-off) ÷ accounts "
       "delinquent at the start × 100."),
    _k("promise_kept_rate", "promise kept rate", "percent", "up", fx.promise_kept_rate,
       "Promises to pay kept ÷ promises that fell due × 100."),
    _k("right_party_contact_rate", "right party contact rate", "percent", "up", fx.right_party_contact_rate,
       "Contact attempts that reached the debtor ÷ attempts × 100."),
    _k("bad_debt_ratio", "bad debt ratio", "percent", "down", fx.bad_debt_ratio,
       "Written off ÷ credit sales × 100."),
    _k("cost_to_collect", "cost to collect", "ratio", "down", fx.cost_to_collect,
       "Collection costs ÷ amount collected."),
)

NAMES: tuple[str, ...] = tuple(k.name for k in KPIS)
BY_NAME: dict[str, KpiDef] = {k.name: k for k in KPIS}


def compute(inputs: fx.Inputs) -> dict[str, Kpi]:
    """Every KPI of one group in one currency, by name, in catalogue order."""
    return {k.name: k.compute(inputs) for k in KPIS}


def charted(chart: str) -> tuple[KpiDef, ...]:
    """The KPIs drawn in the report chart `chart`, in catalogue order."""
    return tuple(k for k in KPIS if k.chart == chart)
