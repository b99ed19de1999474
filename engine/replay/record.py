"""What the replay saw, recorded column-wise as it runs: evaluations, contacts, suppressions.

Only what happens on a day of the reported period counts (the debtor's own calendar day:
`Facts.today` at the evaluation); the warm-up before it and each zone's tail after it are
simulated but not recorded. Suppressions are kept as distinct (day, rule, account)
triples, so a report can say how many accounts a rule held back in any period however
often they were evaluated.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.decisions import suppress
from arrears.engine.replay.columns import GrowingColumns

# (day, rule, account) packed in an int64: 19 bits of days (any period of years 1900-2199),
# 12 of rules, 32 of accounts.
_RULE_BITS, _ACCT_BITS = 12, 32


class Recorder:
    """Running record of a replay over the local days `start_day..end_day` (epoch days)."""

    def __init__(self, n: int, start_day: int, end_day: int):
        self.start_day, self.end_day = int(start_day), int(end_day)
        # The stage each decision reached, recorded when it changes (as the tick stores
        # decisions), warm-up included: the KPIs group accounts by their latest stage.
        self.last_stage = np.full(n, -2, dtype=np.int64)
        self.stages = GrowingColumns(acct=np.int32, day=np.int32, stage=np.int16)
        self.evaluations = np.zeros(self.end_day - self.start_day + 1, dtype=np.int64)
        self.contacts = GrowingColumns(acct=np.int32, at=np.int64, day=np.int32, stage=np.int16,
                                       channel=np.int16, position=np.int16, attempt=np.int32, early=np.int64,
                                       settle=np.int64, approval=np.bool_)
        self.rule_ids: list[str] = []
        self._rule_code: dict[str, int] = {}
        self._supp: list[np.ndarray] = []
        self._supp_days: list[np.ndarray] = []

    def in_period(self, days: np.ndarray) -> np.ndarray:
        """Mask of the local days inside the reported period."""
        return (days >= self.start_day) & (days <= self.end_day)

    def page(self, db, rows: np.ndarray, sent: np.ndarray, sent_at: np.ndarray, sent_day: np.ndarray,
             channel_codes: np.ndarray) -> None:
        """Record one evaluated page. `rows`: the accounts' global rows; `sent`: the page rows
        whose contact went out, at `sent_at` on local day `sent_day`, on policy channel
        number `channel_codes`."""
        days = db.facts.today
        self._stages(db, rows, days)
        inside = self.in_period(days)
        self.evaluations += np.bincount(days[inside] - self.start_day, minlength=len(self.evaluations))
        counted = self.in_period(sent_day)
        keep = sent[counted]
        if keep.size:
            o = db.offers
            self.contacts.extend(acct=rows[keep], at=sent_at[counted], day=sent_day[counted],
                                 stage=db.steps.step[keep], channel=channel_codes[counted],
                                 # the channel's place in the stage: a stage variant's email and the
                                 # stage's own may name different templates
                                 position=db.guarded.channel[keep],
                                 attempt=db.steps.attempt[keep],
                                 early=np.where(o.early[keep], o.early_amount[keep], -1),
                                 settle=np.where(o.settle[keep], o.settle_discount[keep], -1),
                                 approval=o.settle_approval[keep])
        for rule, mask in suppress.masks(db):
            hit = np.flatnonzero(mask & inside)
            if hit.size:
                code = self._rule_code.setdefault(rule, len(self.rule_ids))
                if code == len(self.rule_ids):
                    if code >= 1 << _RULE_BITS:
                        raise ValueError(f"more than {1 << _RULE_BITS} distinct suppression rules")
                    self.rule_ids.append(rule)
                self._supp.append(_key(days[hit] - self.start_day, code, rows[hit]))

    def _stages(self, db, rows: np.ndarray, days: np.ndarray) -> None:
        st = db.steps
        stage = np.where(db.action_ok, st.step, st.last)
        moved = np.flatnonzero(stage != self.last_stage[rows])
        if moved.size:
            self.last_stage[rows[moved]] = stage[moved]
            self.stages.extend(acct=rows[moved], day=days[moved], stage=stage[moved])

    def end_of_day(self) -> None:
        """Drop repeated suppression triples (an account is evaluated several times a day)."""
        if self._supp:
            self._supp_days.append(np.unique(np.concatenate(self._supp)))
            self._supp = []

    def suppressions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (day offset, rule code, account row) triples, as three columns."""
        self.end_of_day()
        keys = np.unique(np.concatenate(self._supp_days)) if self._supp_days else np.empty(0, np.int64)
        day = keys >> (_RULE_BITS + _ACCT_BITS)
        rule = (keys >> _ACCT_BITS) & ((1 << _RULE_BITS) - 1)
        acct = keys & ((1 << _ACCT_BITS) - 1)
        return day, rule, acct


def _key(day_offset: np.ndarray, rule: int, acct: np.ndarray) -> np.ndarray:
    return ((day_offset.astype(np.int64) << (_RULE_BITS + _ACCT_BITS)) | (rule << _ACCT_BITS)
            | acct.astype(np.int64))
