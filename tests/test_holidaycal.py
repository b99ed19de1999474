"""is_holiday: one sorted search over a whole column agrees with the `holidays` package, day by day."""
from __future__ import annotations

import random
from datetime import date, timedelta

import holidays
import numpy as np

from arrears.engine.domain.batch import epoch_day
from arrears.engine.domain.holidaycal import holiday_days, is_holiday, national_days, split_jurisdiction

JURISDICTIONS = [None, "GB", "GB-SCT", "US-NY", "AU-NSW", "DE-BY", "FR", "XX", "US-ZZ"]


def _expected(jurisdiction: str | None, day: date, with_state: bool) -> bool:
    """One element at a time, from the year's calendar: the subdivision's own days only with
    `with_state`; without, the national days as the subdivision observes them."""
    country, subdivision = split_jurisdiction(jurisdiction)
    if country is None:
        return False
    source = holiday_days if with_state else national_days
    return epoch_day(day) in set(source(country, subdivision, day.year).tolist())


def test_a_mixed_column_matches_the_calendars_day_by_day():
    rng = random.Random(7)
    start = date(2026, 12, 15)
    rows = [(rng.randrange(len(JURISDICTIONS)), start + timedelta(days=rng.randrange(40)), rng.random() < 0.5)
            for _ in range(3000)]
    # Every listed holiday of the span is in the column too, so the hits are many, not luck.
    for code, j in enumerate(JURISDICTIONS):
        country, sub = split_jurisdiction(j)
        if country and country != "XX":
            for d in holidays.country_holidays(country, subdiv=sub if sub != "ZZ" else None, years=(2026, 2027)):
                if start <= d < start + timedelta(days=40):
                    rows += [(code, d, True), (code, d, False)]
    codes = np.array([c for c, _, _ in rows])
    days = np.array([epoch_day(d) for _, d, _ in rows])
    state = np.array([s for _, _, s in rows])
    got = is_holiday(JURISDICTIONS, codes, days, state)
    want = np.array([_expected(JURISDICTIONS[c], d, s) for c, d, s in rows])
    assert want.sum() > 100
    # and the calendars are the package's: Christmas in England, St Andrew's Day in Scotland only
    assert want[rows.index((1, date(2026, 12, 25), True))]
    assert _expected("GB-SCT", date(2026, 11, 30), True) and not _expected("GB", date(2026, 11, 30), True)
    assert (got == want).all(), [rows[i] for i in np.flatnonzero(got != want)[:5]]


def test_years_far_apart_and_no_state_column():
    days = np.array([epoch_day(date(2026, 12, 25)), epoch_day(date(2031, 1, 1)), epoch_day(date(2031, 1, 2))])
    got = is_holiday(["GB"], np.zeros(3, dtype=np.int64), days)
    assert got.tolist() == [True, True, False]
    assert is_holiday(["GB"], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).tolist() == []
    assert is_holiday([None], np.zeros(1, dtype=np.int64), days[:1]).tolist() == [False]
