"""What the report shows, read from the KPI core: month by month, per currency.

The period `start..end` is cut at calendar month ends (the first and last pieces may
be part months). `kpi_series` gives each piece's report (aging at its end, roll
rates, the KPIs the KPI catalogue marks as charted, collections),
`kpi_series(group_by="channel")` the collections by the channel kind of each
account's last contact attempt, and `compute_kpis` over the whole period the KPI table. Nothing is computed here that the KPI core computes;
this only picks values out of its reports, exact (`Fraction`) and in major units.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

from arrears.engine.domain.batch import day_to_date, epoch_day
from arrears.engine.domain.kinds import CHANNEL_KINDS, label
from arrears.engine.domain.money import exponent
from arrears.engine.kpis import Tally, month_ends, series_of
from arrears.engine.kpis.catalogue import KPIS
from arrears.engine.kpis.groups import NONE

NO_CONTACT = "no contact yet"


@dataclass(frozen=True)
class CurrencyView:
    """One currency's figures: per period series, and the whole period's KPIs."""

    currency: str
    periods: list                 # labels, e.g. "Jan 2026" or "15-31 Jan 2026"
    buckets: list
    aging: dict                   # bucket -> [balance at the period's end, major units]
    rolls: dict                   # "a → b" -> [roll rate % by balance or None]
    trends: dict                  # KPI name -> [Fraction or None], for every KPI the report charts
    collected: list               # [Fraction] all channels
    by_channel: dict              # channel label -> [collected, major units]
    summary: object               # the whole period's `Row` (arrears.engine.kpis.report)
    reasons: dict | None = None   # roll name or KPI name -> [why it is None, or None] per period

    @property
    def dso(self) -> list:
        """DSO per period."""
        return self.trends["dso"]

    @property
    def best_dso(self) -> list:
        """Best-possible DSO per period."""
        return self.trends["best_possible_dso"]


@dataclass(frozen=True)
class ReportData:
    """Everything the HTML report is drawn from."""

    start: date
    end: date
    policy: dict
    currencies: list              # CurrencyView, largest closing receivables first
    accounts: int
    segment: str | None = None    # the policy segment the figures are of (None: the portfolio)
    contacts: object = None       # ContactLoad: contact attempts per day against capacity


@dataclass(frozen=True)
class ContactLoad:
    """Contact attempts per day and channel kind over the period, and each kind's daily capacity."""

    days: list                    # ISO dates, start..end
    by_kind: dict                 # channel kind -> [attempts per day], kinds with attempts or a capacity
    capacity: dict                # channel kind -> contacts per day it can take (kinds with a limit)
    source: str                   # where the capacities come from ("none": every kind unlimited)


def contact_load(tally, start: date, end: date, within, capacity) -> ContactLoad:
    """The attempts per day of the accounts in scope (`Tally.attempts_per_day`), with the daily
    capacity per channel kind of `capacity` (an `arrears.engine.simulate.Capacity`, or None)."""
    first, last = epoch_day(start), epoch_day(end)
    counts = tally.attempts_per_day(first, last, within)
    limits = {} if capacity is None else {k: v for k, v in capacity.limits.items() if k in CHANNEL_KINDS}
    by_kind = {kind: counts[:, code].tolist() for code, kind in enumerate(CHANNEL_KINDS)
               if counts[:, code].any() or kind in limits}
    return ContactLoad(days=[day_to_date(d).isoformat() for d in range(first, last + 1)], by_kind=by_kind,
                       capacity=limits, source="none" if capacity is None else capacity.source)


def boundaries(start: date, end: date) -> list[int]:
    """Period boundaries for `kpi_series`: the day before `start`, then each month end, then `end`."""
    days = month_ends(start, end)
    days[0] = epoch_day(start) - 1
    return days


def period_label(first: date, last: date) -> str:
    """'Mar 2026' for a whole month, '15-31 Mar 2026' for part of one."""
    whole = first.day == 1 and (last + timedelta(days=1)).day == 1
    return last.strftime("%b %Y") if whole else f"{first.day}-{last.day} {last.strftime('%b %Y')}"


def _major(minor: int, currency: str) -> Fraction:
    return Fraction(int(minor), 10 ** exponent(currency))


def _row(rows, currency: str):
    return next((r for r in rows if r.currency == currency), None)


def _view(currency: str, reports, channel_reports, summary, periods, buckets) -> CurrencyView:
    rows = [_row(r.total, currency) for r in reports]
    aging = {b: [None if r is None else _major(r.aging[k][1], currency) for r in rows]
             for k, b in enumerate(buckets)}
    rolls = {f"{a} → {b}": [None if r is None else r.roll_rates[k][2].value for r in rows]
             for k, (a, b) in enumerate(pairwise(buckets))}

    def kpi(name):
        return [None if r is None else r.kpis[name].value for r in rows]
    reasons = {f"{a} → {b}": [None if r is None else r.roll_rates[k][2].reason for r in rows]
               for k, (a, b) in enumerate(pairwise(buckets))}
    reasons.update({k.name: [None if r is None else r.kpis[k.name].reason for r in rows] for k in KPIS if k.chart})
    channels = [*(label(k) for k in CHANNEL_KINDS), NONE]     # groups carry reporting names
    by_channel = {}
    for kind in channels:
        series = []
        for rep in channel_reports:
            row = next((r for r in rep.groups if r.group == kind and r.currency == currency), None)
            series.append(Fraction(0) if row is None else _major(row.figures["collected"], currency))
        if any(series):
            by_channel[NO_CONTACT if kind == NONE else kind] = series
    return CurrencyView(currency=currency, periods=periods, buckets=list(buckets), aging=aging, rolls=rolls,
                        trends={k.name: kpi(k.name) for k in KPIS if k.chart},
                        collected=[Fraction(0) if r is None else _major(r.figures["collected"], currency)
                                   for r in rows],
                        by_channel=by_channel, summary=summary, reasons=reasons)


def gather(ledger, policy, start: date, end: date, *, costs=None, tally=None, segment: str | None = None,
           capacity=None) -> ReportData:
    """The report's figures for `start..end` (both included) from the portfolio in `ledger`;
    from `tally` (a `Tally` of it, whose sums are kept) when given; only the accounts of the
    policy segment `segment` at the end of `end` when given; the contacts per day against
    `capacity` (an `arrears.engine.simulate.Capacity`; None: no limits drawn)."""
    tally = tally if tally is not None else Tally(ledger, policy, costs)
    within = None if segment is None else (segment, epoch_day(end))
    days = boundaries(start, end)
    series = series_of(tally, days, within=within).reports
    channel = series_of(tally, days, "channel", within).reports
    whole = tally.report(epoch_day(start), epoch_day(end), None, within)
    periods = [period_label(day_to_date(a + 1), day_to_date(b)) for a, b in pairwise(days)]
    order = sorted(whole.total, key=lambda r: (-_major(r.figures["closing_receivables"], r.currency), r.currency))
    views = [_view(r.currency, series, channel, r, periods, whole.buckets) for r in order]
    return ReportData(start=start, end=end, policy=dict(whole.policy), currencies=views,
                      accounts=tally.accounts(within), segment=segment,
                      contacts=contact_load(tally, start, end, within, capacity))
