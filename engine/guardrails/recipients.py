"""Whom a step may reach, per candidate channel: the debtor, their representative, or staff.

A represented debtor's own addresses are never used (`Facts.recipient_reach`: only the
representative's email, phone and address, and internal channels). When the policy handles
representation (`representation:`) and none of the step's listed channels can reach the
representative, the step becomes a manual-review task on the policy's review channel, which
the compiler appends to every stage's channels (`Stage.listed` says how many the policy
listed); no other account may use that appended position.
"""
from __future__ import annotations

import numpy as np


def candidates(facts, policy, step: np.ndarray, kinds_table: np.ndarray,
               failed: np.ndarray, listed: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """(per channel position, the accounts whose candidate there can be used; the accounts
    whose step goes to the manual-review task instead). `listed`: per account, the bitmask of
    the positions its step lists (`CompiledPolicy.listed_mask`: its stage variant's channels)."""
    stages, rep = policy.actions, policy.representation      # the stages, then the event messages
    has = step >= 0
    reach = facts.recipient_reach
    out = []
    for pos in range(kinds_table.shape[1]):
        kind = np.where(has, kinds_table[np.maximum(step, 0), pos], -1)
        bit = np.maximum(kind, 0)
        out.append((kind >= 0) & ((listed >> pos) & 1 == 1) & ((reach >> bit) & 1 == 1)
                   & ((failed >> bit) & 1 == 0))
    review = np.zeros(facts.n, dtype=bool)
    if rep is None or not out:
        return out, review
    review = facts.representative["active"] & has & ~np.logical_or.reduce(out)
    if review.any():
        where = np.array([s.channels.index(rep.review_channel) if rep.review_channel in s.channels else -1
                          for s in stages] + [-1], dtype=np.int64)[step]
        # A review task that failed waits for its channel's retry like any other channel.
        kind = np.where(where >= 0, kinds_table[np.maximum(step, 0), np.maximum(where, 0)], -1)
        task_ok = (kind >= 0) & ((failed >> np.maximum(kind, 0)) & 1 == 0)
        out = [np.where(review, (where == pos) & task_ok, u) for pos, u in enumerate(out)]
    return out, review
