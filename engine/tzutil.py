"""Vectorised, exact UTC-offset lookups for IANA time zones.

`zoneinfo` answers one instant at a time. A batch of accounts needs the local date
of many instants at once, so we find each zone's offset transitions once (per year,
by scanning days and bisecting to the second) and answer with `np.searchsorted`.
The result equals `datetime.fromtimestamp(t, ZoneInfo(name)).utcoffset()` for every t.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86400
_EPOCH_YEAR = 1970
_lock = threading.Lock()


def _offset(zone: ZoneInfo, t: int) -> int:
    return int(datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


@lru_cache(maxsize=4096)
def _year_transitions(name: str, year: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Instants within `year` (UTC) at which the zone's offset changes, and the new offsets."""
    zone = ZoneInfo(name)
    start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp())
    times, offsets = [], []
    prev_t, prev_off = start, _offset(zone, start)
    for t in range(start + DAY, end + DAY, DAY):
        off = _offset(zone, t)
        if off != prev_off:
            lo, hi = prev_t, t  # offset(lo) == prev_off, offset(hi) != prev_off
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(zone, mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            times.append(hi)
            offsets.append(_offset(zone, hi))
            prev_off = offsets[-1]
        prev_t = t
    return tuple(times), tuple(offsets)


class _ZoneTable:
    """Sorted transition instants and offsets for one zone over a growing year range."""

    def __init__(self, name: str):
        self.name = name
        self.first = self.last = None
        self.times = np.empty(0, dtype=np.int64)
        self.offsets = np.empty(0, dtype=np.int64)
        self.base = 0

    def ensure(self, y0: int, y1: int) -> None:
        if self.first is not None and self.first <= y0 and y1 <= self.last:
            return
        y0 = min(y0, self.first if self.first is not None else y0)
        y1 = max(y1, self.last if self.last is not None else y1)
        times, offsets = [], []
        for year in range(y0, y1 + 1):
            t, o = _year_transitions(self.name, year)
            times.extend(t)
            offsets.extend(o)
        zone = ZoneInfo(self.name)
        self.base = _offset(zone, int(datetime(y0, 1, 1, tzinfo=timezone.utc).timestamp()))
        self.times = np.asarray(times, dtype=np.int64)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.first, self.last = y0, y1

    def lookup(self, t: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.times, t, side="right") - 1
        out = np.where(idx >= 0, self.offsets[np.maximum(idx, 0)] if len(self.offsets) else 0,
                       self.base)
        return out.astype(np.int64)


_tables: dict[str, _ZoneTable] = {}


def _year_of(t: int) -> int:
    return datetime.fromtimestamp(int(t), timezone.utc).year


def offsets(zone_names: list[str], zone_codes: np.ndarray, t: np.ndarray) -> np.ndarray:
    """UTC offsets in seconds at instants `t` (epoch seconds), per element's zone.

    `zone_codes[i]` indexes `zone_names`. Exact for every instant zoneinfo supports.
    """
    t = np.asarray(t, dtype=np.int64)
    zone_codes = np.asarray(zone_codes)
    out = np.zeros(t.shape, dtype=np.int64)
    if t.size == 0:
        return out
    first = zone_codes.flat[0]
    uniform = len(zone_names) == 1 or bool((zone_codes == first).all())
    for code in ((first,) if uniform else np.unique(zone_codes)):
        mask = None if uniform else zone_codes == code
        sel = t if uniform else t[mask]
        name = zone_names[int(code)]
        if name == "UTC":
            continue
        with _lock:
            table = _tables.get(name)
            if table is None:
                table = _tables[name] = _ZoneTable(name)
            table.ensure(_year_of(sel.min() - DAY), _year_of(sel.max() + DAY))
        if uniform:
            return table.lookup(sel)
        out[mask] = table.lookup(sel)
    return out


def local_days(zone_names, zone_codes, t) -> np.ndarray:
    """Local calendar day (days since 1970-01-01) of instants `t` in each element's zone."""
    t = np.asarray(t, dtype=np.int64)
    return (t + offsets(zone_names, zone_codes, t)) // DAY


def local_midnight(zone_names, zone_codes, days) -> np.ndarray:
    """UTC instant at which local day `days` starts in each element's zone."""
    return local_to_utc(zone_names, zone_codes, np.asarray(days, dtype=np.int64) * DAY)


def local_to_utc(zone_names, zone_codes, local_seconds) -> np.ndarray:
    """UTC instant of local wall-clock times (seconds since the local epoch).

    The time exists with the offset in force just before it or just after it; when it
    exists twice (a fold) the first is taken; when a DST gap swallows it, the first
    instant after the gap is returned, found by bisection (rare, so done per element).
    """
    zone_codes = np.asarray(zone_codes)
    local = np.asarray(local_seconds, dtype=np.int64)
    u1 = local - offsets(zone_names, zone_codes, local - DAY)
    u2 = local - offsets(zone_names, zone_codes, local + DAY)
    ok1 = u1 + offsets(zone_names, zone_codes, u1) == local
    ok2 = u2 + offsets(zone_names, zone_codes, u2) == local
    out = np.where(ok1 & ok2, np.minimum(u1, u2), np.where(ok1, u1, u2))
    for i in np.flatnonzero(~(ok1 | ok2)):
        codes = zone_codes[i:i + 1] if zone_codes.ndim else zone_codes.reshape(1)
        lo, hi = int(min(u1[i], u2[i])), int(max(u1[i], u2[i]))
        while hi - lo > 1:   # invariant: local(lo) < midnight <= local(hi)
            mid = (lo + hi) // 2
            if mid + offsets(zone_names, codes, np.array([mid]))[0] >= local[i]:
                hi = mid
            else:
                lo = mid
        out[i] = hi
    return out
