"""The KPIs an experiment can test, and how each is tested (one entry per KPI).

A primary metric is a KPI of the KPI table (engine/kpis/catalogue.py) whose value for a group
is a sum of per-account figures over another (engine/kpis/measures.py), so it can be measured
per strategy exactly as the KPI table does, and tested:

- `proportion`: a count over a count (cured ÷ delinquent at the start, promises kept ÷ due):
  the two-proportion test on the summed counts of each strategy;
- `ratio`: money over money (recovered ÷ past due at the start, collected ÷ receivables and
  sales): Welch's test on each debtor's own ratio, in percent (debtors whose denominator is
  zero do not count).

KPIs of positions at a day (DSO, CEI) or of costs have no per-debtor value to test; the
experiment file refuses them as its primary metric, naming these.
"""
from __future__ import annotations

from dataclasses import dataclass

PROPORTION, RATIO = "proportion", "ratio"


@dataclass(frozen=True)
class MetricTest:
    """How a KPI is tested: its `kind`, and the figures summed above and below the line."""

    kind: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]

    @property
    def test(self) -> str:
        """The test's name in results."""
        return "two proportions" if self.kind == PROPORTION else "Welch"


TESTS: dict[str, MetricTest] = {
    "cure_rate": MetricTest(PROPORTION, ("cured",), ("delinquent_at_start",)),
    "promise_kept_rate": MetricTest(PROPORTION, ("promises_kept",), ("promises_due",)),
    "recovery_rate": MetricTest(RATIO, ("recovered",), ("opening_past_due",)),
    "collection_rate": MetricTest(RATIO, ("collected",), ("opening_receivables", "credit_sales")),
}

# The guardrail metrics: the share of a strategy's debtors with one of these events after
# their assignment (a challenger must not raise it).
GUARDRAILS = {"disputes": "dispute_opened", "cease_requests": "cease_communication",
              "opt_outs": "channel_opt_out", "complaints": "complaint"}
