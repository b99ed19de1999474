"""Deterministic samples of accounts, and why one account's decision differs between policies.

A sample is the N accounts with the smallest hash of their id among those that qualify.
So it does not depend on the page size, on the order accounts were stored in or on the
machine, two runs over the same data give the same sample, and simulations of different
candidates over one portfolio tend to show the same accounts. Only sampled accounts are
materialised (a full `Decision` with its trace costs ~0.1-0.5 ms; the columns cost
microseconds), and each is materialised from the page it was decided in, so its
explanation always matches the counts it is part of.
"""
from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable

from arrears.engine.decisions import suppress
from arrears.engine.decisions.result import DecisionBatch
from arrears.engine.domain.decision import rfc3339

# Trace steps that differ between almost any two policies without explaining the change.
NOT_REASONS = frozenset({"next evaluation"})


def sample_key(account_id: str) -> int:
    """The account's place in every sample: 64 bits of BLAKE2b of its id."""
    return int.from_bytes(hashlib.blake2b(account_id.encode("utf-8"), digest_size=8).digest(), "big")


class Sampler:
    """Keeps the `size` qualifying accounts with the smallest keys, and what was recorded for each."""

    def __init__(self, size: int):
        self.size = size
        self._heap: list = []        # (_Desc, entry): the largest kept key on top

    def take(self, ids: list, rows, build: Callable[[int], dict]) -> None:
        """Consider the accounts in `rows` (row numbers into `ids`); `build(row)` makes the
        entry of an account that enters the sample (called at most `size` times per call)."""
        if self.size <= 0 or not len(rows):
            return
        keyed = [(sample_key(ids[r]), ids[r], r) for r in rows.tolist()]
        if len(self._heap) >= self.size:
            worst = self._worst()
            keyed = [k for k in keyed if (k[0], k[1]) < worst]
        for key, account_id, row in heapq.nsmallest(self.size, keyed):
            if len(self._heap) < self.size:
                heapq.heappush(self._heap, (_Desc(key, account_id), build(row)))
            elif (key, account_id) < self._worst():
                heapq.heapreplace(self._heap, (_Desc(key, account_id), build(row)))

    def _worst(self) -> tuple:
        desc = self._heap[0][0]
        return desc.key, desc.account_id

    def entries(self) -> list[dict]:
        """The kept entries, smallest key first."""
        return [entry for _desc, entry in sorted(self._heap, key=lambda e: (e[0].key, e[0].account_id))]


class _Desc:
    """Orders entries so that heapq's min-heap keeps the largest key on top."""

    __slots__ = ("account_id", "key")

    def __init__(self, key: int, account_id: str):
        self.key, self.account_id = key, account_id

    def __lt__(self, other: _Desc) -> bool:
        return (self.key, self.account_id) > (other.key, other.account_id)


def _action(decision) -> dict | None:
    a = decision.action
    if a is None:
        return None
    return {"type": a.type, "stage": a.stage, "attempt": a.attempt, "channel": a.channel,
            "not_before": rfc3339(a.not_before), "reason": a.reason}


def _side(decision, steps: list[dict]) -> dict:
    return {"stage": decision.stage, "action": _action(decision),
            "suppressions": [s.to_dict() for s in decision.suppressions], "trace": steps}


def explain_change(active: DecisionBatch, candidate: DecisionBatch, row: int) -> dict:
    """Why account `row` is decided differently: both decisions' stage, action and
    suppressions, and the trace lines that differ between them (the lines of the other
    side's stages and checks that one policy does not have are included as they are)."""
    a, c = active.decision(row), candidate.decision(row)
    by_a = {t.step: t for t in a.trace}
    by_c = {t.step: t for t in c.trace}
    order = list(by_a) + [s for s in by_c if s not in by_a]
    def said(step):          # what a line says: where each policy file writes it does not count
        return None if step is None else (step.outcome, step.detail)
    differ = [s for s in order if s not in NOT_REASONS and said(by_a.get(s)) != said(by_c.get(s))]
    return {"account_id": a.account_id, "from": a.stage, "to": c.stage,
            "active": _side(a, [by_a[s].to_dict() for s in differ if s in by_a]),
            "candidate": _side(c, [by_c[s].to_dict() for s in differ if s in by_c])}


def explain_suppression(db: DecisionBatch, row: int) -> dict:
    """The rules that hold account `row` back under `db`'s policy, with their reasons."""
    return {"account_id": db.account_ids[row], "rules": [s.to_dict() for s in suppress.for_row(db, row)]}
