"""A ledger's KPI reports kept as sums, so they can follow the ledger account by account.

Every figure a report shows is a sum over accounts (engine/kpis/measures.py) turned into
KPIs at the end (engine/kpis/rows.py). A `Tally` keeps, per report asked of it (period,
grouping, scope), those sums per group and currency; `replace(gone, new)` takes the old
accounts' sums out and adds the new ones', so after a tick only the accounts that changed
are measured again, and the reports are the ones a full computation gives, exactly (integer
sums, the same rows).

    tally = Tally(ledger, policy, costs)
    tally.report(start, end, group_by="channel")        # a KpiReport, like compute_kpis
    tally.report(start, end, within=("vip", end))       # only the accounts of segment vip on day `end`
    tally.replace(gone, sub_ledger)                     # accounts `gone` (bool, rows) out, `sub_ledger` in

Sums are measured PAGE accounts at a time (`ledger.pages`), so the memory a report needs beyond
the ledger is that of one page's figures, whatever the portfolio's size.

`within` scopes a report to the accounts of one policy segment at the end of one day (the
ledger must hold a segment snapshot for it). A ledger's `labels` do not survive `replace`
(the store's ledgers have none).
"""
from __future__ import annotations

import calendar
from fractions import Fraction

import numpy as np

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.errors import InputError
from arrears.engine.kpis import rows
from arrears.engine.kpis.groups import Group, all_kinds, check_group_by, group_order, groups
from arrears.engine.kpis.ledger import Ledger, concat, pages, subset
from arrears.engine.kpis.measures import attempts_per_day, contact_attempts, measure
from arrears.engine.kpis.positions import money_batch, positions
from arrears.engine.kpis.report import KpiReport

PAGE = 50_000      # accounts measured at a time: a page's figures are (accounts x ~60) int64


def months_between(start: int, end: int) -> Fraction:
    """Calendar months in `start..end`: each month counts the share of its days in the period."""
    total = Fraction(0)
    day = start
    while day <= end:
        d = day_to_date(day)
        length = calendar.monthrange(d.year, d.month)[1]
        last = day + (length - d.day)            # last day of this month
        total += Fraction(min(last, end) - day + 1, length)
        day = last + 1
    return total


class Tally:
    """KPI reports of one ledger under one policy and cost model (see the module docstring)."""

    def __init__(self, ledger: Ledger, policy, costs=None, scopes=(None,)):
        """`policy`: a CompiledPolicy (its buckets, segments, promise rules); `scopes`: the
        `within`s (None: every account) each period is measured for in the same pass."""
        self.policy, self._costs = policy, costs
        self.scopes = tuple(scopes)   # the `within`s every period is measured for in one pass
        self._sums: dict = {}         # (start, end, group_by) -> {within: Sums}
        self._reports: dict = {}      # (start, end, group_by, within) -> KpiReport, until a change
        self._set(ledger)

    @property
    def costs(self):
        """The cost model the reports' cost to collect is computed with."""
        return self._costs

    @costs.setter
    def costs(self, costs) -> None:
        if costs is not self._costs:
            self._costs = costs
            self._reports.clear()

    def _set(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._measurer = _Measurer(ledger, self.policy)

    def accounts(self, within=None) -> int:
        """How many accounts the ledger holds (in the scope `within`, if given)."""
        return self.ledger.n if within is None else int(_scope(self.ledger, within).sum())

    def currencies(self) -> list[str]:
        """The ledger's currencies, sorted."""
        return sorted(set(self.ledger.currency.tolist()))

    def report(self, start: int, end: int, group_by: str | None = None, within=None) -> KpiReport:
        """The report of `start..end` (epoch days), as `compute_kpis` gives it."""
        if start > end:
            raise InputError(f"the period starts ({day_to_date(start)}) after it ends ({day_to_date(end)})",
                             "from")
        check_group_by(group_by, self.ledger)
        built = self._reports.get((start, end, group_by, within))
        if built is not None:
            return built
        kept = self._sums.setdefault((start, end, group_by), {})
        if within not in kept:
            wanted = [w for w in (*self.scopes, within) if w not in kept]
            kept.update(self._measurer.sums(start, end, group_by, list(dict.fromkeys(wanted))))
        built = self._reports[(start, end, group_by, within)] = self._build(start, end, group_by, kept[within])
        return built

    def account_figures(self, start: int, end: int) -> tuple[np.ndarray, dict]:
        """Every account's figures of `start..end` (the int64 matrix, accounts x figures, that
        every group's KPIs sum) and {figure name: column}: for tests over per-account or
        per-debtor values (engine/experiments)."""
        m = self._measurer
        period = measure(m.ledger, m.policy, start, end, m.positions(start - 1), m.positions(end), m.attempts())
        return period.matrix, period.cols

    def attempts_per_day(self, start: int, end: int, within=None) -> np.ndarray:
        """Contact attempts per day of `start..end` and channel kind code (int64 (days, kinds)),
        of the accounts in scope: the count the KPIs' attempts are made of."""
        scope = None if within is None else _scope(self.ledger, within)
        return attempts_per_day(self.ledger, self._measurer.attempts(), start, end, scope)

    def replace(self, gone: np.ndarray, new: Ledger) -> None:
        """Accounts `gone` (a bool mask of ledger rows) leave, the accounts of `new` (a ledger
        with the same segment days) join; every kept report's sums follow."""
        if not gone.any() and new.n == 0:
            return
        self._reports.clear()
        sides = [(sign, _Measurer(led, self.policy)) for sign, led in ((-1, subset(self.ledger, gone)), (+1, new))
                 if led.n]
        for (start, end, group_by), kept in self._sums.items():
            withins = list(kept)
            for sign, measurer in sides:
                for within, sums in measurer.sums(start, end, group_by, withins).items():
                    kept[within].add(sums, sign)
        staying = subset(self.ledger, ~gone)
        self.ledger = self._measurer = None       # freed before the new one is made: 2 ledgers at most, not 3
        self._set(concat([staying, new]))

    def _build(self, start: int, end: int, group_by, sums: "Sums") -> KpiReport:
        p = self.policy
        months = months_between(start, end)
        total = self._rows(sums.total, {"all": all_kinds()}, ["all"], start, end, months, True)
        order = group_order(group_by, p, sums.kinds, self.ledger.segments.names)
        grouped = total if group_by is None else \
            self._rows(sums.groups, sums.kinds, order, start, end, months, False)
        return KpiReport(start=start, end=end, months=months, group_by=group_by,
                         policy={"name": p.name, "version": p.version, "digest": p.digest},
                         buckets=tuple(p.bucket_names), groups=tuple(grouped), total=tuple(total))

    def _rows(self, table: dict, kinds: dict, names: list, start: int, end: int, months: Fraction,
              with_fixed: bool) -> list:
        """One Row per group (in `names` order) and currency that has accounts or contact attempts."""
        cols = self._measurer.cols
        out = []
        for name in names:
            for currency in sorted(c for g, c in table if g == name):
                sums, contact = table[(name, currency)]
                f = rows.figures_of(sums, contact, cols, kinds[name])
                if f["accounts"] == 0 and f["attempts"] == 0:
                    continue
                out.append(rows.row(
                    name, currency, f, rows.attempts_by_kind(contact, cols, kinds[name]), sums, cols,
                    buckets=self.policy.bucket_names, days=end - start + 1, months=months,
                    costs=self.costs, with_fixed=with_fixed))
        return out


class Sums:
    """One report's sums: (group, currency) -> (account figures, contact figures), int64 vectors."""

    def __init__(self):
        self.total: dict = {}
        self.groups: dict = {}
        self.kinds: dict = {}         # group -> channel kind codes whose attempts count

    def add(self, other: "Sums", sign: int) -> None:
        """Add (sign +1) or take out (-1) another ledger's sums."""
        for mine, theirs in ((self.total, other.total), (self.groups, other.groups)):
            for key, (a, c) in theirs.items():
                if key in mine:
                    mine[key] = (mine[key][0] + sign * a, mine[key][1] + sign * c)
                else:
                    mine[key] = (sign * a, sign * c)
        self.kinds.update(other.kinds)


def _scope(ledger: Ledger, within) -> np.ndarray:
    """The accounts of segment `within[0]` at the end of day `within[1]` (InputError if unknown)."""
    name, day = within
    seg = ledger.segments
    member = seg.at(day)
    if name not in seg.names or member is None:
        raise InputError(f"the ledger has no membership of segment {name!r} on {day_to_date(day).isoformat()}",
                         "segment")
    return member[seg.names.index(name)]


class _Measurer:
    """Per-account figures of one ledger (positions cached by day) summed per group and currency."""

    def __init__(self, ledger: Ledger, policy):
        from arrears.engine.kpis.measures import columns
        self.ledger, self.policy = ledger, policy
        self.cols = columns(len(policy.bucket_names))
        self._batch = None
        self._attempts = None
        self._positions: dict = {}
        self._by_currency = None

    @property
    def by_currency(self) -> list:
        """(currency, its accounts as a bool mask) per currency, sorted; computed when first
        measured (a kept ledger that only answers from its sums never needs them)."""
        if self._by_currency is None:
            names, codes = (np.unique(self.ledger.currency.astype(str), return_inverse=True) if self.ledger.n
                            else (np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64)))
            self._by_currency = [(name, codes.reshape(-1) == i) for i, name in enumerate(names.tolist())]
        return self._by_currency

    def positions(self, day: int):
        if self._batch is None:
            self._batch = money_batch(self.ledger)
        if day not in self._positions:
            self._positions[day] = positions(self._batch, self.policy, day)
        return self._positions[day]

    def attempts(self) -> np.ndarray:
        if self._attempts is None:
            self._attempts = contact_attempts(self.ledger)
        return self._attempts

    def sums(self, start: int, end: int, group_by, withins: list) -> dict:
        """{within: Sums} of `start..end` under `group_by`, one measurement for every scope,
        made PAGE accounts at a time (each page's positions and figures dropped after it), so
        measuring a million accounts needs the memory of one page; the sums are the same."""
        if self.ledger.n <= PAGE:
            return self._sums(start, end, group_by, withins)
        out = {w: Sums() for w in withins}
        for part in pages(self.ledger, PAGE):
            for within, sums in _Measurer(part, self.policy)._sums(start, end, group_by, withins).items():
                out[within].add(sums, +1)
        return out

    def _sums(self, start: int, end: int, group_by, withins: list) -> dict:
        period = measure(self.ledger, self.policy, start, end, self.positions(start - 1), self.positions(end),
                         self.attempts())
        grouped = [] if group_by is None else groups(self.ledger, period, self.policy, group_by)
        return {w: self._scoped(period.matrix, grouped, w) for w in withins}

    def _scoped(self, m: np.ndarray, grouped: list, within) -> Sums:
        out = Sums()
        scope = np.ones(self.ledger.n, dtype=bool) if within is None else _scope(self.ledger, within)
        seen: dict = {}

        def summed(mask):            # channel groups share one contact mask: sum it once
            if id(mask) not in seen:
                seen[id(mask)] = (mask, [np.compress(mask & in_cur, m, axis=0).sum(axis=0)   # m[...]: slower
                                         for _, in_cur in self.by_currency])
            return seen[id(mask)][1]

        def put(table, group: Group):
            rows_, contact = summed(group.rows), summed(group.contact_rows)
            out.kinds[group.name] = group.kinds
            for i, (currency, _) in enumerate(self.by_currency):
                table[(group.name, currency)] = (rows_[i], contact[i])
        put(out.total, Group("all", scope, scope, all_kinds()))
        for g in grouped:
            put(out.groups, Group(g.name, g.rows & scope, scope if g.contact_rows.all() else
                                  g.contact_rows & scope, g.kinds))
        return out
