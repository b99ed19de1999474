"""Contact windows: the earliest instant at or after `t` when a contact is allowed.

A window is a local start and end (minutes after midnight) for weekdays and for
weekends; several rules intersect (the latest start, the earliest end). Public
holidays close the whole day. The search walks forward day by day, vectorised over
accounts, converting local wall-clock times to UTC exactly (DST included). An account
known in several time zones must be inside the window in every one of them: those few
rows are searched one by one over the candidate instants where some window opens.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.domain import tzutil
from arrears.engine.domain.clock import FAR
from arrears.engine.domain.holidaycal import is_holiday

DAY = tzutil.DAY
HORIZON_DAYS = 15   # a window that never opens within this many days is treated as closed


class Windows:
    """Per-row intersected windows (minutes) and holiday flags for one candidate channel."""

    def __init__(self, n: int):
        self.wd = np.tile(np.array([0, 1440], dtype=np.int64), (n, 1))
        self.we = self.wd.copy()
        self.holidays = np.zeros(n, dtype=bool)
        self.state_holidays = np.zeros(n, dtype=bool)   # also the subdivision's own holidays
        self.any = np.zeros(n, dtype=bool)
        self.days = np.full(n, 127, dtype=np.int64)   # weekdays allowed: bit 0 Monday … bit 6 Sunday

    def allow_days(self, rows: np.ndarray, days) -> None:
        """Intersect rows' allowed weekdays with `days` (a bitmask per row or one for all)."""
        self.days[rows] &= np.asarray(days, dtype=np.int64)
        self.any |= rows

    def restrict(self, rows: np.ndarray, weekdays, weekends) -> None:
        """Intersect rows' windows with a rule's weekday and weekend hours."""
        for table, (start, end) in ((self.wd, weekdays), (self.we, weekends)):
            table[rows, 0] = np.maximum(table[rows, 0], start)
            table[rows, 1] = np.minimum(table[rows, 1], end)
        self.any |= rows

    def close_holidays(self, rows: np.ndarray, national: bool = False) -> None:
        """Rows whose public holidays are closed: national ones, or also their state's."""
        self.holidays |= rows
        if not national:
            self.state_holidays |= rows
        self.any |= rows


def _allowed_at_local(win: Windows, rows, local, jurisdictions, codes):
    """Is local wall-clock time `local` inside the window (and not a holiday) for rows?"""
    day = local // DAY
    minute = (local % DAY) // 60
    weekend = (day + 3) % 7 >= 5
    start = np.where(weekend, win.we[rows, 0], win.wd[rows, 0])
    end = np.where(weekend, win.we[rows, 1], win.wd[rows, 1])
    ok = (minute >= start) & (minute < end) & ((win.days[rows] >> ((day + 3) % 7)) & 1 == 1)
    hol = win.holidays[rows]
    if hol.any():
        ok &= ~(hol & is_holiday(jurisdictions, codes[rows], day, win.state_holidays[rows]))
    return ok


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
            weekend = (d + 3) % 7 >= 5
            start = np.where(weekend, win.we[single, 0], win.wd[single, 0]) * 60
            end = np.where(weekend, win.we[single, 1], win.wd[single, 1]) * 60
            cand = np.where(j == 0, np.maximum(loc, d * DAY + start), d * DAY + start)
            ok = pending & (cand < d * DAY + end) & (start < end) \
                & ((win.days[single] >> ((d + 3) % 7)) & 1 == 1)      # weekday allowed (0: Monday)
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
            for table in (win.wd, win.we):
                local = d * DAY + int(table[row, 0]) * 60
                utc = int(tzutil.local_to_utc(zone_names, np.array([code]), np.array([local]))[0])
                if utc >= t:
                    candidates.add(utc)
    rows = np.full(len(zone_names), row)
    for cand in sorted(candidates):
        local = cand + tzutil.offsets(zone_names, codes, np.full(len(codes), cand))
        if _allowed_at_local(win, rows, local, jurisdictions, codes_all).all():
            return cand
    return int(FAR)
