"""The Ledger's column tables (engine/kpis/ledger.py describes each): numpy arrays, built
with `Table.of(...)` from lists or arrays, checked as a whole by `Ledger.check`."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from arrears.engine.domain.batch import KIND_CODES, NO_DAY, OUTCOME_CODES


def ints(values, dtype) -> np.ndarray:
    """A flat array of `dtype` from a list or an array (None: empty)."""
    return np.asarray([] if values is None else values, dtype=dtype).reshape(-1)


def _order(acct: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Stable order by (acct, day): the given order survives within a day."""
    return np.lexsort((day, acct)) if acct.size else np.zeros(0, dtype=np.int64)


def _codes(values, table: dict, what: str) -> np.ndarray:
    """Codes of channel kinds / outcomes given as names or as codes already."""
    arr = np.asarray([] if values is None else values).reshape(-1)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int8)
    try:
        return np.asarray([table[v] for v in arr.tolist()], dtype=np.int8)
    except KeyError as exc:
        raise ValueError(f"unknown {what} {exc.args[0]!r}; known: {', '.join(table)}") from None


class _Table:
    """Shared behaviour of the column tables: length, row selection, sorting."""

    _day = "day"              # the day column the table is sorted by, after the account

    def __len__(self) -> int:
        return len(self.acct)

    def take(self, rows):
        """The table restricted to `rows` (a boolean mask or row indexes)."""
        return type(self)(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def _sorted(self):
        order = _order(self.acct, getattr(self, self._day))
        return self.take(order)


@dataclass(frozen=True)
class Invoices(_Table):
    """Receivables (see the module docstring)."""

    _day = "due_day"
    acct: np.ndarray          # int32 account row
    amount: np.ndarray        # int64 minor units
    issued_day: np.ndarray    # int32 epoch day it became a receivable
    due_day: np.ndarray       # int32 epoch day

    @classmethod
    def of(cls, acct=None, amount=None, due_day=None, issued_day=None) -> "Invoices":
        """Invoices already sorted by (acct, due_day); an unknown issue day (None, NO_DAY)
        is taken to be the due day."""
        due = ints(due_day, np.int32)
        issued = due.copy() if issued_day is None else np.asarray(issued_day).reshape(-1)
        if issued.dtype == object:
            issued = np.asarray([NO_DAY if d is None else d for d in issued.tolist()], dtype=np.int32)
        if issued.shape != due.shape:
            raise ValueError(f"invoices: {issued.size} issue days for {due.size} due days")
        issued = np.where(issued == NO_DAY, due, issued).astype(np.int32)
        return cls(ints(acct, np.int32), ints(amount, np.int64), issued, due)


@dataclass(frozen=True)
class Flows(_Table):
    """Payments, credit notes or write-offs."""

    acct: np.ndarray          # int32
    day: np.ndarray           # int32
    amount: np.ndarray        # int64 minor units, > 0
    invoice: np.ndarray       # int32 invoice row, -1 none, -2 unknown id

    @classmethod
    def of(cls, acct=None, day=None, amount=None, invoice=None) -> "Flows":
        """Money movements, sorted by (acct, day) here."""
        a = ints(acct, np.int32)
        inv = np.full(a.size, -1, dtype=np.int32) if invoice is None else ints(invoice, np.int32)
        return cls(a, ints(day, np.int32), ints(amount, np.int64), inv)._sorted()


@dataclass(frozen=True)
class Disputes(_Table):
    """Disputes opened and resolved, per invoice or account-wide."""

    acct: np.ndarray          # int32
    day: np.ndarray           # int32
    invoice: np.ndarray       # int32 invoice row, -1 the whole account, -2 unknown id
    opened: np.ndarray        # bool: dispute_opened (True) or dispute_resolved

    @classmethod
    def of(cls, acct=None, day=None, invoice=None, opened=None) -> "Disputes":
        """Dispute events in time order per account (sorted by (acct, day) here)."""
        a = ints(acct, np.int32)
        inv = np.full(a.size, -1, dtype=np.int32) if invoice is None else ints(invoice, np.int32)
        return cls(a, ints(day, np.int32), inv, ints(opened, bool))._sorted()


@dataclass(frozen=True)
class Contacts(_Table):
    """Contact attempts and reported outcomes."""

    acct: np.ndarray          # int32
    day: np.ndarray           # int32
    kind: np.ndarray          # int8 channel kind code (KIND_CODES), -1 unknown
    outcome: np.ndarray       # int8 outcome code (OUTCOME_CODES), -1 none
    reported: np.ndarray      # bool: a contact_outcome event (else a contact_attempt)

    @classmethod
    def of(cls, acct=None, day=None, kind=None, outcome=None, reported=None) -> "Contacts":
        """Contact events; `kind` and `outcome` as names ("call", "conversation") or codes."""
        a = ints(acct, np.int32)
        rep = np.zeros(a.size, dtype=bool) if reported is None else ints(reported, bool)
        return cls(a, ints(day, np.int32), _codes(kind, KIND_CODES, "channel kind"),
                   _codes(outcome, OUTCOME_CODES, "contact outcome"), rep)._sorted()


@dataclass(frozen=True)
class Promises(_Table):
    """Promises to pay."""

    _day = "made_day"
    acct: np.ndarray          # int32
    made_day: np.ndarray      # int32 day the promise was made
    until_day: np.ndarray     # int32 day the debtor promised to pay by
    amount: np.ndarray        # int64 minor units promised

    @classmethod
    def of(cls, acct=None, made_day=None, until_day=None, amount=None) -> "Promises":
        """Promises to pay, sorted by (acct, made_day) here."""
        return cls(ints(acct, np.int32), ints(made_day, np.int32), ints(until_day, np.int32),
                   ints(amount, np.int64))._sorted()


@dataclass(frozen=True)
class Stages(_Table):
    """Stages of stored decisions, and the experiment strategy each was made under."""

    acct: np.ndarray          # int32
    day: np.ndarray           # int32 day of the decision
    stage: np.ndarray         # object: stage id, or None (no stage reached)
    strategy: np.ndarray      # object: the decision's experiment strategy, or None (outside one)

    @classmethod
    def of(cls, acct=None, day=None, stage=None, strategy=None) -> "Stages":
        """Decided stages, sorted by (acct, day) here; the last one of a day wins. `strategy`
        (default: None each)."""
        n = 0 if stage is None else len(stage)
        values, strategies = np.empty(n, dtype=object), np.empty(n, dtype=object)
        if stage is not None:
            values[:] = list(stage)
        if strategy is not None:
            strategies[:] = list(strategy)
        return cls(ints(acct, np.int32), ints(day, np.int32), values, strategies)._sorted()


@dataclass(frozen=True)
class Segments:
    """Segment membership snapshots."""

    names: tuple              # segment names, in policy order
    days: np.ndarray          # int32 (m): the days the membership was evaluated at (end of day)
    member: np.ndarray        # bool (m, len(names), n)

    @classmethod
    def none(cls, n: int = 0) -> "Segments":
        """No segment information."""
        return cls((), np.zeros(0, dtype=np.int32), np.zeros((0, 0, n), dtype=bool))

    def at(self, day: int) -> np.ndarray | None:
        """Membership (segments x accounts) of the latest snapshot at or before `day`, else None."""
        i = int(np.searchsorted(self.days, day, side="right")) - 1
        return None if i < 0 else self.member[i]
