"""`statutory_compensation`: a fixed sum the creditor may claim per late invoice (reported only)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.guardrails.kinds.base import Rule, param


@dataclass(frozen=True)
class StatutoryCompensation(Rule):
    """The creditor may claim `fixed_per_invoice` per late invoice: an entitlement line in the trace."""

    kind: ClassVar[str] = "statutory_compensation"
    fixed_per_invoice: object = param(None, {"type": ["string", "number"]}, "amount per late invoice",
                                      required=True)
    currency: str = param("", {"type": "string", "pattern": "^[A-Z]{3}$"}, "currency of the amount",
                          required=True)

    def describe(self) -> str:
        """E.g. "the creditor may claim 40.00 EUR per late invoice"."""
        return f"the creditor may claim {self.fixed_per_invoice} {self.currency} per late invoice"

    def report(self, facts, row):
        """The entitlement, with the account's number of late (open, undisputed, overdue) invoices."""
        late = int((facts.overdue_mask & (facts.b.inv_acct == row)).sum())
        return "entitlement", f"{self.describe()} [{self.source}]; {late} late invoice(s)"
