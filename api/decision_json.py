"""Decisions as the API's JSON, written straight from a `DecisionBatch`'s columns.

`DecisionBatch.decision(row)` builds a `Decision` with its plain-words trace, which
costs more than the rest of a decision put together; most callers of the API act on
the decision and ask for the trace only when a person wants the explanation. So the
API writes each row's JSON form directly: the batch's columns are turned into Python
values once per batch (`DecisionRows`), and a row's dict is then a few lookups. The
structured parts (action, offers, suppressions, profiles, trace) come from the same
engine functions `materialize` uses, so there is one definition of each.

The dict equals `Decision.to_dict()` key for key and value for value (without
`trace` unless asked for), so both serialise to the same bytes; a test checks this
on a generated portfolio across jurisdictions.
"""
from __future__ import annotations

import threading

from arrears.engine.decide.materialize import action_of, applied_profiles, offers_of
from arrears.engine.decide.result import DecisionBatch
from arrears.engine.decide.suppress import for_row as suppressions_of
from arrears.engine.decide.trace import build_trace
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.money import from_minor


class DecisionRows:
    """Per-batch Python values from which each row's decision dict is assembled."""

    def __init__(self, db: DecisionBatch):
        self.db = db
        f, p = db.facts, db.policy
        self.ids = list(f.b.ids)
        self.currency = f.b.currency.tolist()
        self.evaluated_at = rfc3339(from_epoch(db.now))
        self.policy = {"name": p.name, "version": p.version, "digest": p.digest,
                       "profiles_digest": p.profiles_digest}
        owes = (f.total_balance > 0).tolist()
        self.days_past_due = [int(d) if o else None for d, o in zip(f.days_past_due.tolist(), owes)]
        self.bucket = [str(b) for b in f.bucket_names.tolist()]
        self.money = [col.tolist() for col in (f.balance, f.total_balance, f.overdue_balance,
                                                f.disputed_amount)]
        self.scores = db.scores.tolist()
        self.factors = [fac.name for fac in p.factors]
        self.contributions = db.contributions.tolist()
        self.segments = [(name, f.segment_mask(name).tolist()) for name in p.segments]
        self.last_stage = [p.stages[k].id if k >= 0 else None for k in db.steps.last.tolist()]
        self.has_fees = bool(p.fees.late_fee or p.fees.interest)
        self.next_evaluation = db.next_evaluation.tolist()

    def _money(self, minor, row: int) -> dict:
        cur = self.currency[row]
        return {"amount": str(from_minor(int(minor), cur)), "currency": cur}

    def _fees(self, row: int) -> dict | None:
        if not self.has_fees:
            return None
        o = self.db.offers
        return {"late_fee": self._money(o.late_fee[row], row), "interest": self._money(o.interest[row], row),
                "frozen": bool(o.frozen[row]), "note": o.frozen_why[row]}

    def dict(self, row: int, trace: bool = False) -> dict:
        """Row `row`'s decision as `Decision.to_dict()` gives it; without `trace` unless asked."""
        db = self.db
        action = action_of(db, row)
        balance, total, overdue, disputed = (self._money(col[row], row) for col in self.money)
        out = {
            "account_id": self.ids[row],
            "evaluated_at": self.evaluated_at,
            "policy": dict(self.policy),
            "days_past_due": self.days_past_due[row],
            "bucket": self.bucket[row],
            "balance": balance,
            "total_balance": total,
            "overdue_balance": overdue,
            "disputed_amount": disputed,
            "priority": {"score": self.scores[row],
                         "contributions": dict(zip(self.factors, self.contributions[row]))},
            "segments": [name for name, mask in self.segments if mask[row]],
            "stage": action.stage if action is not None else self.last_stage[row],
            "action": None if action is None else action.to_dict(),
            "offers": [o.to_dict() for o in offers_of(db, row)],
            "suppressions": [s.to_dict() for s in suppressions_of(db, row)],
            "fees": self._fees(row),
            "profiles": list(applied_profiles(db, row)),
            "next_evaluation_at": rfc3339(from_epoch(self.next_evaluation[row])),
        }
        if trace:
            out["trace"] = [step.to_dict() for step in build_trace(db, row)]
        return out


_LOCK = threading.Lock()


def rows_of(db: DecisionBatch) -> DecisionRows:
    """The batch's `DecisionRows`, made once and kept with the batch (request threads of one
    micro-batch share it)."""
    rows = db.cache.get("api.rows")
    if rows is None:
        with _LOCK:
            rows = db.cache.get("api.rows")
            if rows is None:
                rows = db.cache["api.rows"] = DecisionRows(db)
    return rows


def decision_dict(db: DecisionBatch, row: int, trace: bool = False) -> dict:
    """Row `row` of `db` as the API's Decision JSON (with `trace` if asked)."""
    return rows_of(db).dict(row, trace)
