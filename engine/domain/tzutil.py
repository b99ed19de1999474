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

from arrears.engine.domain.clock import DAY

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


# Every zone's transitions merged into one sorted table, keyed by (zone id, instant), so
# one `searchsorted` answers a whole batch whatever mix of zones it holds: a batch of a few
# accounts in many zones must not pay a Python loop per zone (the API decides such batches).
_SHIFT = 35                 # key = zone id << _SHIFT | (t + _BIAS)
_BIAS = 1 << 33             # instants from before 1700 to past 2240 stay within the low bits


class _Merged:
    """An immutable snapshot: the transitions of `names` over the UTC years y0..y1."""

    def __init__(self, names: tuple[str, ...], y0: int, y1: int):
        self.names, self.y0, self.y1 = names, y0, y1
        self.ids = {name: i for i, name in enumerate(names)}
        self.t0 = int(datetime(y0, 1, 1, tzinfo=timezone.utc).timestamp())
        self.t1 = int(datetime(y1 + 1, 1, 1, tzinfo=timezone.utc).timestamp())
        keys, offs, base = [], [], []
        for i, name in enumerate(names):
            base.append(0 if name == "UTC" else _offset(ZoneInfo(name), self.t0))
            for year in range(y0, y1 + 1):
                times, offsets = _year_transitions(name, year) if name != "UTC" else ((), ())
                keys.extend((i << _SHIFT) | (t + _BIAS) for t in times)
                offs.extend(offsets)
        self.keys = np.asarray(keys, dtype=np.int64)
        self.key_zone = self.keys >> _SHIFT
        self.offsets = np.asarray(offs, dtype=np.int64)
        self.base = np.asarray(base, dtype=np.int64)

    def covers(self, names, tmin: int, tmax: int) -> bool:
        return self.t0 <= tmin - DAY and tmax + DAY < self.t1 and all(n in self.ids for n in names)

    def lookup(self, zone_ids: np.ndarray, t: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return self.base[zone_ids]
        idx = np.searchsorted(self.keys, (zone_ids << _SHIFT) | (t + _BIAS), side="right") - 1
        safe = np.maximum(idx, 0)
        own = (idx >= 0) & (self.key_zone[safe] == zone_ids)     # a transition of this zone at or before t
        return np.where(own, self.offsets[safe], self.base[zone_ids])


_merged = _Merged((), 1970, 1970)
_ids_cache: dict[tuple[str, ...], tuple[_Merged, np.ndarray]] = {}


def _year_of(t: int) -> int:
    return datetime.fromtimestamp(int(t), timezone.utc).year


def _table(zone_names, tmin: int, tmax: int) -> tuple[_Merged, np.ndarray]:
    """The merged table covering `zone_names` over [tmin, tmax], and each name's zone id."""
    global _merged
    key = tuple(zone_names)
    cached = _ids_cache.get(key)
    if cached is not None and cached[0].covers((), tmin, tmax):
        return cached
    merged = _merged
    if not merged.covers(key, tmin, tmax):
        with _lock:
            merged = _merged
            if not merged.covers(key, tmin, tmax):
                names = merged.names + tuple(n for n in dict.fromkeys(key) if n not in merged.ids)
                y0 = min(merged.y0, _year_of(tmin - DAY)) if merged.names else _year_of(tmin - DAY)
                y1 = max(merged.y1, _year_of(tmax + DAY)) if merged.names else _year_of(tmax + DAY)
                merged = _merged = _Merged(names, y0, y1)
                _ids_cache.clear()
    ids = np.asarray([merged.ids[n] for n in key], dtype=np.int64)
    if len(_ids_cache) > 1024:              # zone lists are few; bound it anyway
        _ids_cache.clear()
    _ids_cache[key] = (merged, ids)
    return merged, ids


def offsets(zone_names: list[str], zone_codes: np.ndarray, t: np.ndarray) -> np.ndarray:
    """UTC offsets in seconds at instants `t` (epoch seconds), per element's zone.

    `zone_codes[i]` indexes `zone_names`. Exact for every instant zoneinfo supports.
    """
    t = np.asarray(t, dtype=np.int64)
    if t.size == 0:
        return np.zeros(t.shape, dtype=np.int64)
    merged, ids = _table(zone_names, int(t.min()), int(t.max()))
    zone_ids = ids[np.asarray(zone_codes, dtype=np.int64)]
    if zone_ids.shape != t.shape:
        zone_ids = np.broadcast_to(zone_ids, t.shape)
    return merged.lookup(zone_ids, t)


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
    # Both guesses, then both checks, each as one look-up of twice the length.
    both = np.broadcast_to(zone_codes, local.shape)
    both = np.concatenate([both.reshape(-1), both.reshape(-1)])
    m = local.size
    flat = local.reshape(-1)
    guess = offsets(zone_names, both, np.concatenate([flat - DAY, flat + DAY]))
    u1, u2 = (flat - guess[:m]).reshape(local.shape), (flat - guess[m:]).reshape(local.shape)
    check = offsets(zone_names, both, np.concatenate([u1.reshape(-1), u2.reshape(-1)]))
    ok1 = (u1.reshape(-1) + check[:m] == flat).reshape(local.shape)
    ok2 = (u2.reshape(-1) + check[m:] == flat).reshape(local.shape)
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


class LocalTimes:
    """The local-time columns of one batch's accounts, each computed once per batch.

    A batch's evaluation asks for the same local midnights many times: a rule judges every
    candidate channel (and a step given back is judged again), and each time it needs the
    UTC start of the same local day for overlapping sets of accounts. `Facts` makes one of
    these for its batch (`Facts.local`); whatever needs such a column asks it by a key
    naming the column's meaning, so each account's value is converted once.
    """

    def __init__(self, zone_names: list[str], zone_codes: np.ndarray):
        self.zone_names, self.zone_codes = zone_names, zone_codes
        self._midnights: dict = {}

    def midnights(self, key, days: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """UTC start of local day `days[row]` for each account in `rows` (indices).

        `days` is the whole batch's column that `key` names (the same for every call with
        that key); only the accounts not asked for before under `key` are converted.
        """
        got = self._midnights.get(key)
        if got is None:
            n = self.zone_codes.shape[0]
            got = self._midnights[key] = (np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64))
        done, values = got
        missing = rows[~done[rows]]
        if missing.size:
            values[missing] = local_midnight(self.zone_names, self.zone_codes[missing], days[missing])
            done[missing] = True
        return values[rows]
