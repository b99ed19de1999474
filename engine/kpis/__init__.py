"""Collection KPIs for any period, per group, computed from a portfolio's history.

The interface (stable; the replay engine and the report build on it):

    from arrears.engine.kpis import Ledger, compute_kpis, kpi_series, ledger_from_store, month_ends, parse_costs

    ledger = ledger_from_store(store, policy, segment_days=[end])      # or Ledger.build(...) from a replay
    report = compute_kpis(ledger, start, end, group_by="segment", policy=policy, costs=costs)
    report.to_dict()                                                   # JSON-ready (docs/kpis.md)
    series = kpi_series(ledger, month_ends(start, end), group_by=None, policy=policy, costs=costs)
    series.to_dict()                                                   # columnar, for trend charts

- Days are epoch days (days since 1970-01-01, `arrears.engine.domain.batch.epoch_day`), the debtor's own
  calendar days; a period `start..end` includes both days.
- `Ledger` (engine/kpis/ledger.py) is the pure columnar input: numpy arrays only, no store.
- `compute_kpis(ledger, start_day, end_day, *, group_by=None, policy=None, costs=None)`
  returns a `KpiReport`; `group_by` is None, "segment", "bucket", "channel", "stage", "strategy" or
  the name of one of `ledger.labels`; `policy` (a CompiledPolicy, default the shipped
  policy) gives the aging buckets and promise tolerances; `costs` is a `CostModel`
  (`parse_costs({...})`, default none: cost to collect is null with a reason).
- `Tally(ledger, policy, costs)` keeps the sums behind the reports asked of it
  (`tally.report(start, end, group_by, within)`, `series_of(tally, days, group_by, within)`)
  and follows the ledger account by account (`tally.replace(gone, new)`): a dashboard
  refreshed after a tick measures only the accounts that changed (engine/kpis/tally.py).
- `kpi_series(ledger, days, ...)` returns a `KpiSeries`: one report per period between
  consecutive `days` (`days[i-1] + 1 .. days[i]`); `month_ends(start, end)` gives the
  boundaries of calendar months.
- Money is integer minor units inside and `{"amount": "12.50", "currency": "GBP"}` outside;
  amounts of different currencies are never added: every figure is per currency.
- A KPI whose denominator is zero is `{"value": null, "reason": "..."}`.
- Which KPIs there are: the KPI catalogue, `arrears.engine.kpis.catalogue.KPIS`, one entry per
  KPI (name, label, unit, direction, formula, chart, definition); goals, the report, the
  OpenAPI schema and the CLI read them from there.

Formulas, data used and edge cases: docs/kpis.md.

May import: the core, `store` (to build a ledger from it) and the shipped policies.
"""
from arrears.engine.kpis.compute import account_figures, compute_kpis, kpi_series, month_ends, series_of
from arrears.engine.kpis.costs import CostModel, parse_costs
from arrears.engine.kpis.fromstore import ledger_from_batch, ledger_from_store
from arrears.engine.kpis.ledger import Ledger
from arrears.engine.kpis.report import KpiReport, KpiSeries
from arrears.engine.kpis.tally import Tally

__all__ = ["CostModel", "KpiReport", "KpiSeries", "Ledger", "Tally", "account_figures", "compute_kpis",
           "kpi_series", "ledger_from_batch", "ledger_from_store", "month_ends", "parse_costs", "series_of"]
