"""Page-by-page comparison of two policies' decisions, column-wise.

`Tally.add(active_db, candidate_db)` takes the two `DecisionBatch`es of one page (the same
accounts, the same instant) and adds to running counts; `Tally.report()` turns them into a
`SimulationReport`. What an account's stage, action, channel and decision key are comes
from the tick's own column-wise definition (`arrears.engine.tick.columns.summarise`), and which
rules hold it back from the decisions' (`arrears.engine.decisions.suppress.masks`), so a simulation counts
exactly what the tick would store.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from arrears.engine.decisions import suppress
from arrears.engine.decisions.result import DecisionBatch
from arrears.engine.simulate.capacity import Capacity, contact_days
from arrears.engine.simulate.report import Offers, SimulationReport
from arrears.engine.simulate.sample import Sampler, explain_change, explain_suppression
from arrears.engine.tick import columns


@dataclass
class Side:
    """What one policy decided for a page, as the columns the comparison needs."""

    stage: np.ndarray      # object: stage id (the action's, else the last one reached) or None
    action: np.ndarray     # object: action type or None
    channel: np.ndarray    # object: policy channel of the action or None
    key: np.ndarray        # object: the tick's decision key
    ok: np.ndarray         # bool: an action may go out
    not_before: np.ndarray
    listed: np.ndarray     # bool: the decision lists at least one suppression
    masks: list            # (rule id, accounts it holds back)


def side_of(db: DecisionBatch) -> Side:
    """The comparison columns of one evaluated page."""
    cols = columns.summarise(db)
    masks = suppress.masks(db)          # cached by summarise: no second computation
    listed = np.zeros(len(db), dtype=bool)
    for _rule, mask in masks:
        listed |= mask
    return Side(cols.stage, cols.action, cols.channel, cols.keys, cols.action_ok, cols.not_before,
                listed, masks)


class SideTally:
    """Running counts for one policy."""

    def __init__(self, policy):
        self.policy = policy
        self.stages: Counter = Counter()
        self.actions: Counter = Counter()
        self.suppressed = 0
        self.contacts: Counter = Counter()     # (policy channel, kind, ISO day) -> contacts
        self.load: Counter = Counter()         # (delivery kind, ISO day) -> contacts
        self.offers: dict[str, Offers] = {}    # currency -> offers made

    def add(self, db: DecisionBatch, s: Side, capacity: Capacity) -> None:
        """Count one page."""
        self.stages.update(s.stage.tolist())
        self.actions.update(s.action.tolist())
        self.suppressed += int(s.listed.sum())
        rows = np.flatnonzero(s.ok)
        if len(rows):
            channels = s.channel[rows]
            kinds = np.asarray([self.policy.channels[c] for c in channels.tolist()], dtype=object)
            transports, days = contact_days(capacity, channels, kinds, s.not_before[rows])
            self.contacts.update(zip(channels.tolist(), kinds.tolist(), days))
            self.load.update(zip(transports, days))
        self._add_offers(db)

    def _add_offers(self, db: DecisionBatch) -> None:
        o, currency = db.offers, db.facts.b.currency
        rows = np.flatnonzero(o.early | o.settle)
        if not len(rows):
            return
        for code in sorted(set(currency[rows].tolist())):
            mine = currency == code
            early, settle = mine & o.early, mine & o.settle
            # Python integers: a sum of int64 minor units can exceed 64 bits.
            total = Offers(int(early.sum()), sum(o.early_amount[early].tolist()), int(settle.sum()),
                           sum(o.settle_amount[settle].tolist()), sum(o.settle_discount[settle].tolist()),
                           int((settle & o.settle_approval).sum()))
            self.offers[code] = self.offers.get(code, Offers()) + total


class Tally:
    """Running comparison of the active and the candidate policy over many pages."""

    def __init__(self, active, candidate, capacity: Capacity, sample: int):
        self.active, self.candidate, self.capacity = active, candidate, capacity
        self.sides = (SideTally(active), SideTally(candidate))
        self.accounts = 0
        self.decisions_changed = 0
        self.transitions: Counter = Counter()
        self.newly = {"suppressed": Counter(), "released": Counter()}     # rule -> accounts
        self.newly_count = {"suppressed": 0, "released": 0}
        self.samples = {"changes": Sampler(sample), "suppressed": Sampler(sample),
                        "released": Sampler(sample)}
        self.sample_size = sample

    def add(self, active_db: DecisionBatch, candidate_db: DecisionBatch) -> None:
        """Compare the two policies' decisions for one page of accounts."""
        a, c = side_of(active_db), side_of(candidate_db)
        self.sides[0].add(active_db, a, self.capacity)
        self.sides[1].add(candidate_db, c, self.capacity)
        self.accounts += len(active_db)
        self.decisions_changed += int((a.key != c.key).sum())
        ids = active_db.account_ids
        moved = np.flatnonzero(a.stage != c.stage)
        self.transitions.update(zip(a.stage[moved].tolist(), c.stage[moved].tolist()))
        self.samples["changes"].take(ids, moved, lambda r: explain_change(active_db, candidate_db, r))
        for name, now_held, db, side in (("suppressed", c.listed & ~a.listed, candidate_db, c),
                                         ("released", a.listed & ~c.listed, active_db, a)):
            self.newly_count[name] += int(now_held.sum())
            for rule, mask in side.masks:
                hit = int((mask & now_held).sum())
                if hit:
                    self.newly[name][rule] += hit
            self.samples[name].take(ids, np.flatnonzero(now_held),
                                    lambda r, db=db: explain_suppression(db, r))

    def report(self, evaluated_at) -> SimulationReport:
        """The report of everything added so far."""
        act, cand = self.sides
        stage_ids = [s.id for s in self.active.stages]
        stage_ids += [s.id for s in self.candidate.stages if s.id not in stage_ids]
        actions = sorted({s.action for p in (self.active, self.candidate) for s in p.stages})
        rank = {sid: i for i, sid in enumerate(stage_ids)}

        def order(stage):            # policy order; None (no stage) after every stage
            return rank.get(stage, len(rank))

        transitions = sorted(self.transitions.items(),
                             key=lambda kv: (-kv[1], order(kv[0][0]), order(kv[0][1])))
        return SimulationReport(
            evaluated_at=evaluated_at, active=self.active, candidate=self.candidate,
            accounts=self.accounts, sample_size=self.sample_size,
            stages=tuple((s, act.stages[s], cand.stages[s]) for s in [*stage_ids, None]),
            actions=tuple((x, act.actions[x], cand.actions[x]) for x in [*actions, None]),
            decisions_changed=self.decisions_changed,
            transitions=tuple((f, t, n) for (f, t), n in transitions),
            change_sample=tuple(self.samples["changes"].entries()),
            suppressed=(act.suppressed, cand.suppressed),
            newly_suppressed=(self.newly_count["suppressed"], _by_count(self.newly["suppressed"]),
                              tuple(self.samples["suppressed"].entries())),
            newly_released=(self.newly_count["released"], _by_count(self.newly["released"]),
                            tuple(self.samples["released"].entries())),
            offers=tuple((code, act.offers.get(code, Offers()), cand.offers.get(code, Offers()))
                         for code in sorted(set(act.offers) | set(cand.offers))),
            contacts=tuple((ch, kind, day, act.contacts[(ch, kind, day)], cand.contacts[(ch, kind, day)])
                           for ch, kind, day in sorted(set(act.contacts) | set(cand.contacts))),
            load=tuple((kind, day, self.capacity.limit(kind), act.load[(kind, day)], cand.load[(kind, day)])
                       for kind, day in sorted(set(act.load) | set(cand.load))),
            capacity=self.capacity,
        )


def _by_count(counter: Counter) -> tuple:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
