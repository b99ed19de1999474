"""The decision timeline of a replay, per day, ISO week or calendar month.

Per period: how many evaluations the engine made, the contacts it sent by stage and
channel, the accounts each rule held back (an account counts once per rule and period,
however often it was evaluated), and the incentives its messages carried. All of it is
counted column-wise from the `Recorder`; days are the debtor's own calendar days.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from arrears.engine.domain.money import from_minor

PERIODS = ("day", "week", "month")
_SHIFT = 32


def period_labels(start: date, end: date, by: str) -> tuple[np.ndarray, list[tuple[str, date, date]]]:
    """(period index of each day of `start..end`, [(label, first day, last day)]).

    Weeks are ISO weeks (Monday to Sunday, labelled `2025-W03`), months calendar months
    (`2025-01`); the first and last periods are cut to the replayed days.
    """
    if by not in PERIODS:
        raise ValueError(f"expected one of {', '.join(PERIODS)}; got {by!r}")
    index, periods = [], []
    day = start
    while day <= end:
        if by == "day":
            label = day.isoformat()
        elif by == "week":
            year, week, _ = day.isocalendar()
            label = f"{year}-W{week:02d}"
        else:
            label = f"{day.year}-{day.month:02d}"
        if not periods or periods[-1][0] != label:
            periods.append([label, day, day])
        periods[-1][2] = day
        index.append(len(periods) - 1)
        day += timedelta(days=1)
    return np.asarray(index, dtype=np.int64), [tuple(p) for p in periods]


def timeline(run, by: str) -> tuple[list[dict], dict]:
    """(one entry per period, the entry of the whole period), JSON-ready."""
    rec, policy, base = run.record, run.policy, run.history.base
    index, periods = period_labels(run.start, run.end, by)
    k = len(periods)
    whole = np.zeros(len(index), dtype=np.int64)
    c = rec.contacts.view()
    offset = c["day"].astype(np.int64) - rec.start_day
    s_day, s_rule, s_acct = rec.suppressions()
    currency = base.currency[c["acct"]] if len(c["acct"]) else np.empty(0, dtype=object)
    out = []
    for p_of_day, count in ((index, k), (whole, 1)):
        evals = np.bincount(p_of_day, weights=rec.evaluations, minlength=count).astype(np.int64)
        pc = p_of_day[offset]
        rows = [{"evaluations": int(evals[i]), "contacts": 0, "actions": {}, "suppressed_accounts": 0,
                 "suppressions": {}, "incentives": _no_incentives()} for i in range(count)]
        _actions(rows, pc, c, policy)
        _suppressions(rows, p_of_day[s_day], s_rule, s_acct, rec.rule_ids)
        _incentives(rows, pc, c, currency)
        out.append(rows)
    entries = [{"period": label, "from": first.isoformat(), "to": last.isoformat(), **row}
               for (label, first, last), row in zip(periods, out[0])]
    total = {"period": "total", "from": run.start.isoformat(), "to": run.end.isoformat(), **out[1][0]}
    return entries, total


def _actions(rows: list, period: np.ndarray, c: dict, policy) -> None:
    """Contacts per period, stage and channel (policy order; only those that happened)."""
    names = list(policy.channels)
    key = (period << _SHIFT) | (c["stage"].astype(np.int64) << 16) | c["channel"].astype(np.int64)
    uniq, counts = np.unique(key, return_counts=True)
    for value, n in zip(uniq.tolist(), counts.tolist()):
        p, stage, chan = value >> _SHIFT, (value >> 16) & 0xFFFF, value & 0xFFFF
        row = rows[p]
        row["contacts"] += n
        row["actions"].setdefault(policy.actions[stage].id, {})[names[chan]] = n


def _suppressions(rows: list, period: np.ndarray, rule: np.ndarray, acct: np.ndarray, rule_ids: list) -> None:
    """Distinct accounts held back per period, in total and per rule (rules sorted by id)."""
    per_rule = np.unique(np.stack([period, rule, acct]), axis=1) if len(acct) else np.zeros((3, 0), np.int64)
    anyrule = np.unique(np.stack([period, acct]), axis=1) if len(acct) else np.zeros((2, 0), np.int64)
    counted = np.zeros(len(rows), dtype=np.int64)
    np.add.at(counted, anyrule[0], 1)
    for i, row in enumerate(rows):
        row["suppressed_accounts"] = int(counted[i])
    pairs, counts = np.unique(per_rule[:2], axis=1, return_counts=True)
    found: dict = {}
    for (p, r), n in zip(pairs.T.tolist(), counts.tolist()):
        found.setdefault(p, {})[rule_ids[r]] = n
    for p, rules in found.items():
        rows[p]["suppressions"] = dict(sorted(rules.items()))


def _no_incentives() -> dict:
    return {"early_payment_discount": {"offered": 0, "discount": []},
            "settlement": {"offered": 0, "needs_approval": 0, "discount": []}}


def _incentives(rows: list, period: np.ndarray, c: dict, currency: np.ndarray) -> None:
    """Offers carried by the contacts sent, with the value given up, per currency."""
    for name, column in (("early_payment_discount", "early"), ("settlement", "settle")):
        made = np.flatnonzero(c[column] >= 0)
        if not made.size:
            continue
        p = period[made]
        offered = np.bincount(p, minlength=len(rows))
        approval = np.bincount(p, weights=c["approval"][made], minlength=len(rows))
        names, code = np.unique(currency[made].astype(str), return_inverse=True)
        key = p * len(names) + code.reshape(-1)
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.zeros(len(uniq), dtype=np.int64)
        np.add.at(sums, inverse.reshape(-1), c[column][made])
        for i in np.flatnonzero(offered).tolist():
            entry = rows[i]["incentives"][name]
            entry["offered"] = int(offered[i])
            if name == "settlement":
                entry["needs_approval"] = int(approval[i])
        for value, total in zip(uniq.tolist(), sums.tolist()):
            cur = str(names[value % len(names)])
            rows[value // len(names)]["incentives"][name]["discount"].append(
                {"amount": str(from_minor(total, cur)), "currency": cur})
