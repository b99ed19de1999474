"""The statistical tests of an experiment's results, each a documented standard test (scipy).

- `two_proportions(x1, n1, x2, n2)`: the difference p2 - p1 of two proportions, its 95%
  Wald confidence interval (unpooled standard error) and the two-sided p-value of the
  z-test with the pooled standard error (Agresti, *An Introduction to Categorical Data
  Analysis*, 2nd ed., 2007, §2.2.3 and §2.4.3). Used for count rates (cure, promises kept)
  and for the guardrails (the share of debtors with a dispute, a cease request, an opt-out).
- `welch(a, b)`: the difference of two means, its 95% interval with the Welch-Satterthwaite
  degrees of freedom, and the two-sided p-value of Welch's unequal-variances t-test (Welch,
  Biometrika 34, 1947). Used for per-debtor amounts and rates.
- `sample_ratio(observed, shares)`: the sample-ratio-mismatch check, Pearson's chi-square
  goodness-of-fit of the debtors assigned to each strategy against the shares; a p-value
  below `SRM_ALPHA` means the split is broken (a bug, or debtors lost in one arm), and no
  difference measured on it can be trusted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

SRM_ALPHA = 0.001       # the usual threshold: a real split fails it once in a thousand experiments


@dataclass(frozen=True)
class Comparison:
    """A challenger against the champion: `difference` (challenger - champion), its 95%
    interval `low`..`high`, the test's `p_value` and its name (`test`)."""

    test: str
    champion: float
    challenger: float
    difference: float
    low: float
    high: float
    p_value: float

    def to_dict(self) -> dict:
        """JSON form (floats rounded to 6 significant digits; null when not a number)."""
        return {name: _json(getattr(self, name)) if name != "test" else self.test
                for name in ("test", "champion", "challenger", "difference", "low", "high", "p_value")}


def _json(value: float):
    return None if value is None or not math.isfinite(value) else float(f"{value:.6g}")


def two_proportions(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> Comparison:
    """Group 1 (the champion) had `x1` successes of `n1`, group 2 `x2` of `n2` (see the module docstring)."""
    if n1 == 0 or n2 == 0:
        nan = float("nan")
        return Comparison("two proportions", nan, nan, nan, nan, nan, nan)
    p1, p2 = x1 / n1, x2 / n2
    diff = p2 - p1
    z = stats.norm.ppf(0.5 + level / 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    pooled = (x1 + x2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(diff) / se0))
    return Comparison("two proportions", p1, p2, diff, diff - z * se, diff + z * se, p_value)


def welch(a, b, *, level: float = 0.95) -> Comparison:
    """Group `a` (the champion) against group `b` (see the module docstring)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        nan = float("nan")
        return Comparison("Welch", nan, nan, nan, nan, nan, nan)
    ma, mb = a.mean(), b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff, se = mb - ma, math.sqrt(va + vb)
    if se == 0:
        return Comparison("Welch", ma, mb, diff, diff, diff, 1.0 if diff == 0 else 0.0)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    t = stats.t.ppf(0.5 + level / 2, df)
    p_value = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    return Comparison("Welch", float(ma), float(mb), float(diff), float(diff - t * se), float(diff + t * se), p_value)


@dataclass(frozen=True)
class SampleRatio:
    """The sample-ratio-mismatch check: chi-square statistic, p-value, and whether it fails."""

    observed: dict
    expected: dict
    chi_square: float
    p_value: float

    @property
    def mismatch(self) -> bool:
        """The split does not match the shares (p below SRM_ALPHA)."""
        return self.p_value < SRM_ALPHA

    def to_dict(self) -> dict:
        """JSON form."""
        return {"observed": self.observed, "expected": {k: _json(v) for k, v in self.expected.items()},
                "chi_square": _json(self.chi_square), "p_value": _json(self.p_value), "mismatch": self.mismatch}


def sample_ratio(observed: dict, shares: dict) -> SampleRatio:
    """Pearson's chi-square of the debtors per strategy (`observed`) against `shares` (fractions)."""
    names = list(shares)
    counts = np.asarray([observed.get(n, 0) for n in names], dtype=float)
    total = counts.sum()
    expected = np.asarray([float(shares[n]) for n in names]) * total
    if total == 0:
        return SampleRatio({n: 0 for n in names}, dict(zip(names, expected.tolist())), 0.0, 1.0)
    result = stats.chisquare(counts, expected)
    return SampleRatio({n: int(c) for n, c in zip(names, counts)}, dict(zip(names, expected.tolist())),
                       float(result.statistic), float(result.pvalue))
