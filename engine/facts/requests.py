"""Request facts: the debtor's own wishes in force and the representative who speaks for them.

A mixin of `arrears.engine.facts.compute.Facts`. Both come from events that carry a detail
(engine/domain/requests.py): the latest `contact_preference` event states the debtor's
wishes as a whole (it replaces earlier ones, and ends after its `until` day); the latest
`represented` event names the representative, while the `represented` state is in force.
Only the few accounts that have such an event are looked at one by one.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import KIND_CODES, NO_DAY
from arrears.engine.domain.requests import ALL_DAYS, representative_of, wishes_of
from arrears.engine.facts.balances import take

# Channel kinds that never reach the debtor: a CRM webhook, a task for our own staff.
INTERNAL_KINDS = (1 << KIND_CODES["webhook"]) | (1 << KIND_CODES["task"])


def _bits(kinds) -> int:
    return sum(1 << KIND_CODES[k] for k in kinds)


class RequestFacts:
    """The debtor's wishes and representative at `now`, as columns."""

    def _detail_rows(self, event: str) -> tuple[np.ndarray, np.ndarray]:
        """(latest `event` row per account or -1, its detail JSON text or None)."""
        row = self.last_row(self._mask(E[event]))
        details = self.b.ev_detail
        text = np.full(self.n, None, dtype=object)
        if details is not None and (row >= 0).any():
            has = np.flatnonzero(row >= 0)
            text[has] = details[row[has]]
        return row, text

    @cached_property
    def wishes(self) -> dict:
        """The wishes in force per account: `active`, `until` (last day, NO_DAY: open),
        `start`/`end` (welcome local minutes), `days` (bit 0 Monday), `channels` (bitmask of
        the channel kinds allowed: internal kinds always), `at_work` with `work_start`/
        `work_end`, `language` (None: no wish), and `wish` (the `Wishes` value, None if none)."""
        n = self.n
        row, text = self._detail_rows("contact_preference")
        until = take(self.b.ev_until, row, NO_DAY).astype(np.int64)
        active = (row >= 0) & ((until == NO_DAY) | (self.today <= until))
        out = {"active": active, "until": until, "start": np.zeros(n, np.int64),
               "end": np.full(n, 1440, np.int64), "days": np.full(n, ALL_DAYS, np.int64),
               "channels": np.full(n, (1 << len(KIND_CODES)) - 1, np.int64), "at_work": np.zeros(n, bool),
               "work_start": np.zeros(n, np.int64), "work_end": np.zeros(n, np.int64),
               "language": np.full(n, None, dtype=object), "wish": np.full(n, None, dtype=object)}
        for acct in np.flatnonzero(active):
            if text[acct] is None:         # a batch built without the detail column
                active[acct] = False
                continue
            w = wishes_of(text[acct])
            out["wish"][acct] = w
            if w.hours is not None:
                out["start"][acct], out["end"][acct] = w.hours
            out["days"][acct] = w.days
            if w.channels:
                out["channels"][acct] = _bits(w.channels) | INTERNAL_KINDS
            if w.no_contact_at_work:
                out["at_work"][acct] = True
                out["work_start"][acct], out["work_end"][acct] = w.working_hours
            out["language"][acct] = w.language
        return out

    @cached_property
    def representative(self) -> dict:
        """Per account while represented: `reach` (bitmask of channel kinds that reach the
        representative, 0 if none is named or no usable contact), `who` (the `Representative`
        or None)."""
        active, _ = self.states["represented"]
        reach = np.zeros(self.n, np.int64)
        who = np.full(self.n, None, dtype=object)
        if active.any():
            _, text = self._detail_rows("represented")
            for acct in np.flatnonzero(active):
                if text[acct] is not None:
                    rep = representative_of(text[acct])
                    who[acct] = rep
                    reach[acct] = _bits(rep.reachable_kinds())
        return {"active": active, "reach": reach, "who": who}

    @cached_property
    def recipient_reach(self) -> np.ndarray:
        """Channel kinds the step may use: while represented, only the representative's and
        internal ones (the debtor's own addresses are never used); else the debtor's reachable ones."""
        rep = self.representative
        return np.where(rep["active"], rep["reach"] | INTERNAL_KINDS, self.reachable)
