"""`payment_terms`: the longest ordinary payment term (reported only)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.domain.batch import NO_DAY
from arrears.engine.guardrails.kinds.base import Rule, param


@dataclass(frozen=True)
class PaymentTerms(Rule):
    """Payment terms over `max_days` need express agreement: an entitlement line in the trace."""

    kind: ClassVar[str] = "payment_terms"
    max_days: int = param(60, {"type": "integer", "minimum": 1}, "longest ordinary payment term",
                          required=True)

    def describe(self) -> str:
        """E.g. "payment terms over 60 days need express agreement"."""
        return f"payment terms over {self.max_days} days need express agreement"

    def report(self, facts, row):
        """The rule, naming the account's invoices (with an issue date) whose terms are longer."""
        b = facts.b
        text = f"{self.describe()} [{self.source}]"
        if b.inv_issued is not None:
            mine = b.inv_acct == row
            long_terms = [str(i) for i, d0, d1 in zip(b.inv_id[mine], b.inv_issued[mine], b.inv_due[mine])
                          if d0 != NO_DAY and d1 - d0 > int(self.max_days)]
            if long_terms:
                text += f"; terms over {self.max_days} days on {', '.join(long_terms)}"
        return "entitlement", text
