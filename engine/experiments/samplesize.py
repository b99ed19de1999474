"""How many debtors an experiment needs to see a stated difference (its minimum detectable effect).

The standard normal-approximation formulas for a two-sided test at level alpha with power
1 - beta, written for arms of any size: with N eligible debtors, an arm with share s gets
N * s of them, and the variance of the difference between the champion (share s0) and a
challenger (share s1) is what it is for those counts. Solved for N:

- a percentage (two proportions, Fleiss, Levin & Paik, *Statistical Methods for Rates and
  Proportions*, 3rd ed., 2003, eq. 4.14 without the continuity correction; p1 the baseline,
  p2 = p1 + delta, p = (p1 + p2) / 2):

      N = (z(1-alpha/2) * sqrt(p(1-p)(1/s0 + 1/s1)) + z(1-beta) * sqrt(p1(1-p1)/s0 + p2(1-p2)/s1))^2 / delta^2

- an amount or any other mean (two means with standard deviation sigma in both arms):

      N = (z(1-alpha/2) + z(1-beta))^2 * sigma^2 * (1/s0 + 1/s1) / delta^2

With two equal arms these are the textbook per-group sizes times two (for means, Lehr's
"16 s^2 / d^2" per group at alpha 0.05 and power 0.8). docs/experiments.md shows them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_Z = NormalDist()


@dataclass(frozen=True)
class SampleSize:
    """The eligible debtors needed (`total`) and each strategy's part of them (`per_arm`)."""

    total: int
    per_arm: dict

    def to_dict(self) -> dict:
        """JSON form."""
        return {"total": self.total, "per_arm": dict(self.per_arm)}


def _z(alpha: float, power: float) -> tuple[float, float]:
    return _Z.inv_cdf(1 - alpha / 2), _Z.inv_cdf(power)


def proportions_total(p1: float, delta: float, s0: float, s1: float, alpha: float = 0.05,
                      power: float = 0.8) -> float:
    """Eligible debtors needed to tell proportion `p1` (champion, share `s0`) from `p1 + delta`
    (challenger, share `s1`); proportions and shares as fractions of 1."""
    p2 = p1 + delta
    if not (0 < p1 < 1 and 0 < p2 < 1) or delta == 0:
        raise ValueError(f"baseline {p1:g} and baseline + effect {p2:g} must both lie strictly between 0 and 1")
    za, zb = _z(alpha, power)
    pbar = (p1 + p2) / 2
    root = za * math.sqrt(pbar * (1 - pbar) * (1 / s0 + 1 / s1)) + \
        zb * math.sqrt(p1 * (1 - p1) / s0 + p2 * (1 - p2) / s1)
    return root ** 2 / delta ** 2


def means_total(sigma: float, delta: float, s0: float, s1: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Eligible debtors needed to tell two means `delta` apart with standard deviation `sigma`."""
    if sigma <= 0 or delta == 0:
        raise ValueError("the standard deviation and the effect must be positive")
    za, zb = _z(alpha, power)
    return (za + zb) ** 2 * sigma ** 2 * (1 / s0 + 1 / s1) / delta ** 2


def needed(shares: dict, total_for) -> SampleSize:
    """The debtors needed for every challenger's comparison with the champion: `shares` is
    {strategy: fraction}, the champion first; `total_for(s0, s1)` gives one comparison's N."""
    names = list(shares)
    s0 = shares[names[0]]
    total = max(math.ceil(total_for(s0, shares[name]) - 1e-9) for name in names[1:])
    return SampleSize(total, {name: math.ceil(total * share - 1e-9) for name, share in shares.items()})
