"""`validation_notice`: a validation notice with the first communication or within a few days of it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.clock import FAR, NEVER
from arrears.engine.guardrails.kinds.base import Rule, param
from arrears.engine.guardrails.ruletext import CONTENT_BITS

_SPOKEN = ("call", "sms")
_WRITTEN = ("email", "letter")


def _notice_sent(facts) -> np.ndarray:
    key = ("validation_notice", "sent")        # the same for every rule of the kind
    if key not in facts.cache:
        facts.cache[key] = facts.last_at(facts._mask(E["validation_notice_sent"])) != NEVER
    return facts.cache[key]


def _first_day(facts) -> np.ndarray:
    """Local day of the very first contact attempt (FAR: none yet)."""
    key = ("validation_notice", "first_day")
    if key not in facts.cache:
        first = facts.first_attempt_at
        facts.cache[key] = np.where(first == NEVER, FAR,
                                    facts.local_day_of(np.arange(facts.n), np.maximum(first, 0)))
    return facts.cache[key]


@dataclass(frozen=True)
class ValidationNotice(Rule):
    """Written messages carry the notice until one is recorded; once overdue, no calls or texts."""

    kind: ClassVar[str] = "validation_notice"
    within_days: int = param(0, {"type": "integer", "minimum": 0},
                             "days after the first contact by which the notice must be sent",
                             required=True)

    def describe(self) -> str:
        """The rule in plain words, with its deadline."""
        return (f"a validation notice goes with the first communication or within "
                f"{self.within_days} days of it; once overdue, only a written message carrying it")

    def earliest(self, facts, cand, mask, applies):
        """Overdue: only a written message, which then carries the notice, may go out."""
        overdue = ~_notice_sent(facts) & (facts.today > _first_day(facts) + self.within_days)
        spoken = np.isin(cand.kind, self.codes_of(_SPOKEN))
        return np.where(applies & overdue & spoken, FAR, NEVER)

    def content_bits(self, facts, kind):
        """Every email or letter carries the notice until one is recorded as sent."""
        return np.where(~_notice_sent(facts) & np.isin(kind, self.codes_of(_WRITTEN)),
                        CONTENT_BITS["validation_notice"], 0)
