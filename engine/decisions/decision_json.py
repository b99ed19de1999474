"""The Decision's JSON, written in one place: from a `DecisionBatch`'s columns and a row.

Two callers need a decision's JSON, and both get it here, so its shape (keys, order, how
money, times and the priority are written) is defined once, in `write`:

- The API answers from the batch directly (`decision_dict`): `Columns(db)` turns the
  batch's columns into Python lists once per batch, an account's `Row` is then a few
  lookups, and `write` makes the dict. No `Decision` and no trace are built unless asked
  for (`?trace=true`): the trace costs more than the rest of a decision put together.
- `Decision.to_dict()` / `to_json()`: `materialize` reads the account's `Row` through the
  same `Columns` (one row only: `Columns(db, row)`, a scalar read per column), builds the
  Decision's fields from it and from the structured parts (action, offers, suppressions,
  profiles, trace: `parts_of`, each built once), and hands the Decision a `DecisionForm`
  (the batch's `Basis`, the `Row`, the parts). The Decision's `to_dict()` calls the
  form's, which is `write`. Nothing is written until someone asks, so materialising a
  Decision costs what it did. The form is a few plain values, no reference to the batch:
  a kept Decision does not keep its page of accounts alive (nor, with a large heap,
  make the garbage collector work harder), and it pickles.

The domain layer cannot import this module (`domain` is the bottom layer), so the
dependency is inverted: the Decision is given its form when it is made and knows only
that it has `to_dict()` and `to_json()`. A Decision changed with `dataclasses.replace`
is no longer what the engine decided and has no form (the form is not copied).

The parts that are values of their own (Action, Offer, Suppression, TraceStep, PolicyRef) are
built once per row by engine/decisions/parts.py and written by their own `to_dict()`; money
and fees held as minor units are written with the domain's `money_json` and `fees_json`,
which `Money.to_json()` and `Fees.to_dict()` use too. The rest of the shape is `write`.
"""
from __future__ import annotations

import json
from typing import NamedTuple

from arrears.engine.decisions.parts import Parts, parts_of
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import PolicyRef, fees_json, rfc3339
from arrears.engine.domain.money import from_minor, money_json


class Basis(NamedTuple):
    """What every row of a batch shares: the moment, the policy, the priority factors."""

    now: int                  # epoch seconds
    policy: tuple             # PolicyRef fields: name, version, digest, profiles_digest
    factors: tuple            # priority factor names, in policy order

    def head(self) -> tuple[str, dict]:
        """(evaluated_at as RFC 3339, the policy's JSON)."""
        return rfc3339(from_epoch(self.now)), PolicyRef(*self.policy).to_dict()


class Row(NamedTuple):
    """One account's values, as plain Python values (money in minor units)."""

    account_id: str
    currency: str
    days_past_due: int | None     # None when nothing is open
    bucket: str
    balance: int
    total_balance: int
    overdue_balance: int
    disputed_amount: int
    score: float
    contributions: tuple          # per priority factor (Basis.factors)
    segments: tuple               # the policy's segments it is in, in policy order
    last_stage: str | None        # the stage last reached; None: none
    fees: tuple | None            # (late fee, interest, frozen, note); None: the policy has no fees
    next_evaluation: int          # epoch seconds

    def stage(self, action) -> str | None:
        """The decision's stage: the action's, else the stage last reached."""
        return action.stage if action is not None else self.last_stage


class Columns:
    """A batch's per-account values as Python lists (every row, or row `row` only), from
    which `row(i)` gives one account's `Row`. Holds no reference to the batch."""

    def __init__(self, db, row: int | None = None):
        f, p = db.facts, db.policy
        if row is None:
            def take(col) -> list:
                return col.tolist()
            self.ids = list(f.b.ids)
            self.contributions = [tuple(c) for c in db.contributions.tolist()]
        else:                       # one row: scalar reads, cheaper than slicing every column
            def take(col) -> list:
                return [col.item(row)]
            self.ids = [f.b.ids[row]]
            self.contributions = [tuple(db.contributions[row].tolist())]
        self.basis = Basis(db.now, (p.name, p.version, p.digest, p.profiles_digest),
                           tuple(fac.name for fac in p.factors))
        self.currency = take(f.b.currency)
        self.balance, self.total_balance, self.overdue_balance, self.disputed_amount = (
            take(col) for col in (f.balance, f.total_balance, f.overdue_balance, f.disputed_amount))
        self.days_past_due = take(f.days_past_due)
        self.bucket = take(f.bucket_names)
        self.scores = take(db.scores)
        self.segments = [(name, take(f.segment_mask(name))) for name in p.segments]
        self.last_stage = [p.stages[k].id if k >= 0 else None for k in take(db.steps.last)]
        self.fees = None
        if p.fees.late_fee or p.fees.interest:
            o = db.offers
            self.fees = (take(o.late_fee), take(o.interest), take(o.frozen), take(o.frozen_why))
        self.next_evaluation = take(db.next_evaluation)
        self._head = None

    def head(self) -> tuple[str, dict]:
        """`Basis.head()`, written once for all the rows."""
        if self._head is None:
            self._head = self.basis.head()
        return self._head

    def row(self, i: int) -> Row:
        """Row `i` (relative to the rows taken: 0 for one row)."""
        total, fees = self.total_balance[i], self.fees
        if fees is not None:
            fees = (fees[0][i], fees[1][i], bool(fees[2][i]), fees[3][i])
        return Row(self.ids[i], self.currency[i],
                   # days past due mean nothing when nothing is open: null then
                   self.days_past_due[i] if total > 0 else None, str(self.bucket[i]),
                   self.balance[i], total, self.overdue_balance[i], self.disputed_amount[i],
                   self.scores[i], self.contributions[i],
                   tuple([name for name, mask in self.segments if mask[i]]), self.last_stage[i], fees,
                   self.next_evaluation[i])


def minor_json(minor: int, currency: str) -> dict:
    """Minor units as Money JSON (what `Money.to_json()` writes for the same amount)."""
    return money_json(from_minor(minor, currency), currency)


def write(head: tuple[str, dict], factors: tuple, r: Row, parts: Parts) -> dict:
    """One decision's JSON: `head` (evaluated_at, policy JSON) and `factors` are the batch's
    (`Columns.head()`, `Basis.factors`), `r` the account's row, `parts` its structured parts
    (with `trace` when they hold one)."""
    action, cur = parts.action, r.currency
    fees = r.fees
    out = {
        "account_id": r.account_id,
        "evaluated_at": head[0],
        "policy": dict(head[1]),
        "days_past_due": r.days_past_due,
        "bucket": r.bucket,
        "balance": minor_json(r.balance, cur),
        "total_balance": minor_json(r.total_balance, cur),
        "overdue_balance": minor_json(r.overdue_balance, cur),
        "disputed_amount": minor_json(r.disputed_amount, cur),
        "priority": {"score": r.score, "contributions": dict(zip(factors, r.contributions))},
        "segments": list(r.segments),
        "stage": r.stage(action),
        "action": None if action is None else action.to_dict(),
        "offers": [o.to_dict() for o in parts.offers],
        "suppressions": [s.to_dict() for s in parts.suppressions],
        "fees": None if fees is None else fees_json(minor_json(fees[0], cur), minor_json(fees[1], cur),
                                                     fees[2], fees[3]),
        "profiles": list(parts.profiles),
        "next_evaluation_at": rfc3339(from_epoch(r.next_evaluation)),
    }
    if parts.trace is not None:
        out["trace"] = [step.to_dict() for step in parts.trace]
    return out


def decision_dict(db, row: int, trace: bool = False, columns: Columns | None = None) -> dict:
    """Row `row` of `db` as the Decision's JSON, `trace` included if asked for, without building
    a `Decision`. `columns`: `Columns(db)`, if the caller keeps it for the batch."""
    cols = columns if columns is not None else Columns(db)
    return write(cols.head(), cols.basis.factors, cols.row(row), parts_of(db, row, trace))


def to_json(d: dict) -> str:
    """Canonical JSON text of a decision's dict: sorted keys, no spaces, UTF-8 text (equal
    decisions, equal bytes)."""
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class DecisionForm:
    """What a `Decision` keeps to write its JSON: the batch's basis, its row and its parts
    (plain values, so a kept Decision holds little and nothing of the batch)."""

    __slots__ = ("basis", "row", "parts")

    def __init__(self, basis: Basis, row: Row, parts: Parts):
        self.basis, self.row, self.parts = basis, row, parts

    def to_dict(self) -> dict:
        """The Decision's JSON (a fresh dict each time)."""
        return write(self.basis.head(), self.basis.factors, self.row, self.parts)

    def to_json(self) -> str:
        """The Decision's canonical JSON text."""
        return to_json(self.to_dict())
