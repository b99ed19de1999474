"""`represented`: the jurisdiction's rule on represented debtors (the universal stop does the stopping)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.guardrails.kinds.base import Rule


@dataclass(frozen=True)
class Represented(Rule):
    """No direct contact once the debtor is represented; reported, stopped by `stop.represented`."""

    kind: ClassVar[str] = "represented"
    state: ClassVar[str] = "represented"

    def describe(self) -> str:
        """The rule in plain words."""
        return "no direct contact once the debtor is represented"
