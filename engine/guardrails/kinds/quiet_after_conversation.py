"""`quiet_after_conversation`: no contact on some channels for a number of days after a conversation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arrears.engine.domain.batch import OUTCOME_CODES
from arrears.engine.domain.clock import NEVER
from arrears.engine.guardrails.kinds.base import Rule, channels_param, once, param


@dataclass(frozen=True)
class QuietAfterConversation(Rule):
    """No contact on the listed channels within `days` days after a conversation (its day is day 1)."""

    kind: ClassVar[str] = "quiet_after_conversation"
    channels: tuple[str, ...] = channels_param()
    days: int = param(0, {"type": "integer", "minimum": 1}, "length in days", required=True)

    def describe(self) -> str:
        """E.g. "no call within 7 days after a conversation (its day counts as day 1)"."""
        return (f"no {', '.join(self.channels)} within {self.days} days after a conversation "
                "(its day counts as day 1)")

    def earliest(self, facts, cand, mask, applies):
        """Local midnight starting day `days + 1`, counting the latest conversation's day as 1."""
        return np.where(applies, once(facts, self, "until", lambda: self._until(facts)), NEVER)

    def _until(self, facts) -> np.ndarray:
        b = facts.b
        mask = (facts.attempt_mask & np.isin(b.ev_kind, self.channel_codes)
                & (b.ev_outcome == OUTCOME_CODES["conversation"]))
        last = facts.last_at(mask)
        has = last != NEVER
        out = np.full(facts.n, NEVER)
        if has.any():
            rows = np.flatnonzero(has)
            day = facts.local_day_of(rows, last[has])
            out[has] = facts.midnight(day + self.days, rows)
        return out
