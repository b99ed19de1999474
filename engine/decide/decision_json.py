"""The Decision's JSON, written in one place: from a `DecisionBatch`'s columns and a row.

Two callers need a decision's JSON, and both get it here, so its shape (keys, order, how
money, times and the priority are written) is defined once, in `write`:

- The API answers from the batch directly: `Columns(db)` turns the batch's columns into
  Python lists once per batch, and `write(columns, row, parts_of(db, row, trace))` is
  then a few lookups per row. No `Decision` and no trace are built unless asked for
  (`?trace=true`): the trace costs more than the rest of a decision put together.
- `Decision.to_dict()` / `to_json()`: `materialize` reads the row's values through the
  same `Columns` (one row only: `Columns(db, row)`, a scalar read per column),
  builds the Decision's fields from them and the structured parts (action, offers,
  suppressions, profiles, trace, each built once), and hands the Decision a
  `DecisionForm` (those one-row columns and parts). The Decision's `to_dict()` calls the
  form's, which is `write`. Nothing is written until someone asks, so materialising a
  Decision costs what it did; and the form holds no reference to the batch, so a kept
  Decision does not keep its page of accounts alive, and it pickles.

The domain layer cannot import this module (`domain` is the bottom layer), so the
dependency is inverted: the Decision is given its form when it is made and knows only
that it has `to_dict()` and `to_json()`. A Decision changed with `dataclasses.replace`
is no longer what the engine decided and has no form (the form is not copied).

The parts that are values of their own (Action, Offer, Suppression, TraceStep, PolicyRef) are
built once per row by engine/decide/parts.py and written by their own `to_dict()`; money
and fees held as minor units are written with the domain's `money_json` and `fees_json`,
which `Money.to_json()` and `Fees.to_dict()` use too. The rest of the shape is `write`.
"""
from __future__ import annotations

import json

from arrears.engine.decide.parts import Parts, parts_of
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import PolicyRef, fees_json, rfc3339
from arrears.engine.domain.money import from_minor, money_json


class Columns:
    """A batch's per-account values as Python lists: of every row, or of row `row` only.

    Holds no reference to the batch. Index `i` is relative to the rows taken (0 for one row).
    """

    def __init__(self, db, row: int | None = None):
        f, p = db.facts, db.policy
        if row is None:
            def take(col) -> list:
                return col.tolist()
            self.ids = list(f.b.ids)
            self.contributions = db.contributions.tolist()
        else:                       # one row: scalar reads, cheaper than slicing every column
            def take(col) -> list:
                return [col.item(row)]
            self.ids = [f.b.ids[row]]
            self.contributions = [db.contributions[row].tolist()]
        self.now = db.now
        self.policy_ref = (p.name, p.version, p.digest, p.profiles_digest)
        self.currency = take(f.b.currency)
        self.balance, self.total_balance, self.overdue_balance, self.disputed_amount = (
            take(col) for col in (f.balance, f.total_balance, f.overdue_balance, f.disputed_amount))
        # Days past due mean nothing when nothing is open: null then.
        self.days_past_due = [d if total > 0 else None for d, total in zip(take(f.days_past_due),
                                                                          self.total_balance)]
        self.bucket = [str(b) for b in take(f.bucket_names)]
        self.scores = take(db.scores)
        self.factors = [fac.name for fac in p.factors]
        self.segments = [(name, take(f.segment_mask(name))) for name in p.segments]
        self.last_stage = [p.stages[k].id if k >= 0 else None for k in take(db.steps.last)]
        self.has_fees = bool(p.fees.late_fee or p.fees.interest)
        if self.has_fees:
            o = db.offers
            self.late_fee, self.interest = take(o.late_fee), take(o.interest)
            self.frozen, self.frozen_why = take(o.frozen), take(o.frozen_why)
        self.next_evaluation = take(db.next_evaluation)
        self._head = None

    def head(self) -> tuple[str, dict]:
        """(evaluated_at as RFC 3339, the policy's JSON): the same for every row, written once."""
        if self._head is None:
            self._head = (rfc3339(from_epoch(self.now)), PolicyRef(*self.policy_ref).to_dict())
        return self._head

    def segments_of(self, i: int) -> list[str]:
        """The policy's segments row `i` is in, in policy order."""
        return [name for name, mask in self.segments if mask[i]]

    def stage_of(self, i: int, action) -> str | None:
        """The decision's stage: the action's, else the stage last reached (None: none)."""
        return action.stage if action is not None else self.last_stage[i]



def minor_json(minor: int, currency: str) -> dict:
    """Minor units as Money JSON (what `Money.to_json()` writes for the same amount)."""
    return money_json(from_minor(minor, currency), currency)


def write(cols: Columns, i: int, parts: Parts) -> dict:
    """Row `i` of `cols` as the Decision's JSON (with `trace` when `parts` holds one)."""
    action, cur = parts.action, cols.currency[i]
    evaluated_at, policy = cols.head()
    fees = None
    if cols.has_fees:
        fees = fees_json(minor_json(cols.late_fee[i], cur), minor_json(cols.interest[i], cur),
                         bool(cols.frozen[i]), cols.frozen_why[i])
    out = {
        "account_id": cols.ids[i],
        "evaluated_at": evaluated_at,
        "policy": dict(policy),
        "days_past_due": cols.days_past_due[i],
        "bucket": cols.bucket[i],
        "balance": minor_json(cols.balance[i], cur),
        "total_balance": minor_json(cols.total_balance[i], cur),
        "overdue_balance": minor_json(cols.overdue_balance[i], cur),
        "disputed_amount": minor_json(cols.disputed_amount[i], cur),
        "priority": {"score": cols.scores[i], "contributions": dict(zip(cols.factors, cols.contributions[i]))},
        "segments": cols.segments_of(i),
        "stage": cols.stage_of(i, action),
        "action": None if action is None else action.to_dict(),
        "offers": [o.to_dict() for o in parts.offers],
        "suppressions": [s.to_dict() for s in parts.suppressions],
        "fees": fees,
        "profiles": list(parts.profiles),
        "next_evaluation_at": rfc3339(from_epoch(cols.next_evaluation[i])),
    }
    if parts.trace is not None:
        out["trace"] = [step.to_dict() for step in parts.trace]
    return out


def decision_dict(db, row: int, trace: bool = False, columns: Columns | None = None) -> dict:
    """Row `row` of `db` as the Decision's JSON, `trace` included if asked for, without building
    a `Decision`. `columns`: `Columns(db)`, if the caller keeps it for the batch."""
    return write(columns if columns is not None else Columns(db), row, parts_of(db, row, trace))


def to_json(d: dict) -> str:
    """Canonical JSON text of a decision's dict: sorted keys, no spaces, UTF-8 text (equal
    decisions, equal bytes)."""
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class DecisionForm:
    """What a `Decision` keeps to write its JSON: its row's columns and its parts."""

    __slots__ = ("columns", "parts")

    def __init__(self, columns: Columns, parts: Parts):
        self.columns, self.parts = columns, parts

    def to_dict(self) -> dict:
        """The Decision's JSON (a fresh dict each time)."""
        return write(self.columns, 0, self.parts)

    def to_json(self) -> str:
        """The Decision's canonical JSON text."""
        return to_json(self.to_dict())
