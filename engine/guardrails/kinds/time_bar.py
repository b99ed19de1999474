"""`time_bar`: no legal stages once the debt is past its limitation period."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.clock import FAR
from arrears.engine.guardrails.jurisdiction import matches
from arrears.engine.guardrails.kinds.base import Rule, once, param

_OVERRIDES = {"type": "array",
              "items": {"type": "object", "additionalProperties": False,
                        "required": ["jurisdictions", "limitation_days"],
                        "properties": {"jurisdictions": {"type": "array", "items": {"type": "string"},
                                                         "description": "Jurisdiction prefixes."},
                                       "limitation_days": {"type": "integer", "minimum": 1,
                                                           "description": "Their period."},
                                       "source": {"type": "string", "description": "Legal source."}}}}


def _overrides(items) -> tuple:
    return tuple((tuple(o["jurisdictions"]), int(o["limitation_days"])) for o in items)


@dataclass(frozen=True)
class TimeBar(Rule):
    """No `blocked_actions` once the oldest unpaid due date is `limitation_days` old."""

    kind: ClassVar[str] = "time_bar"
    limitation_days: int = param(0, {"type": "integer", "minimum": 1},
                                 "limitation period in days from the due date", required=True)
    blocked_actions: tuple[str, ...] = param((), {"$ref": "#/$defs/actions"},
                                             "actions never taken on time-barred debt",
                                             required=True, parse=tuple)
    overrides: tuple = param((), _OVERRIDES, "other periods for narrower jurisdictions",
                             parse=_overrides)

    def describe(self) -> str:
        """The rule with its base period (overrides are mentioned, not listed)."""
        return (f"no {', '.join(self.blocked_actions)} once the debt is past its limitation "
                f"period ({self.limitation_days} days from the due date"
                + (", shorter in some jurisdictions" if self.overrides else "") + ")")

    def days_in(self, jurisdiction: str | None) -> int:
        """The limitation period in a jurisdiction, with this rule's narrower overrides."""
        for prefixes, days in self.overrides:
            if jurisdiction and any(matches(jurisdiction, p) for p in prefixes):
                return days
        return self.limitation_days

    def bar(self, facts, mask):
        """Barred: owing accounts whose local date reached the oldest due date plus the period."""
        def compute():
            since = facts.oldest_due + facts.per_jurisdiction(self.days_in, np.int64)
            return mask & facts.owes & (facts.today >= since), since
        return once(facts, self, "bar", compute)

    def starts(self, facts, cand, mask):
        """A legal step deferred into the day the debt becomes time-barred may not go out then."""
        got = facts.cache.get(("rule", self.id, "bar"))
        if got is None:          # the bar was not computed for this batch: nothing to judge
            return None
        barred, since = got
        sel = mask & cand.usable & cand.action_in(self.blocked_actions) & ~barred
        at = np.full(facts.n, FAR)
        if sel.any():
            rows = np.flatnonzero(sel)      # every candidate asks for the same midnights: once each
            at[rows] = facts.local.midnights(("time_bar", self.id), since, rows)
        return sel, at

    def report(self, facts, row):
        """Time-barred since the day the bar began, or clear."""
        got = facts.cache.get(("rule", self.id, "bar"))
        if got is not None and got[0][row]:
            return "time-barred", f"since {day_to_date(int(got[1][row])).isoformat()}: {self.describe()}"
        return "clear", f"{self.describe()} [{self.source}]"
