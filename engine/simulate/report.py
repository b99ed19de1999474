"""The result of a simulation: plain immutable values and their JSON form.

`SimulationReport.to_dict()` is the one serialisation the CLI (`--format json`) and the
API (`POST /v1/policies:simulate`) return; docs/simulation.md describes every field.
Money is in integer minor units inside and decimal strings (per currency) in the JSON;
rows are in a fixed order, so equal simulations give equal bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from arrears.engine.domain.clock import as_epoch, from_epoch
from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.money import from_minor

FORMAT = "simulation/1"


@dataclass(frozen=True)
class Offers:
    """Incentives one policy offers in one currency (amounts in minor units)."""

    early_offers: int = 0
    early_discount: int = 0          # value of the early-payment discounts offered
    settlement_offers: int = 0
    settlement_amount: int = 0       # what debtors would pay if every settlement were accepted
    settlement_discount: int = 0     # value given up by the settlements offered
    settlement_approvals: int = 0    # settlements that need approval

    def __add__(self, other: Offers) -> Offers:
        return Offers(*(a + b for a, b in zip(self._values(), other._values())))

    def _values(self) -> tuple:
        return (self.early_offers, self.early_discount, self.settlement_offers, self.settlement_amount,
                self.settlement_discount, self.settlement_approvals)

    def to_dict(self, currency: str) -> dict:
        """JSON form, amounts as decimal strings in `currency`."""
        def money(minor: int) -> str:
            return str(from_minor(minor, currency))

        return {"early_payment_discount": {"offers": self.early_offers, "discount": money(self.early_discount)},
                "settlement": {"offers": self.settlement_offers, "amount": money(self.settlement_amount),
                               "discount": money(self.settlement_discount),
                               "requires_approval": self.settlement_approvals}}


def _policy(p) -> dict:
    return {"name": p.name, "version": p.version, "digest": p.digest, "profiles_digest": p.profiles_digest}


def _over(count: int, limit: int | None) -> int:
    return 0 if limit is None else max(0, count - limit)


@dataclass(frozen=True)
class SimulationReport:
    """How the candidate policy would decide the stored portfolio, next to the active one.

    Count pairs and rows hold (active, candidate) in that order; see docs/simulation.md.
    """

    evaluated_at: datetime
    active: object                   # CompiledPolicy
    candidate: object                # CompiledPolicy
    accounts: int
    sample_size: int
    stages: tuple                    # (stage id or None, active, candidate)
    actions: tuple                   # (action type or None, active, candidate)
    decisions_changed: int
    transitions: tuple               # (from stage, to stage, accounts)
    change_sample: tuple             # explain_change dicts
    suppressed: tuple                # (active, candidate)
    newly_suppressed: tuple          # (accounts, ((rule, accounts), ...), sample dicts)
    newly_released: tuple
    offers: tuple                    # (currency, Offers active, Offers candidate)
    contacts: tuple                  # (policy channel, kind, ISO day, active, candidate)
    load: tuple                      # (delivery kind, ISO day, capacity or None, active, candidate)
    capacity: object                 # Capacity

    @property
    def stage_changes(self) -> int:
        """Accounts whose stage differs between the two policies."""
        return sum(n for _f, _t, n in self.transitions)

    def to_dict(self) -> dict:
        """The JSON form (docs/simulation.md)."""
        return {
            "format": FORMAT,
            "evaluated_at": rfc3339(from_epoch(as_epoch(self.evaluated_at))),
            "read_only": True,
            "policies": {"active": _policy(self.active), "candidate": _policy(self.candidate)},
            "accounts": self.accounts,
            "stages": [{"stage": s, "active": a, "candidate": c} for s, a, c in self.stages],
            "actions": [{"action": x, "active": a, "candidate": c} for x, a, c in self.actions],
            "changes": {
                "stage": self.stage_changes,
                "decision": self.decisions_changed,
                "transitions": [{"from": f, "to": t, "accounts": n} for f, t, n in self.transitions],
                "sample_size": self.sample_size,
                "sample": list(self.change_sample),
            },
            "suppressions": {
                "active": self.suppressed[0], "candidate": self.suppressed[1],
                "newly_suppressed": _newly(self.newly_suppressed),
                "newly_released": _newly(self.newly_released),
            },
            "incentives": [{"currency": code, "active": a.to_dict(code), "candidate": c.to_dict(code)}
                           for code, a, c in self.offers],
            "contacts": {
                "by_channel": [{"channel": ch, "kind": k, "day": d, "active": a, "candidate": c}
                               for ch, k, d, a, c in self.contacts],
                "by_kind": [{"kind": k, "day": d, "capacity": cap, "active": a, "candidate": c,
                             "active_over": _over(a, cap), "candidate_over": _over(c, cap)}
                            for k, d, cap, a, c in self.load],
                "capacity": {"source": self.capacity.source,
                             "limits": dict(sorted(self.capacity.limits.items())),
                             "timezones": {k: self.capacity.zone(k) for k in sorted(self.capacity.limits)},
                             "routes": dict(sorted(self.capacity.routes.items()))},
            },
        }


def _newly(part: tuple) -> dict:
    count, by_rule, sample = part
    return {"accounts": count, "by_rule": [{"rule": r, "accounts": n} for r, n in by_rule],
            "sample": list(sample)}
