"""Contact windows: the earliest instant at or after `t` when a contact is allowed.

A window gives each day of the week a local start and end (minutes after midnight; a
closed day opens at 0 and closes at 0). Several restrictions intersect: the latest start
and the earliest end of each day, so any restriction can only narrow, never widen. Public
holidays close the whole local day. The search walks forward day by day, vectorised over
accounts, converting local wall-clock times to UTC exactly (DST included). An account
known in several time zones must be inside the window in every one of them: those few
rows are searched one by one over the candidate instants where some window opens.

This is the one home of contact hours: the rule kinds `contact_window` and
`public_holidays`, a policy's house hours (compiled into those kinds) and any other
restriction (a debtor's own wishes) narrow the same `Windows` through `restrict_week`.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.domain import tzutil
from arrears.engine.domain.clock import FAR
from arrears.engine.domain.holidaycal import is_holiday

DAY = tzutil.DAY
HORIZON_DAYS = 15   # a window that never opens within this many days is treated as closed
OPEN_WEEK = np.tile(np.array([0, 1440], dtype=np.int64), (7, 1))
CLOSED = (0, 0)


def week_of(weekdays, weekends, saturday=None, sunday=None) -> np.ndarray:
    """A (7, 2) table, Monday first, of (start, end) minutes: `weekdays` for Monday to
    Friday, `saturday`/`sunday` where given, else `weekends`."""
    sat = weekends if saturday is None else saturday
    sun = weekends if sunday is None else sunday
    return np.array([weekdays] * 5 + [sat, sun], dtype=np.int64)


def weekday(local_day: np.ndarray) -> np.ndarray:
    """Day of the week of local epoch days, Monday 0 (1970-01-01 was a Thursday)."""
    return (local_day + 3) % 7


class Windows:
    """Per-row intersected weekly windows (minutes) and holiday flags for one candidate channel."""

    def __init__(self, n: int):
        self.hours = np.tile(OPEN_WEEK, (n, 1, 1))          # (n, 7, 2): start, end per weekday
        self.holidays = np.zeros(n, dtype=bool)
        self.state_holidays = np.zeros(n, dtype=bool)   # also the subdivision's own holidays
        self.any = np.zeros(n, dtype=bool)

    def restrict_week(self, rows: np.ndarray, week) -> None:
        """Intersect the windows of `rows` (a boolean mask) with `week`: a (7, 2) table for
        them all, or an (n, 7, 2) table with each account's own hours (a debtor's wishes)."""
        week = np.asarray(week, dtype=np.int64)
        sel = np.flatnonzero(rows)
        if sel.size == 0:
            return
        mine = week if week.ndim == 2 else week[sel]
        self.hours[sel, :, 0] = np.maximum(self.hours[sel, :, 0], mine[..., 0])
        self.hours[sel, :, 1] = np.minimum(self.hours[sel, :, 1], mine[..., 1])
        self.any[sel] = True

    def restrict(self, rows: np.ndarray, weekdays, weekends) -> None:
        """Intersect rows' windows with weekday and weekend hours (see `restrict_week`)."""
        self.restrict_week(rows, week_of(weekdays, weekends))

    def close_holidays(self, rows: np.ndarray, national: bool = False) -> None:
        """Rows whose public holidays are closed: national ones, or also their state's."""
        self.holidays |= rows
        if not national:
            self.state_holidays |= rows
        self.any |= rows

    def with_state_holidays(self, rows: np.ndarray) -> None:
        """Rows whose closed holidays include their state's own (a policy's choice)."""
        self.state_holidays |= rows & self.holidays


def _allowed_at_local(win: Windows, rows, local, jurisdictions, codes):
    """Is local wall-clock time `local` inside the window (and not a holiday) for rows?"""
    day = local // DAY
    minute = (local % DAY) // 60
    wk = weekday(day)
    start, end = win.hours[rows, wk, 0], win.hours[rows, wk, 1]
    ok = (minute >= start) & (minute < end)
    hol = win.holidays[rows]
    if hol.any():
        ok &= ~(hol & is_holiday(jurisdictions, codes[rows], day, win.state_holidays[rows]))
    return ok


def allowed_at(facts, win: Windows, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per account in `rows` (indices): is instant `t` (per row) inside its windows in every
    known time zone? Used to say which restriction holds a contact back."""
    out = np.ones(rows.size, dtype=bool)
    if rows.size == 0:
        return out
    codes, jurisdictions = facts.jurisdiction_codes
    names, zones = facts.tz_names, facts.b.tz
    loc = t + tzutil.offsets(names, zones[rows], t)
    out = _allowed_at_local(win, rows, loc, jurisdictions, codes)
    for i in np.flatnonzero(facts.multi_zone[rows]):
        row = int(rows[i])
        zone_names = list(dict.fromkeys([names[zones[row]], *facts.b.extra_tz[row]]))
        zc = np.arange(len(zone_names))
        local = int(t[i]) + tzutil.offsets(zone_names, zc, np.full(len(zc), int(t[i])))
        out[i] = _allowed_at_local(win, np.full(len(zc), row), local, jurisdictions, codes).all()
    return out


def earliest(facts, win: Windows, t: np.ndarray) -> np.ndarray:
    """Earliest instant >= t (per row) inside every window; FAR if none within the horizon."""
    out = t.copy()
    rows = np.flatnonzero(win.any & (t < FAR))
    if rows.size == 0:
        return out
    codes, jurisdictions = facts.jurisdiction_codes
    multi = facts.multi_zone
    single = rows[~multi[rows]]
    names, zones = facts.tz_names, facts.b.tz
    if single.size:
        ts = t[single]
        loc = ts + tzutil.offsets(names, zones[single], ts)
        result = np.full(single.size, FAR)
        pending = np.ones(single.size, dtype=bool)
        day0 = loc // DAY
        for j in range(HORIZON_DAYS):
            if not pending.any():
                break
            d = day0 + j
            wk = weekday(d)
            start = win.hours[single, wk, 0] * 60
            end = win.hours[single, wk, 1] * 60
            cand = np.where(j == 0, np.maximum(loc, d * DAY + start), d * DAY + start)
            ok = pending & (cand < d * DAY + end) & (start < end)
            hol = ok & win.holidays[single]
            if hol.any():
                idx = np.flatnonzero(hol)
                ok[idx] &= ~is_holiday(jurisdictions, codes[single[idx]], d[idx],
                                       win.state_holidays[single[idx]])
            if ok.any():
                idx = np.flatnonzero(ok)
                utc = tzutil.local_to_utc(names, zones[single[idx]], cand[idx])
                result[idx] = np.maximum(utc, ts[idx])
                pending[idx] = False
        out[single] = result
    for row in rows[multi[rows]]:
        out[row] = _earliest_multi(facts, win, int(row), int(t[row]), jurisdictions, codes)
    return out


def _earliest_multi(facts, win, row, t, jurisdictions, codes_all) -> int:
    """Earliest instant >= t allowed in the account's every zone (one row, Python)."""
    zone_names = list(dict.fromkeys([facts.tz_names[facts.b.tz[row]], *facts.b.extra_tz[row]]))
    codes = np.arange(len(zone_names))
    candidates = {t}
    for code in codes:
        loc0 = t + int(tzutil.offsets(zone_names, np.array([code]), np.array([t]))[0])
        for j in range(HORIZON_DAYS):
            d = loc0 // DAY + j
            # Where some zone's window opens (or its day starts, after a holiday).
            for minute in {int(win.hours[row, int(weekday(d)), 0]), 0}:
                local = d * DAY + minute * 60
                utc = int(tzutil.local_to_utc(zone_names, np.array([code]), np.array([local]))[0])
                if utc >= t:
                    candidates.add(utc)
    rows = np.full(len(zone_names), row)
    for cand in sorted(candidates):
        local = cand + tzutil.offsets(zone_names, codes, np.full(len(codes), cand))
        if _allowed_at_local(win, rows, local, jurisdictions, codes_all).all():
            return cand
    return int(FAR)
