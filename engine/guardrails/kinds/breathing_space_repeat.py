"""`breathing_space_repeat`: flag a breathing space that began too soon after the previous one.

England and Wales, Debt Respite Scheme Regulations 2020, reg 24(3)(g): a debt adviser may
start a standard breathing space only if any previous one ended more than 12 months before
the application. The limit binds the adviser; a creditor must honour every moratorium the
Insolvency Service notifies. So this kind never lifts or shortens anything (the universal
`stop.breathing_space` keeps pausing collection): it only says, in the trace and in the
breathing-space hold's reason, that the latest breathing space began within `months` months
of the end of the previous one, with both dates, so compliance staff can check the notice.

The limit is on standard breathing spaces (`breathing_space` events): a mental health crisis
moratorium (`mental_health_crisis_moratorium`) has no such limit, is never flagged and does not
count as the previous one. The application date is not recorded; the start day stands in for
it. A start within the period is then certainly inside it; a start just after it may still have
been applied for within it. The engine cannot tell a re-recorded moratorium from a new one: it
is flagged for checking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import NO_DAY, day_to_date
from arrears.engine.guardrails.kinds.base import Rule, once, param

HOLD = "stop.breathing_space"
DEFAULT_DAYS = 60   # the built-in length when no profile lengthens it (Facts.durations)


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Epoch days `months` calendar months later; a day the month lacks becomes its last day
    (29 February plus 12 months is 28 February)."""
    d = days.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = d - month.astype("datetime64[D]")
    target = month + months
    last = (target + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    return np.minimum(target.astype("datetime64[D]") + day_of_month, last).astype(np.int64)


def _day(value) -> str:
    return day_to_date(int(value)).isoformat()


@dataclass(frozen=True)
class BreathingSpaceRepeat(Rule):
    """Flags a breathing space begun within `months` months of the previous one's end; honours it."""

    kind: ClassVar[str] = "breathing_space_repeat"
    months: int = param(12, {"type": "integer", "minimum": 1},
                        "months after the end of a breathing space within which another is flagged",
                        required=True)

    def describe(self) -> str:
        """The rule in plain words: what is flagged, and that it is still honoured."""
        return (f"a standard breathing space may start only if the previous one ended more than "
                f"{self.months} months before; a repeat is flagged for checking and still honoured")

    def _columns(self, facts, mask: np.ndarray) -> dict:
        """Per account: flagged, and the latest start, previous start and previous last day."""
        return once(facts, self, "repeats", lambda: self._repeats(facts, mask))

    def _repeats(self, facts, mask: np.ndarray) -> dict:
        b, n = facts.b, facts.n
        out = {"flag": np.zeros(n, dtype=bool), "start": np.full(n, NO_DAY, dtype=np.int64),
               "prev": np.full(n, NO_DAY, dtype=np.int64), "end": np.full(n, NO_DAY, dtype=np.int64)}
        starts = np.flatnonzero(facts._mask(E["breathing_space"]) & mask[b.ev_acct])
        acct = b.ev_acct[starts]
        # Events are ordered by (account, time): an account's last start, if one came before it.
        latest = np.r_[acct[1:] != acct[:-1], True] & np.r_[False, acct[1:] == acct[:-1]]
        pos = np.flatnonzero(latest)
        if pos.size == 0:
            return out
        last_row, prev_row = starts[pos], starts[pos - 1]
        acc = b.ev_acct[last_row]
        start = facts.local_day_of(acc, b.ev_at[last_row])
        prev = facts.local_day_of(acc, b.ev_at[prev_row])
        length = np.broadcast_to(np.asarray(facts.durations.get("breathing_space", DEFAULT_DAYS)), (n,))
        until = b.ev_until[prev_row].astype(np.int64)
        end = np.where(until != NO_DAY, until, prev + length[acc])
        # An end recorded between the two starts (same account: rows in between are its own).
        ended = np.flatnonzero(facts._mask(E["breathing_space_ended"]))
        if ended.size:
            nxt = np.searchsorted(ended, prev_row, side="right")
            row = ended[np.minimum(nxt, ended.size - 1)]
            between = (nxt < ended.size) & (row < last_row)
            if between.any():
                ended_day = facts.local_day_of(acc[between], b.ev_at[row[between]])
                end[between] = np.minimum(end[between], ended_day - 1)
        # Only while the moratorium in force is this standard one (not a later crisis moratorium).
        in_force = facts.states["breathing_space"][0][acc] & ~facts.moratorium["state"][2][acc]
        latest_any = facts.last_row(facts._mask(E["breathing_space"], E["mental_health_crisis_moratorium"]))
        in_force &= latest_any[acc] == last_row
        out["flag"][acc] = in_force & (start <= add_months(end, self.months))
        out["start"][acc], out["prev"][acc], out["end"][acc] = start, prev, end
        return out

    def _words(self, cols: dict, row: int) -> str:
        return (f"began on {_day(cols['start'][row])}, within {self.months} months of the end of the "
                f"previous one (from {_day(cols['prev'][row])}, last day {_day(cols['end'][row])}); "
                "still honoured; check the notice")

    def hold_note(self, facts, mask):
        """On the breathing-space hold: the repeat and its dates, for staff to check."""
        cols = self._columns(facts, mask)
        if not cols["flag"].any():
            return None
        return HOLD, cols["flag"], lambda row: self._words(cols, row)

    def report(self, facts, row):
        """While a flagged breathing space is in force: check notice, with the dates; else clear."""
        cols = self._columns(facts, np.ones(facts.n, dtype=bool))
        if cols["flag"][row]:
            return "check notice", f"breathing space {self._words(cols, row)} [{self.source}]"
        return "clear", f"{self.describe()} [{self.source}]"
