"""KPI results as values: `Kpi`, `Row` (one group in one currency), `KpiReport`, `KpiSeries`.

`KpiReport.to_dict()`:

    {"from": "2026-10-01", "to": "2026-10-31", "days": 31, "months": "1.0000",
     "group_by": "segment", "policy": {"name": …, "version": …, "digest": …},
     "buckets": ["current", "1-30", …],
     "groups": [ROW, …],          # one per group and currency ("all" when not grouped)
     "total": [ROW, …]}           # the whole portfolio, one per currency

    ROW = {"group": "consumer", "currency": "GBP",
           "figures": {"accounts": 12, "opening_receivables": MONEY, …, "collection_costs": MONEY|null},
           "aging": [{"bucket": "current", "balance": MONEY, "count": 3}, …],
           "kpis": {"dso": {"value": "35.48", "unit": "days", "reason": null}, …},
           "roll_rates": [{"from": "current", "to": "1-30", "by_balance": KPI, "by_count": KPI}, …]}

MONEY is `{"amount": "12.50", "currency": "GBP"}`; a KPI value is a decimal string (percent
and days to 2 places, ratios to 4), or null with the `reason`.
`KpiSeries.to_dict()` puts the same values in columns, one list entry per period.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.money import exponent, from_minor

PLACES = {"percent": Decimal("0.01"), "days": Decimal("0.01"), "ratio": Decimal("0.0001")}
MONEY_FIGURES = ("opening_receivables", "opening_past_due", "closing_receivables", "closing_current",
                 "credit_sales", "collected", "credit_notes", "written_off", "recovered")
COUNT_FIGURES = ("accounts", "delinquent_at_start", "cured", "promises_due", "promises_kept", "attempts",
                 "right_party_contacts", "outcomes_reported")


def decimal_of(value: Fraction, places: Decimal) -> Decimal:
    """An exact fraction rounded half-even to `places`."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places, ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Kpi:
    """One KPI value: exact until shown; None with a reason when it cannot be computed."""

    value: Fraction | None
    unit: str                 # percent, days or ratio
    reason: str | None = None

    def decimal(self) -> Decimal | None:
        """The value rounded for display (PLACES of its unit)."""
        return None if self.value is None else decimal_of(self.value, PLACES[self.unit])

    def to_dict(self) -> dict:
        """`{"value": "12.34" or null, "unit": …, "reason": … or null}`."""
        d = self.decimal()
        return {"value": None if d is None else str(d), "unit": self.unit, "reason": self.reason}


@dataclass(frozen=True)
class Row:
    """The KPIs of one group of accounts in one currency."""

    group: str
    currency: str
    figures: dict             # name -> int (minor units for MONEY_FIGURES, else a count)
    costs: Fraction | None    # collection costs in major units, None if none are configured
    aging: tuple              # (bucket name, balance in minor units, accounts) per bucket
    kpis: dict                # name -> Kpi
    roll_rates: tuple         # (from bucket, to bucket, Kpi by balance, Kpi by count)

    def money(self, minor: int) -> dict:
        """Minor units of this row's currency as a Money JSON object."""
        return {"amount": str(from_minor(minor, self.currency)), "currency": self.currency}

    def cost_money(self) -> dict | None:
        """The collection costs rounded to the minor unit, as Money JSON (None if unknown)."""
        if self.costs is None:
            return None
        amount = decimal_of(self.costs, Decimal(1).scaleb(-exponent(self.currency)))
        return {"amount": str(amount), "currency": self.currency}

    def to_dict(self) -> dict:
        """The row's JSON form (see the module docstring)."""
        figures = {name: (self.money(value) if name in MONEY_FIGURES else value)
                   for name, value in self.figures.items()}
        figures["collection_costs"] = self.cost_money()
        return {"group": self.group, "currency": self.currency, "figures": figures,
                "aging": [{"bucket": b, "balance": self.money(bal), "count": cnt} for b, bal, cnt in self.aging],
                "kpis": {name: kpi.to_dict() for name, kpi in self.kpis.items()},
                "roll_rates": [{"from": a, "to": b, "by_balance": bal.to_dict(), "by_count": cnt.to_dict()}
                               for a, b, bal, cnt in self.roll_rates]}


@dataclass(frozen=True)
class KpiReport:
    """KPIs of one period (`start..end`, epoch days, both included), per group and currency."""

    start: int
    end: int
    months: Fraction
    group_by: str | None
    policy: dict              # name, version, digest
    buckets: tuple
    groups: tuple             # Rows per group (group "all" when not grouped)
    total: tuple              # Rows of the whole portfolio, one per currency

    def head(self) -> dict:
        """The period and what the figures were computed with."""
        return {"from": day_to_date(self.start).isoformat(), "to": day_to_date(self.end).isoformat(),
                "days": self.end - self.start + 1, "months": str(decimal_of(self.months, Decimal("0.0001"))),
                "group_by": self.group_by, "policy": dict(self.policy), "buckets": list(self.buckets)}

    def to_dict(self) -> dict:
        """JSON-ready report (see the module docstring)."""
        return {**self.head(), "groups": [r.to_dict() for r in self.groups],
                "total": [r.to_dict() for r in self.total]}


@dataclass(frozen=True)
class KpiSeries:
    """Reports of consecutive periods, for trend charts."""

    reports: tuple

    def average(self, name: str, part: str = "total") -> list[tuple[str, str, Fraction | None, int]]:
        """(group, currency, mean of KPI `name` over the periods that measured it or None,
        how many did) per group and currency of `part` ("total" or "groups")."""
        values: dict = {}
        for report in self.reports:
            for row in getattr(report, part):
                values.setdefault((row.group, row.currency), []).append(row.kpis[name].value)
        out = []
        for (group, currency), vs in values.items():
            measured = [v for v in vs if v is not None]
            out.append((group, currency, sum(measured, Fraction(0)) / len(measured) if measured else None,
                        len(measured)))
        return out

    def to_dict(self) -> dict:
        """Columnar: per (group, currency), every KPI, figure and aging bucket as a list over the
        periods (null where a group has no row in a period)."""
        periods = [{"from": r.head()["from"], "to": r.head()["to"]} for r in self.reports]
        first = self.reports[0].head() if self.reports else {"group_by": None, "policy": {}, "buckets": []}
        out = {"group_by": first["group_by"], "policy": first["policy"], "buckets": first["buckets"],
               "periods": periods}
        for part in ("groups", "total"):
            series: dict = {}
            for i, report in enumerate(self.reports):
                for row in getattr(report, part):
                    entry = series.setdefault((row.group, row.currency), _empty(row, len(self.reports)))
                    _fill(entry, row.to_dict(), i)
            out[part] = list(series.values())
        return out


def _empty(row: Row, k: int) -> dict:
    d = row.to_dict()
    return {"group": row.group, "currency": row.currency,
            "figures": {name: [None] * k for name in d["figures"]},
            "kpis": {name: [None] * k for name in d["kpis"]},
            "aging": {a["bucket"]: {"balance": [None] * k, "count": [None] * k} for a in d["aging"]},
            "roll_rates": {f"{r['from']}>{r['to']}": {"by_balance": [None] * k, "by_count": [None] * k}
                           for r in d["roll_rates"]}}


def _fill(entry: dict, d: dict, i: int) -> None:
    for name, value in d["figures"].items():
        entry["figures"][name][i] = value["amount"] if isinstance(value, dict) else value
    for name, kpi in d["kpis"].items():
        entry["kpis"][name][i] = kpi["value"]
    for a in d["aging"]:
        entry["aging"][a["bucket"]]["balance"][i] = a["balance"]["amount"]
        entry["aging"][a["bucket"]]["count"][i] = a["count"]
    for r in d["roll_rates"]:
        slot = entry["roll_rates"][f"{r['from']}>{r['to']}"]
        slot["by_balance"][i], slot["by_count"][i] = r["by_balance"]["value"], r["by_count"]["value"]
