"""`hardship_pause`: a hardship notice pauses collection for at least some days, maybe freezing fees."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.guardrails.kinds.base import Rule, param


@dataclass(frozen=True)
class HardshipPause(Rule):
    """A hardship notice without an end date pauses collection for at least `days` days."""

    kind: ClassVar[str] = "hardship_pause"
    state: ClassVar[str] = "hardship"
    days: int = param(0, {"type": "integer", "minimum": 1}, "length in days", required=True)
    freeze_fees: bool = param(False, {"type": "boolean"}, "interest and fees frozen meanwhile")

    def describe(self) -> str:
        """E.g. "a hardship notice pauses collection for 30 days and freezes interest and fees"."""
        return (f"a hardship notice pauses collection for {self.days} days"
                + (" and freezes interest and fees" if self.freeze_fees else ""))

    def lengthens(self):
        """The hardship pause lasts at least `days`."""
        return "hardship", self.days

    def freezes_fees(self, facts):
        """With `freeze_fees`: fees and interest are frozen while the hardship is in force."""
        return facts.states["hardship"][0] if self.freeze_fees else None
