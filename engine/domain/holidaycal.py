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
    own holidays only where `with_state[i]` is true.
    """
    out = np.zeros(len(days), dtype=bool)
    with_state = np.ones(len(days), dtype=bool) if with_state is None else with_state
    for code in np.unique(codes):
        country, subdivision = split_jurisdiction(jurisdictions[int(code)])
        if country is None:
            continue
        for state in (False, True):
            sel = (codes == code) & (with_state == state)
            if not sel.any():
                continue
            d = days[sel]
            years = {date.fromordinal(int(x) + _EPOCH).year for x in np.unique(d)}
            source = holiday_days if state else national_days
            cal = np.concatenate([source(country, subdivision, y) for y in sorted(years)])
            out[sel] = np.isin(d, cal)
    return out
