"""Priority: a 0-100 score from weighted factors, with each factor's contribution.

Each factor is first normalised to 0..1:
- balance: `log1p(balance) / log1p(cap)` (scale: log) or `balance / cap` (linear), capped at 1;
- days_past_due: `days_past_due / cap` (cap default 180), 0 before the due date;
- recovery_likelihood: `0.4 * (1 - risk_score) + 0.4 * on_time_ratio + 0.2 * paid in the
  last 90 days`, unknown scores counting 0.5, less 0.25 per promise broken in a year;
- risk: the risk score itself (0 safe .. 1 risky; an unknown score counts `unknown`, default
  0.5). Its direction is the weight's sign: a positive weight puts riskier accounts first
  (higher risk, higher priority), a negative one puts them last;
- legal_exposure: the share of the limitation period already elapsed since the oldest
  unpaid due date (urgency rises as the time-bar nears);
- relationship_value: the tier's value from `tiers` (0 for an unknown tier).
Then `contribution = 100 * weight * factor / sum(positive weights)` and the score is the
sum of contributions clamped to 0..100; negative weights lower urgency.
"""
from __future__ import annotations

from itertools import repeat

import numpy as np

from arrears.engine.domain.money import from_minor


def _factor(facts, factor) -> np.ndarray:
    name = factor.name
    if name == "balance":
        major = facts.balance / facts.b.scale
        cap = float(factor.cap or 10000)
        if factor.scale == "log":
            value = np.log1p(np.maximum(major, 0)) / np.log1p(cap)
        else:
            value = major / cap
    elif name == "days_past_due":
        value = facts.days_past_due / float(factor.cap or 180)
    elif name == "recovery_likelihood":
        risk = np.where(np.isnan(facts.b.risk), 0.5, facts.b.risk)
        on_time = np.where(np.isnan(facts.b.on_time), 0.5, facts.b.on_time)
        paid_recently = (facts.payments(90) > 0).astype(np.float64)
        value = (0.4 * (1 - risk) + 0.4 * on_time + 0.2 * paid_recently
                 - 0.25 * facts.promises_broken(365))
    elif name == "risk":
        value = np.where(np.isnan(facts.b.risk), factor.unknown, facts.b.risk)
    elif name == "legal_exposure":
        value = facts.days_past_due / float(factor.limitation_days)
    else:  # relationship_value
        tiers = factor.tiers
        value = np.fromiter(map(tiers.get, facts.b.tier, repeat(0.0)), dtype=np.float64,
                            count=facts.n)
    return np.clip(value, 0.0, 1.0)


def score(facts, policy) -> tuple[np.ndarray, np.ndarray]:
    """(scores, contributions): scores shape (n,), contributions shape (n, factors)."""
    factors = policy.factors
    positive = sum(f.weight for f in factors if f.weight > 0) or 1.0
    contrib = np.zeros((facts.n, len(factors)))
    for j, factor in enumerate(factors):
        contrib[:, j] = 100.0 * factor.weight * _factor(facts, factor) / positive
    contrib = np.round(contrib, 2) + 0.0   # + 0.0 turns -0.0 into 0.0
    scores = np.round(np.clip(contrib.sum(axis=1), 0.0, 100.0), 2)
    return scores, contrib


def _known(value: float, what: str) -> str:
    return f"{what} unknown (counts 0.5)" if np.isnan(value) else f"{what} {value:g}"


def describe_inputs(facts, factor, row: int) -> str:
    """What `factor` was computed from for account `row`, in words: the figures an auditor
    needs to redo the contribution by hand (the trace's priority step and `arrears explain`)."""
    name = factor.name
    if name == "balance":
        cap = float(factor.cap or 10000)
        cur = facts.b.currency[row]
        return f"balance {from_minor(int(facts.balance[row]), cur)} {cur}, {factor.scale or 'linear'} scale, cap {cap:g}"
    if name == "days_past_due":
        return f"{int(facts.days_past_due[row])} days past due, cap {float(factor.cap or 180):g}"
    if name == "recovery_likelihood":
        paid = int(facts.payments(90)[row]) > 0
        broken = int(facts.promises_broken(365)[row])
        return (f"{_known(float(facts.b.risk[row]), 'risk score')}, "
                f"{_known(float(facts.b.on_time[row]), 'on-time ratio')}, "
                f"{'a' if paid else 'no'} payment in the last 90 days, "
                f"{broken} promise{'s' if broken != 1 else ''} broken in a year")
    if name == "risk":
        risk = float(facts.b.risk[row])
        known = f"risk score {risk:g}" if not np.isnan(risk) else f"risk score unknown (counts {factor.unknown:g})"
        return known + (", riskier first" if factor.weight > 0 else ", riskier last")
    if name == "legal_exposure":
        return f"{int(facts.days_past_due[row])} of {factor.limitation_days} days of the limitation period"
    if name == "relationship_value":
        tier = facts.b.tier[row]
        return f"tier {tier or 'unknown'}: value {factor.tiers.get(tier, 0.0):g}"
    return ""
