"""Facts: what is true of every account in a batch at `now`, computed column-wise.

Everything is derived from the account columns and the event history with numpy
group operations; only events at or before `now` count, so the same batch can be
evaluated at any moment (explain --at, replay). Facts are computed lazily: a policy
that never looks at, say, promises pays nothing for them.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from arrears.engine.domain import tzutil
from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import KIND_CODES, NO_DAY, Batch
from arrears.engine.domain.clock import DAY, FAR, NEVER
from arrears.engine.facts.balances import MoneyFacts, take
from arrears.engine.facts.history import HistoryFacts
from arrears.engine.facts.requests import RequestFacts


def distinct_codes(values) -> tuple[np.ndarray, list]:
    """(code per element, distinct values in first-seen order) of a column of hashable values.

    Hashing happens in C (`dict.fromkeys`, `map`), so a batch pays per distinct value, not per
    account, for whatever is then computed over the distinct values.
    """
    uniq = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(uniq)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, uniq


class Facts(MoneyFacts, HistoryFacts, RequestFacts):
    """Lazily computed fact columns for one batch, one policy and one moment."""

    def __init__(self, batch: Batch, policy, now: int, durations: dict | None = None):
        self.b, self.p, self.now = batch, policy, int(now)
        # Per-account lengths of states that jurisdiction profiles may lengthen.
        self.durations = durations or {}
        self.n = batch.n
        self.tz_names = [name or policy.default_timezone for name in batch.tz_names]
        valid = batch.ev_at <= self.now
        self._valid = valid
        self.cache: dict = {}
        self.local = tzutil.LocalTimes(self.tz_names, batch.tz)   # local-time columns, once each
        # Plugin facts that could not be computed for this batch: name -> FactFailure.
        self.plugin_failures: dict = {}

    # ---- time -------------------------------------------------------------
    @cached_property
    def local_now(self) -> np.ndarray:
        """Local wall-clock seconds since the epoch at `now`, per account."""
        t = np.full(self.n, self.now, dtype=np.int64)
        return t + tzutil.offsets(self.tz_names, self.b.tz, t)

    @cached_property
    def today(self) -> np.ndarray:
        """Local epoch day at `now`, per account."""
        return self.local_now // DAY

    def local_day_of(self, acct: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Local epoch day of instants `t` for the accounts in rows `acct`."""
        return tzutil.local_days(self.tz_names, self.b.tz[acct], t)

    def midnight(self, day: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """UTC instant at which local `day` starts for each account (or for `rows`)."""
        zones = self.b.tz if rows is None else self.b.tz[rows]
        return tzutil.local_midnight(self.tz_names, zones, day)

    # ---- policy-bound facts ----------------------------------------------------
    def segment_mask(self, name: str) -> np.ndarray:
        """Accounts in the policy's segment `name` (segments are evaluated once each)."""
        key = ("segment", name)
        if key not in self.cache:
            self.cache[key] = self.p.segments[name].evaluate(self)
        return self.cache[key]

    @cached_property
    def bucket_index(self) -> np.ndarray:
        """Index of each account's aging bucket in the policy."""
        return np.searchsorted(self.p.bucket_starts, self.days_past_due, side="right") - 1

    @cached_property
    def bucket_names(self) -> np.ndarray:
        return np.asarray(self.p.bucket_names, dtype=object)[self.bucket_index]

    @cached_property
    def jurisdiction_codes(self) -> tuple[np.ndarray, list]:
        """(code per account, distinct jurisdictions): evaluate per jurisdiction, not per account."""
        raw_codes, raw = distinct_codes(self.b.jurisdiction)
        # Distinct jurisdictions sorted, unknown (None or "") first and once, as np.unique gave.
        uniq = sorted({j or "" for j in raw})
        where = {name: i for i, name in enumerate(uniq)}
        remap = np.array([where[j or ""] for j in raw], dtype=np.int64)
        return remap[raw_codes] if raw else raw_codes, [u or None for u in uniq]

    def per_jurisdiction(self, fn, dtype=object) -> np.ndarray:
        """`fn(jurisdiction or None)` for every account, computed once per distinct value."""
        codes, uniq = self.jurisdiction_codes
        return np.array([fn(j) for j in uniq], dtype=dtype)[codes] if uniq else \
            np.empty(0, dtype=dtype)

    @cached_property
    def country(self) -> np.ndarray:
        return self.per_jurisdiction(lambda j: j.split("-", 1)[0] if j else None)

    @cached_property
    def multi_zone(self) -> np.ndarray:
        """Accounts known in more than one time zone."""
        return self.b.extra_tz.astype(bool)     # a tuple's truth (non-empty), taken in C

    @cached_property
    def language(self) -> np.ndarray:
        """The debtor's language: a wish in force (`contact_preference`), else the account's,
        else the policy's default."""
        lang = self.b.language.copy()
        wished = self.wishes["language"]
        lang = np.where(wished != None, wished, lang)  # noqa: E711
        lang[lang == None] = self.p.default_language  # noqa: E711
        return lang

    @cached_property
    def preference_rank(self) -> np.ndarray:
        """(n, kinds) rank of each channel kind in the debtor's preferences (unlisted: 99)."""
        ranks = np.full((self.n, len(KIND_CODES)), 99, dtype=np.int64)
        rows = np.flatnonzero(self.b.prefs.astype(bool))    # a tuple's truth (non-empty), in C
        if rows.size:
            # Ranks per distinct preference list, then spread to its accounts.
            codes, uniq = distinct_codes(self.b.prefs[rows])
            table = np.full((len(uniq), len(KIND_CODES)), 99, dtype=np.int64)
            for u, prefs in enumerate(uniq):
                for pos, kind in enumerate(prefs):
                    table[u, KIND_CODES[kind]] = min(table[u, KIND_CODES[kind]], pos)
            ranks[rows] = table[codes]
        return ranks

    @cached_property
    def last_stage_names(self) -> np.ndarray:
        ids = np.asarray([s.id for s in self.p.stages] + [None], dtype=object)
        return ids[self.progress["last_stage"]]

    # ---- event helpers -------------------------------------------------------
    def _mask(self, *types) -> np.ndarray:
        out = self.b.ev_type == types[0]
        for code in types[1:]:
            out = out | (self.b.ev_type == code)
        return self._valid & out

    def last_row(self, mask: np.ndarray) -> np.ndarray:
        """Row of the latest event selected by `mask`, per account (-1 if none)."""
        out = np.full(self.n, -1, dtype=np.int64)
        rows = np.flatnonzero(mask)
        if rows.size:
            acct = self.b.ev_acct[rows]
            last = np.r_[acct[1:] != acct[:-1], True]
            out[acct[last]] = rows[last]
        return out

    def last_at(self, mask: np.ndarray) -> np.ndarray:
        """Time of the latest event selected by `mask`, per account (NEVER if none)."""
        return take(self.b.ev_at, self.last_row(mask), NEVER)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Number of events selected by `mask`, per account."""
        return np.bincount(self.b.ev_acct[mask], minlength=self.n).astype(np.int64)

    def total(self, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Exact integer sum of `values[mask]` per account."""
        out = np.zeros(self.n, dtype=np.int64)
        np.add.at(out, self.b.ev_acct[mask], values[mask])
        return out

    def status(self, start: str, end: str | None, default_days=None, max_days=None,
               permanent: bool = False):
        """(active, until_day) of a state opened by `start` events and closed by `end` ones.

        The latest start wins. It lasts through its own `until` day, else through the
        `default_days`-th day after the day it started (a per-account array is allowed;
        negative means until an end event), and never beyond the `max_days`-th:
        when the law says "60 days" we keep the safe side and count them after the start day.
        """
        b = self.b
        row = self.last_row(self._mask(E[start]))
        has = row >= 0
        started = take(b.ev_at, row, NEVER)
        closed = self.last_at(self._mask(E[end])) if end else np.full(self.n, NEVER)
        until = take(b.ev_until, row, NO_DAY).astype(np.int64)
        if permanent:       # an `until` never ends a death or a refusal to be contacted
            until = np.full(self.n, NO_DAY, dtype=np.int64)
        if default_days is not None and has.any():
            start_day = np.full(self.n, NO_DAY, dtype=np.int64)
            start_day[has] = self.local_day_of(np.flatnonzero(has), started[has])
            days = np.broadcast_to(np.asarray(default_days, dtype=np.int64), (self.n,))
            until = np.where(has & (until == NO_DAY) & (days >= 0), start_day + days, until)
        if max_days is not None and has.any():
            first = self.local_day_of(np.flatnonzero(has), started[has])
            cap = np.full(self.n, NO_DAY, dtype=np.int64)
            cap[has] = first + max_days
            until = np.where(has & ((until == NO_DAY) | (until > cap)), cap, until)
        active = has & (started > closed) & ((until == NO_DAY) | (self.today <= until))
        return active, until



__all__ = ["Facts", "NEVER", "FAR", "DAY", "take"]
