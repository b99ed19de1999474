"""`breathing_space`: a statutory breathing space lasts at least some days."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.guardrails.kinds.base import Rule, param


@dataclass(frozen=True)
class BreathingSpace(Rule):
    """A breathing space without an end date lasts at least `days` days after its start day."""

    kind: ClassVar[str] = "breathing_space"
    state: ClassVar[str] = "breathing_space"
    days: int = param(0, {"type": "integer", "minimum": 1}, "length in days", required=True)

    def describe(self) -> str:
        """E.g. "breathing space: 60 days without contact, interest or fees"."""
        return f"breathing space: {self.days} days without contact, interest or fees"

    def lengthens(self):
        """The breathing space lasts at least `days`."""
        return "breathing_space", self.days
