"""The replay report: what was replayed, the decision timeline, the portfolio's figures, the KPIs.

`build_report(run, by="month")` returns a `ReplayReport`; `to_dict()` is its JSON form
(docs/replay.md describes every field). Everything in it follows from the inputs: two
replays of the same file under the same policy give the same bytes (timings are kept
out of it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arrears.engine.domain.batch import NO_DAY, epoch_day
from arrears.engine.domain.money import from_minor
from arrears.engine.kpis import compute_kpis, ledger_from_batch
from arrears.engine.kpis.ledger import Stages
from arrears.engine.replay.periods import dso_summary, series
from arrears.engine.replay.timeline import timeline

ASSUMPTIONS = (
    "every contact the engine decides is delivered (a contact_attempt with outcome sent)",
    "debtors do nothing but what the file records: no replies, promises, plans, opt-outs or hardship",
    ("an invoice enters on its invoice date; payments, disputes and write-offs happen at the start "
     "of their day in the debtor's time zone"),
    "a settlement pays the whole invoice; a write-off writes off the whole invoice",
    "a debtor whose rows give no contact details can be reached on every channel",
    ("the tick runs once per tick interval; a contact goes out at its not_before, unless a recorded "
     "change comes first (the dispatcher's re-check)"),
)
SHOWN_REJECTS = 100


@dataclass
class ReplayReport:
    """A finished replay, summarised."""

    head: dict
    portfolio: list
    timeline: list
    total: dict
    kpis: object            # arrears.engine.kpis.KpiReport
    rejects: list
    dso: list = ()          # the DSO per currency: end of period and period average (periods.dso_summary)
    kpis_by: object = None  # arrears.engine.kpis.KpiSeries per month or quarter, when asked for
    by_period: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready form (docs/replay.md)."""
        return {**self.head, "assumptions": list(ASSUMPTIONS), "rejected": {
                    "count": len(self.rejects),
                    "rows": [{"line": r.line, "reason": r.reason} for r in self.rejects[:SHOWN_REJECTS]]},
                "portfolio": self.portfolio, "timeline": self.timeline, "total": self.total,
                "kpis": self.kpis.to_dict(), "dso": list(self.dso),
                "kpis_by": None if self.kpis_by is None else {"by": self.by_period, **self.kpis_by.to_dict()}}


def build_report(run, *, by: str = "month", source: str = "", group_by: str | None = None,
                 costs=None, kpis_by: str | None = None) -> ReplayReport:
    """Summarise `run` per `by` period (day, week or month); KPIs over the whole period,
    grouped by `group_by` (see `arrears.engine.kpis.compute_kpis`), with `costs` if given;
    with `kpis_by` ("month" or "quarter") the KPIs of each such period too. The DSO is given
    at the end of the period and as the average of its months (or `kpis_by` periods)."""
    p = run.policy
    entries, total = timeline(run, by)
    head = {"file": source, "policy": {"name": p.name, "version": p.version, "digest": p.digest},
            "from": run.start.isoformat(), "to": run.end.isoformat(), "by": by,
            "simulated_from": run.simulated_from.isoformat(), "tick_seconds": run.tick,
            "accounts": run.history.n, "invoices": len(run.history.base.inv_id), "rows": run.data.rows,
            "ticks": run.ticks, "evaluations_all": run.evaluations}
    led = ledger(run)
    kpis = compute_kpis(led, run.start, run.end, group_by=group_by, policy=p, costs=costs)
    per = series(led, run, kpis_by or "month", costs)
    return ReplayReport(head, portfolio(run), entries, total, kpis, run.data.rejects,
                        dso=dso_summary(kpis, per, kpis_by or "month"),
                        kpis_by=per if kpis_by else None, by_period=kpis_by)


def ledger(run):
    """The KPI ledger of the replayed history: the file's invoices and events and the
    contacts and stages the replay decided, up to the end of the period."""
    hist, rec = run.history, run.record
    rows = np.arange(hist.n)
    end = int(hist.midnight(rows, np.full(hist.n, epoch_day(run.end) + 1)).max(initial=0)) - 1
    s = rec.stages.view()
    stages = Stages.of(s["acct"], s["day"], hist.stage_ids[s["stage"]])
    return ledger_from_batch(hist.batch(rows, end), run.policy, segment_days=[epoch_day(run.end)],
                             stages=stages)


def portfolio(run) -> list[dict]:
    """Per currency: invoices open at the start, issued, settled and written off in the
    period, open at the end (counts and amounts straight from the file's columns)."""
    hist = run.history
    b = hist.base
    start, end = epoch_day(run.start), epoch_day(run.end)
    closed = np.minimum(_or_far(hist.inv_settled), _or_far(hist.inv_written_off))
    issued = hist.inv_issued
    disputed = hist.inv_disputed
    masks = {
        "open_at_start": (issued < start) & (closed >= start),
        "issued": (issued >= start) & (issued <= end),
        "settled": (hist.inv_settled >= start) & (hist.inv_settled <= end),
        "written_off": (hist.inv_written_off >= start) & (hist.inv_written_off <= end),
        "disputed": (disputed != NO_DAY) & (disputed >= start) & (disputed <= end),
        "open_at_end": (issued <= end) & (closed > end),
    }
    currency = b.currency[b.inv_acct].astype(str) if len(b.inv_acct) else np.empty(0, dtype=str)
    out = []
    for cur in sorted(set(currency.tolist())):
        mine = currency == cur
        entry = {"currency": cur}
        for name, mask in masks.items():
            hit = mine & mask
            entry[name] = {"invoices": int(hit.sum()),
                           "amount": {"amount": str(from_minor(int(b.inv_amount[hit].sum()), cur)),
                                      "currency": cur}}
        out.append(entry)
    return out


def _or_far(days: np.ndarray) -> np.ndarray:
    return np.where(days == NO_DAY, np.iinfo(np.int64).max, days)
