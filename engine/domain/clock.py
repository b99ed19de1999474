"""Time as the core sees it: whole epoch seconds (UTC), with two sentinels.

Every instant inside the engine is an int64 count of seconds since the epoch; `NEVER` and
`FAR` stand for "no such instant" and "no bound" in those columns, far enough from any
real date that adding a day or a year to them cannot overflow. Aware datetimes are
converted at the edges with `as_epoch` and `from_epoch`; the core never reads a clock.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from arrears.engine.domain.errors import InputError

DAY = 86_400
NEVER = int(np.iinfo(np.int64).min // 4)    # "no such instant" in an epoch-seconds column
FAR = int(np.iinfo(np.int64).max // 4)      # "no bound"


def as_epoch(now: datetime) -> int:
    """Whole epoch seconds of an aware datetime; naive datetimes are refused."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InputError("`now` must be a timezone-aware datetime", "now")
    return int(now.timestamp())


def from_epoch(t: int) -> datetime:
    """Aware UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(int(t), timezone.utc)
