"""`statutory_interest`: statutory interest on late payment (reported only)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.guardrails.kinds.base import Rule, param


@dataclass(frozen=True)
class StatutoryInterest(Rule):
    """Statutory interest at the reference rate plus a margin: an entitlement line in the trace."""

    kind: ClassVar[str] = "statutory_interest"
    margin_over_reference_percent: object = param(None, {"type": "number"},
                                                  "points over the reference rate", required=True)

    def describe(self) -> str:
        """E.g. "statutory interest: the reference rate plus 8.0 points"."""
        return f"statutory interest: the reference rate plus {self.margin_over_reference_percent} points"

    def report(self, facts, row):
        """The entitlement and its source."""
        return "entitlement", f"{self.describe()} [{self.source}]"
