"""Statutory moratoria: every breathing space and mental health crisis moratorium, as days.

England and Wales' Debt Respite Scheme has two kinds, each started by its own event:

- `breathing_space` (standard): through its `until` day, else through the
  `durations["breathing_space"]`-th day after its start day (60, or a profile's longer period);
- `mental_health_crisis_moratorium`: while the debtor receives crisis treatment and
  `CRISIS_DAYS_AFTER_TREATMENT` days after it ends. Through its `until` day if given;
  else through the 30th day after the day of the first `crisis_treatment_ended` recorded after it
  (that event's `until`, or the local day of its `at`); until then it has no end day.

A `breathing_space_ended` recorded after a start ends that moratorium the day before its own
local day. While one is in force nothing is collected (the `stop.breathing_space` hold); and for
its days, even after it has ended, no interest accrues and no late fee arises:
`spans` gives every moratorium's days, merged per account, for the fee code.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import NO_DAY

STANDARD_DAYS = 60                  # a standard breathing space, without a longer profile period
CRISIS_DAYS_AFTER_TREATMENT = 30    # a crisis moratorium outlasts the crisis treatment by this


def _next(facts, candidates: np.ndarray, rows: np.ndarray, acct: np.ndarray) -> np.ndarray:
    """For each event row in `rows`, the first row of `candidates` after it in the same
    account (-1 if none). Rows are in (account, time, arrival) order."""
    if candidates.size == 0 or rows.size == 0:
        return np.full(rows.size, -1, dtype=np.int64)
    pos = np.searchsorted(candidates, rows, side="right")
    row = candidates[np.minimum(pos, candidates.size - 1)]
    ok = (pos < candidates.size) & (facts.b.ev_acct[row] == acct)
    return np.where(ok, row, -1)


def _day_of(facts, rows: np.ndarray, acct: np.ndarray, use_until: bool) -> np.ndarray:
    """Local day of each event row (its `until` day first when `use_until`); NO_DAY for -1."""
    b = facts.b
    out = np.full(rows.size, NO_DAY, dtype=np.int64)
    has = rows >= 0
    if has.any():
        r = rows[has]
        day = facts.local_day_of(acct[has], b.ev_at[r])
        if use_until:
            until = b.ev_until[r].astype(np.int64)
            day = np.where(until != NO_DAY, until, day)
        out[has] = day
    return out


def starts(facts) -> dict:
    """One entry per moratorium start event (arrays aligned, in row order): `rows`, `acct`,
    `first` (local start day), `planned` (last day by its length: NO_DAY while it has none),
    `last` (planned, or the day before a later `breathing_space_ended`: NO_DAY if open) and
    `crisis` (a mental health crisis moratorium)."""
    b = facts.b
    standard = facts._mask(E["breathing_space"])
    crisis_mask = facts._mask(E["mental_health_crisis_moratorium"])
    rows = np.flatnonzero(standard | crisis_mask)
    acct = b.ev_acct[rows]
    first = facts.local_day_of(acct, b.ev_at[rows]).astype(np.int64)
    crisis = crisis_mask[rows]
    until = b.ev_until[rows].astype(np.int64)
    length = np.broadcast_to(np.asarray(facts.durations.get("breathing_space", STANDARD_DAYS),
                                        dtype=np.int64), (facts.n,))[acct]
    planned = np.where(until != NO_DAY, until, np.where(crisis, NO_DAY, first + length))
    open_crisis = crisis & (until == NO_DAY)
    if open_crisis.any():
        treated = _next(facts, np.flatnonzero(facts._mask(E["crisis_treatment_ended"])), rows, acct)
        treated_day = _day_of(facts, treated, acct, use_until=True)
        done = open_crisis & (treated_day != NO_DAY)
        planned = np.where(done, treated_day + CRISIS_DAYS_AFTER_TREATMENT, planned)
    ended = _next(facts, np.flatnonzero(facts._mask(E["breathing_space_ended"])), rows, acct)
    ended_day = _day_of(facts, ended, acct, use_until=False)
    cut = ended_day != NO_DAY
    last = np.where(cut & ((planned == NO_DAY) | (planned > ended_day - 1)), ended_day - 1, planned)
    return {"rows": rows, "acct": acct, "first": first, "planned": planned, "last": last, "crisis": crisis}


def state(facts, found: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(active, until_day, crisis) per account, from the latest start: in force unless a
    `breathing_space_ended` came after it, through its planned last day (open-ended: NO_DAY)."""
    n = facts.n
    active = np.zeros(n, dtype=bool)
    until = np.full(n, NO_DAY, dtype=np.int64)
    crisis = np.zeros(n, dtype=bool)
    rows, acct = found["rows"], found["acct"]
    if rows.size == 0:
        return active, until, crisis
    latest = np.r_[acct[1:] != acct[:-1], True]
    a = acct[latest]
    until[a] = found["planned"][latest]
    crisis[a] = found["crisis"][latest]
    started = facts.b.ev_at[rows[latest]]
    closed = facts.last_at(facts._mask(E["breathing_space_ended"]))[a]
    active[a] = (started > closed) & ((until[a] == NO_DAY) | (facts.today[a] <= until[a]))
    return active, until, crisis


def spans(facts, found: dict) -> dict:
    """Every moratorium's days up to today, merged per account: `acct`, `first`, `last`
    (inclusive local days), sorted by account then day; spans never overlap."""
    acct = found["acct"]
    today = facts.today[acct]
    last = np.where(found["last"] == NO_DAY, today, np.minimum(found["last"], today))
    keep = last >= found["first"]
    acct, first, last = acct[keep], found["first"][keep], last[keep]
    order = np.lexsort((first, acct))
    merged: list[list[int]] = []
    for a, f, l in zip(acct[order].tolist(), first[order].tolist(), last[order].tolist()):
        if merged and merged[-1][0] == a and f <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], l)
        else:
            merged.append([a, f, l])
    cols = np.array(merged, dtype=np.int64).reshape(-1, 3)
    return {"acct": cols[:, 0], "first": cols[:, 1], "last": cols[:, 2]}


def _each_span(found_spans: dict, acct: np.ndarray):
    """Yield (valid, first, last) for the j-th span of each row's account, j = 0, 1, ..."""
    sp_acct = found_spans["acct"]
    lo = np.searchsorted(sp_acct, acct, side="left")
    hi = np.searchsorted(sp_acct, acct, side="right")
    for j in range(int((hi - lo).max(initial=0))):
        idx = lo + j
        valid = idx < hi
        at = np.minimum(idx, max(sp_acct.size - 1, 0))
        yield valid, found_spans["first"][at], found_spans["last"][at]


def days_inside(found_spans: dict, acct: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many of the days lo..hi (inclusive, per row of account `acct`) fall in a moratorium."""
    out = np.zeros(acct.size, dtype=np.int64)
    for valid, first, last in _each_span(found_spans, acct):
        overlap = np.minimum(hi, last) - np.maximum(lo, first) + 1
        out += np.where(valid, np.clip(overlap, 0, None), 0)
    return out


def inside(found_spans: dict, acct: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether `day` (per row of account `acct`) falls in a moratorium."""
    out = np.zeros(acct.size, dtype=bool)
    for valid, first, last in _each_span(found_spans, acct):
        out |= valid & (first <= day) & (day <= last)
    return out
