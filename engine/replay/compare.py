"""Two replays of the same history, policy A and policy B, side by side (`arrears replay --compare`).

The history (invoices, payments, disputes) is the file's, so it is the same under both; what
differs is what each policy decided on it: the contacts, the suppressions, the offers, and
the KPIs that depend on them (the stages reached, contact counts). `compare_reports` puts
each KPI of the whole period (per currency) and the contact totals of A and B side by side
with B - A.
"""
from __future__ import annotations

from dataclasses import dataclass

from arrears.engine.replay.text import _table


@dataclass(frozen=True)
class ReplayComparison:
    """The KPIs and totals of two replays (`a`, `b`: ReplayReports) and their differences."""

    a: object
    b: object

    def rows(self) -> list[dict]:
        """One row per KPI and currency of the whole portfolio, then the contact totals."""
        out = []
        b_rows = {row.currency: row for row in self.b.kpis.total}
        for row in self.a.kpis.total:
            other = b_rows.get(row.currency)
            for name, kpi in row.kpis.items():
                va = kpi.decimal()
                vb = None if other is None else other.kpis[name].decimal()
                out.append({"metric": name, "currency": row.currency, "unit": kpi.unit,
                            "a": None if va is None else str(va), "b": None if vb is None else str(vb),
                            "difference": None if va is None or vb is None else str(vb - va)})
        da, db = self.a.to_dict()["total"], self.b.to_dict()["total"]
        for name in ("contacts", "suppressed_accounts", "evaluations"):
            out.append({"metric": name, "currency": None, "unit": "count", "a": str(da[name]), "b": str(db[name]),
                        "difference": str(db[name] - da[name])})
        return out

    def to_dict(self) -> dict:
        """JSON form: both policies and the rows."""
        return {"a": self.a.to_dict()["policy"], "b": self.b.to_dict()["policy"], "rows": self.rows()}

    def to_text(self) -> str:
        """An aligned table: metric, currency, A, B, B - A."""
        d = self.to_dict()
        head = [f"policy A: {d['a']['name']} {d['a']['version']} ({d['a']['digest'][:19]})",
                f"policy B: {d['b']['name']} {d['b']['version']} ({d['b']['digest'][:19]})", ""]
        table = [["metric", "currency", "A", "B", "B - A"]]
        table += [[r["metric"], r["currency"] or "", r["a"] or "n/a", r["b"] or "n/a", r["difference"] or "n/a"]
                  for r in d["rows"]]
        return "\n".join(head + _table(table, left=2)) + "\n"


def compare_reports(a, b) -> ReplayComparison:
    """A and B's replay reports side by side (see the module docstring)."""
    return ReplayComparison(a, b)
