"""Public holidays of a country or subdivision as arrays of epoch days (`holidays` package).

The `holidays` package is maintained against official calendars for 150+ countries and
their states; we only turn its answer into sorted day numbers so a whole batch can be
checked with one `np.isin` per calendar.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
import numpy as np

_EPOCH = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1024)
def holiday_days(country: str, subdivision: str | None, year: int) -> np.ndarray:
    """Sorted epoch days of the public holidays of `country` (and `subdivision`) in `year`.

    An unknown country has no holidays; an unknown subdivision falls back to national ones.
    """
    try:
        cal = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError:
        return np.empty(0, dtype=np.int64)
    except Exception:  # holidays raises NotImplementedError or its own errors for bad subdivs
        if subdivision is None:
            return np.empty(0, dtype=np.int64)
        return holiday_days(country, None, year)
    return np.array(sorted(d.toordinal() - _EPOCH for d in cal), dtype=np.int64)


def _base_names(name: str) -> set[str]:
    """'Australia Day (observed); X' -> {'Australia Day', 'X'}: one day may carry several."""
    return {part.replace("(observed)", "").replace("(Observed)", "").strip()
            for part in name.split(";")}


@lru_cache(maxsize=1024)
def national_days(country: str, subdivision: str | None, year: int) -> np.ndarray:
    """National public holidays as a state observes them: the country-wide days, plus the
    state's own days that carry a national holiday's name (substitute days, e.g. Australia
    Day observed on a Monday)."""
    national = holiday_days(country, None, year)
    if subdivision is None:
        return national
    try:
        nat = holidays.country_holidays(country, years=year)
        state = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except Exception:
        return national
    names = set().union(*(_base_names(n) for n in nat.values())) if nat else set()
    observed = [d.toordinal() - _EPOCH for d, n in state.items() if _base_names(n) & names]
    return np.union1d(national, np.array(observed, dtype=np.int64))


def holiday_name(country: str, subdivision: str | None, day: date) -> str | None:
    """The holiday's name, for explanations."""
    try:
        return holidays.country_holidays(country, subdiv=subdivision, years=day.year).get(day)
    except Exception:
        return None


def split_jurisdiction(jurisdiction: str | None) -> tuple[str | None, str | None]:
    """`AU-NSW` -> ("AU", "NSW"); `US-NY-NYC` -> ("US", "NY"); None -> (None, None)."""
    if not jurisdiction:
        return None, None
    parts = jurisdiction.split("-")
    return parts[0], (parts[1] if len(parts) > 1 else None)


def is_holiday(jurisdictions: list, codes: np.ndarray, days: np.ndarray,
               with_state: np.ndarray | None = None) -> np.ndarray:
    """Per element: `days[i]` is a public holiday in jurisdiction `jurisdictions[codes[i]]`.

    National holidays (as the subdivision observes them) always count; the subdivision's
    own holidays only where `with_state[i]` is true. One sorted search for the whole column,
    whatever mix of jurisdictions it holds, against the calendars of its years (`_calendar`,
    kept): the contact-window search calls this many times per batch.
    """
    days = np.asarray(days, dtype=np.int64).reshape(-1)
    if not days.size:
        return np.zeros(0, dtype=bool)
    state = (np.ones(days.size, dtype=np.int64) if with_state is None
             else np.asarray(with_state, dtype=np.int64).reshape(-1))
    table = _calendar(tuple(jurisdictions), _years(days))
    if not table.size:
        return np.zeros(days.size, dtype=bool)
    keys = _keys(np.asarray(codes, dtype=np.int64).reshape(-1) * 2 + state, days)
    at = np.minimum(np.searchsorted(table, keys), table.size - 1)
    return table[at] == keys


_DAY_BIAS = 1 << 31          # epoch days +- 5.8 million years stay within the key's low 32 bits


def _keys(group: np.ndarray, days: np.ndarray) -> np.ndarray:
    """One int64 per (calendar group, day): group = jurisdiction code * 2 + with the state's own."""
    return (group << 32) | (days + _DAY_BIAS)


def _years(days: np.ndarray) -> tuple[int, ...]:
    """The calendar years of epoch days, each once, in order."""
    lo, hi = int(days.min()), int(days.max())
    first, last = _year_of(lo), _year_of(hi)
    if last - first <= 1:
        return tuple(range(first, last + 1))
    years = np.unique(days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)) + 1970
    return tuple(int(y) for y in years)


def _year_of(day: int) -> int:
    return date.fromordinal(day + _EPOCH).year


@lru_cache(maxsize=256)
def _calendar(jurisdictions: tuple, years: tuple[int, ...]) -> np.ndarray:
    """The sorted keys (`_keys`) of every public holiday of `jurisdictions` in `years`: for each
    jurisdiction code, its national days as its subdivision observes them (group code * 2) and
    those with the subdivision's own (code * 2 + 1)."""
    parts = []
    for code, jurisdiction in enumerate(jurisdictions):
        country, subdivision = split_jurisdiction(jurisdiction)
        if country is None:
            continue
        for state, source in ((0, national_days), (1, holiday_days)):
            cal = np.concatenate([source(country, subdivision, y) for y in years])
            parts.append(_keys(np.full(cal.size, code * 2 + state, dtype=np.int64), cal.astype(np.int64)))
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
