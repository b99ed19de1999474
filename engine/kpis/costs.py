"""What collecting costs: a unit cost per contact attempt and channel kind, plus fixed costs.

Configured per currency in the `[kpis.costs]` table of the config file that `arrears tick`
and `arrears serve` read (`--config`, `$ARREARS_CONFIG`), in the currency's major units:

    [kpis.costs.GBP]
    email = "0.01"            # per attempt (contact attempts as the engine counts them)
    sms = "0.04"
    letter = "0.85"
    call = "2.50"             # per agent call
    fixed_per_month = "1200.00"   # staff, software…: spread over the period's months

A channel kind left out costs nothing; a currency left out has no cost figures (cost to
collect is then null, with the reason). Unit costs may be finer than the minor unit
(0.003 per email); totals are rounded to the minor unit only when reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from arrears.engine.domain.errors import ArrearsError, InputError
from arrears.engine.domain.model import CHANNEL_KINDS
from arrears.engine.domain.money import check_currency, parse_amount

FIXED = "fixed_per_month"


class CostConfigError(ArrearsError):
    """The cost configuration is unusable; `problems` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class CostModel:
    """Unit costs per attempt (currency -> channel kind -> Decimal) and fixed costs per month."""

    unit: dict = field(default_factory=dict)
    fixed_per_month: dict = field(default_factory=dict)

    def covers(self, currency: str) -> bool:
        """Whether costs are configured for `currency`."""
        return currency in self.unit or currency in self.fixed_per_month

    def variable(self, currency: str, attempts: dict) -> Fraction:
        """Cost (major units, exact) of `attempts` ({channel kind: number of attempts})."""
        rates = self.unit.get(currency, {})
        return sum((Fraction(rates.get(kind, 0)) * count for kind, count in attempts.items()), Fraction(0))

    def fixed(self, currency: str, months: Fraction) -> Fraction:
        """Fixed costs (major units, exact) of a period `months` long."""
        return Fraction(self.fixed_per_month.get(currency, 0)) * months

    def to_dict(self) -> dict:
        """The configuration as decimal strings (as it would be written)."""
        out = {cur: {kind: str(v) for kind, v in rates.items()} for cur, rates in self.unit.items()}
        for cur, value in self.fixed_per_month.items():
            out.setdefault(cur, {})[FIXED] = str(value)
        return out


def parse_costs(data, where: str = "kpis.costs") -> CostModel:
    """A `CostModel` from `{currency: {channel kind or "fixed_per_month": amount}}`.

    Raises CostConfigError listing every problem (each as `where.CUR.key: message`).
    """
    if data is None:
        return CostModel()
    if not isinstance(data, dict):
        raise CostConfigError([f"{where}: expected a table of currencies, got {type(data).__name__}"])
    problems: list[str] = []
    unit: dict = {}
    fixed: dict = {}
    for currency, rates in data.items():
        here = f"{where}.{currency}"
        try:
            check_currency(currency, here)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if not isinstance(rates, dict):
            problems.append(f"{here}: expected a table of channel kinds and {FIXED}")
            continue
        for key, value in rates.items():
            if key not in (*CHANNEL_KINDS, FIXED):
                problems.append(f"{here}.{key}: unknown key; allowed: {', '.join((*CHANNEL_KINDS, FIXED))}")
                continue
            try:
                amount = parse_amount(value, f"{here}.{key}")
            except InputError as exc:
                problems.append(str(exc))
                continue
            if amount < 0:
                problems.append(f"{here}.{key}: must not be negative, got {value!r}")
            elif key == FIXED:
                fixed[currency] = amount
            else:
                unit.setdefault(currency, {})[key] = amount
    if problems:
        raise CostConfigError(problems)
    return CostModel(unit=unit, fixed_per_month=fixed)
