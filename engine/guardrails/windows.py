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
    """Per-row intersected weekly windows (minutes) and holiday flags for one candidate channel.

    `index`: the batch rows it holds (None: all `n`). Restrictions are always given for the
    whole batch (masks and per-row tables of length `n`); a partial `Windows` keeps its rows.
    """

    def __init__(self, n: int, index: np.ndarray | None = None):
        self.index = index
        m = n if index is None else index.size
        # Start, end minutes per weekday: open all week, a read-only view until a restriction
        # narrows some row (`_intersect` copies it then), so a candidate no rule narrows costs
        # no (m, 7, 2) table.
        self.hours = np.broadcast_to(OPEN_WEEK, (m, 7, 2))
        self.holidays = np.zeros(m, dtype=bool)
        self.state_holidays = np.zeros(m, dtype=bool)   # also the subdivision's own holidays
        self.any = np.zeros(m, dtype=bool)

    def _mine(self, rows: np.ndarray) -> np.ndarray:
        return rows if self.index is None else rows[self.index]

    def _select(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in this Windows, which of the batch rows selected by `rows`) for the rows
        of the mask that this Windows holds: per-row values given for the selected rows only
        (`restrict`, `allow_days`) are picked by the second."""
        chosen = np.flatnonzero(rows)
        if self.index is None:
            return chosen, np.arange(chosen.size)
        at = np.searchsorted(self.index, chosen)
        held = (at < self.index.size) & (self.index[np.minimum(at, self.index.size - 1)] == chosen)
        return at[held], np.flatnonzero(held)

    def restrict_week(self, rows: np.ndarray, week) -> None:
        """Intersect the windows of `rows` (a boolean mask over the batch) with `week`: a (7, 2)
        table for them all, or an (n, 7, 2) table with each account's own hours."""
        week = np.asarray(week, dtype=np.int64)
        if week.ndim == 3:
            week = week[np.flatnonzero(rows)]          # the selected rows' own tables
        pos, which = self._select(rows)
        if pos.size:
            self._intersect(pos, week if week.ndim == 2 else week[which])

    def _intersect(self, pos: np.ndarray, week: np.ndarray) -> None:
        if not self.hours.flags.writeable:
            self.hours = self.hours.copy()
        self.hours[pos, :, 0] = np.maximum(self.hours[pos, :, 0], week[..., 0])
        self.hours[pos, :, 1] = np.minimum(self.hours[pos, :, 1], week[..., 1])
        self.any[pos] = True

    def restrict(self, rows: np.ndarray, weekdays, weekends) -> None:
        """Intersect rows' windows with weekday and weekend hours, each (start, end) minutes:
        numbers for them all, or arrays with a value per selected row (a debtor's wishes)."""
        pos, which = self._select(rows)
        if pos.size == 0:
            return
        k = int(np.count_nonzero(rows))

        def per_row(value):
            return np.broadcast_to(np.asarray(value, dtype=np.int64), (k,))[which]

        wd = np.stack([per_row(weekdays[0]), per_row(weekdays[1])], axis=-1)     # (m, 2)
        we = np.stack([per_row(weekends[0]), per_row(weekends[1])], axis=-1)
        self._intersect(pos, np.stack([wd] * 5 + [we] * 2, axis=1))

    def allow_days(self, rows: np.ndarray, days) -> None:
        """Close the weekdays a bitmask leaves out (bit 0 Monday … bit 6 Sunday) for `rows`:
        one mask for them all, or one per selected row."""
        pos, which = self._select(rows)
        if pos.size == 0:
            return
        k = int(np.count_nonzero(rows))
        bits = np.broadcast_to(np.asarray(days, dtype=np.int64), (k,))[which]
        shut = ((bits[:, None] >> np.arange(7)) & 1) == 0                        # (m, 7)
        week = np.where(shut[..., None], 0, OPEN_WEEK[None, :, :])
        self._intersect(pos, week)

    def close_holidays(self, rows: np.ndarray, national: bool = False) -> None:
        """Rows whose public holidays are closed: national ones, or also their state's."""
        rows = self._mine(rows)
        self.holidays |= rows
        if not national:
            self.state_holidays |= rows
        self.any |= rows

    def with_state_holidays(self, rows: np.ndarray) -> None:
        """Rows whose closed holidays include their state's own (a policy's choice)."""
        self.state_holidays |= self._mine(rows) & self.holidays


def _inside(win: Windows, pos, local, jurisdictions, jcodes):
    """Is local wall-clock time `local` inside the window (and not a holiday) at `win`'s
    positions `pos`, whose jurisdiction codes are `jcodes`?"""
    day = local // DAY
    minute = (local % DAY) // 60
    wk = weekday(day)
    start, end = win.hours[pos, wk, 0], win.hours[pos, wk, 1]
    ok = (minute >= start) & (minute < end)
    hol = np.flatnonzero(win.holidays[pos])
    if hol.size:
        ok[hol] &= ~is_holiday(jurisdictions, jcodes[hol], day[hol], win.state_holidays[pos[hol]])
    return ok


class Instants:
    """Instants of some accounts as local times in their zones, converted once and judged
    against several windows (`allowed`): which restriction holds a contact back."""

    def __init__(self, facts, rows: np.ndarray, t: np.ndarray):
        self.facts, self.rows, self.t = facts, rows, t
        codes, self.jurisdictions = facts.jurisdiction_codes
        self.jcodes = codes[rows]
        self.local = t + tzutil.offsets(facts.tz_names, facts.b.tz[rows], t)
        self.multi = np.flatnonzero(facts.multi_zone[rows])

    def allowed(self, win: Windows, pos: np.ndarray, which: np.ndarray | None = None) -> np.ndarray:
        """Per account (or only those at `which`, indices into this object's rows): is its
        instant inside `win`, at `win` positions `pos`, in every known zone?"""
        which = np.arange(self.rows.size) if which is None else which
        out = _inside(win, pos, self.local[which], self.jurisdictions, self.jcodes[which])
        if self.multi.size:
            f = self.facts
            for k in np.flatnonzero(np.isin(which, self.multi)):
                i = int(which[k])
                row, at = int(self.rows[i]), int(self.t[i])
                zone_names = list(dict.fromkeys([f.tz_names[f.b.tz[row]], *f.b.extra_tz[row]]))
                zc = np.arange(len(zone_names))
                local = at + tzutil.offsets(zone_names, zc, np.full(len(zc), at))
                out[k] = _inside(win, np.full(len(zc), pos[k]), local, self.jurisdictions,
                                 np.full(len(zc), self.jcodes[i])).all()
        return out


def allowed_at(facts, win: Windows, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per account in `rows` (indices): is instant `t` (per row) inside its windows (a whole
    batch's `Windows`) in every known time zone?"""
    if rows.size == 0:
        return np.ones(0, dtype=bool)
    return Instants(facts, rows, t).allowed(win, rows)


def earliest(facts, win: Windows, t: np.ndarray) -> np.ndarray:
    """Earliest instant >= t (per batch row) inside every window; FAR if none within the
    horizon. `win` may hold only some rows (`Windows.index`): the others keep `t`."""
    out = t.copy()
    index = np.arange(facts.n) if win.index is None else win.index
    pos = np.flatnonzero(win.any & (t[index] < FAR))
    if pos.size == 0:
        return out
    rows = index[pos]
    codes, jurisdictions = facts.jurisdiction_codes
    multi = facts.multi_zone[rows]
    single, spos = rows[~multi], pos[~multi]
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
            start = win.hours[spos, wk, 0] * 60
            end = win.hours[spos, wk, 1] * 60
            cand = np.where(j == 0, np.maximum(loc, d * DAY + start), d * DAY + start)
            ok = pending & (cand < d * DAY + end) & (start < end)
            hol = ok & win.holidays[spos]
            if hol.any():
                idx = np.flatnonzero(hol)
                ok[idx] &= ~is_holiday(jurisdictions, codes[single[idx]], d[idx],
                                       win.state_holidays[spos[idx]])
            if j == 0:
                # Already inside the window: the instant itself, with no conversion back.
                now_ok = ok & (cand == loc)
                result[now_ok] = ts[now_ok]
                pending &= ~now_ok
                ok &= ~now_ok
            if ok.any():
                idx = np.flatnonzero(ok)
                utc = tzutil.local_to_utc(names, zones[single[idx]], cand[idx])
                result[idx] = np.maximum(utc, ts[idx])
                pending[idx] = False
        out[single] = result
    for p, row in zip(pos[multi], rows[multi]):
        out[row] = _earliest_multi(facts, win, int(p), int(row), int(t[row]), jurisdictions, codes)
    return out


def _earliest_multi(facts, win, pos, row, t, jurisdictions, codes_all) -> int:
    """Earliest instant >= t allowed in the account's every zone (one row at `win` position
    `pos`, Python)."""
    zone_names = list(dict.fromkeys([facts.tz_names[facts.b.tz[row]], *facts.b.extra_tz[row]]))
    codes = np.arange(len(zone_names))
    candidates = {t}
    for code in codes:
        loc0 = t + int(tzutil.offsets(zone_names, np.array([code]), np.array([t]))[0])
        for j in range(HORIZON_DAYS):
            d = loc0 // DAY + j
            # Where some zone's window opens (or its day starts, after a holiday).
            for minute in {int(win.hours[pos, int(weekday(d)), 0]), 0}:
                local = d * DAY + minute * 60
                utc = int(tzutil.local_to_utc(zone_names, np.array([code]), np.array([local]))[0])
                if utc >= t:
                    candidates.add(utc)
    k = len(zone_names)
    for cand in sorted(candidates):
        local = cand + tzutil.offsets(zone_names, codes, np.full(k, cand))
        if _inside(win, np.full(k, pos), local, jurisdictions, np.full(k, codes_all[row])).all():
            return cand
    return int(FAR)
