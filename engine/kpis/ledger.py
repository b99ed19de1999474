"""Ledger: a portfolio's history as numpy columns, the one input of the KPI computations.

Accounts are rows `0..n-1`; every other table is a set of flat columns whose `acct`
column holds an account row. Days are epoch days (days since 1970-01-01, see
`arrears.engine.domain.batch.epoch_day`), the debtor's own calendar days; money is int64 minor units
of the account's currency. Build one with `Ledger.build(...)` (a replay does) or
`arrears.engine.kpis.ledger_from_store` / `ledger_from_batch` (from the store / a `Batch`).

- accounts: `account_ids` (object: external ids), `acct_keys` (int64: the store's `acct_no`,
  or any unique key), `currency` (object: ISO 4217 codes).
- `invoices`: acct, amount, issued_day, due_day. Receivables, **sorted by (acct, due_day)**
  (ties by invoice id), the order the decision core allocates payments in; an invoice
  counts from its `issued_day`.
- `payments`, `credit_notes`, `write_offs`: acct, day, amount, invoice. Money received
  (collections); amounts no longer owed (not collections); bad debt written off.
- `disputes`: acct, day, invoice, opened. `dispute_opened` (opened) and `dispute_resolved`
  events, in time order.
- `contacts`: acct, day, kind, outcome, reported. `contact_attempt` (reported False) and
  `contact_outcome` (True) events; kind and outcome are `arrears.engine.domain.batch.KIND_CODES` and
  `OUTCOME_CODES` codes.
- `promises`: acct, made_day, until_day, amount. `promise_to_pay` events.
- `stages`: acct, day, stage (object: a stage id or None). Stored decisions: the stage
  decided on that day.
- `segments`: names, days (m), member (bool, m x names x n). The policy's segments each
  account was in at the end of each of `days`.
- `labels`: name -> object array (n). Further per-account labels, usable as `group_by`
  (a replay's policy arm, say).

`invoice` columns hold a row of `invoices` (of the same account), -1 for none, -2 for an
id the account does not have (such money is allocated like unassigned money). Money
flows are applied as of the end of their day. Tables other than `invoices` are sorted
by (acct, day) on construction, keeping the given order within a day.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from arrears.engine.domain.batch import KIND_CODES
from arrears.engine.domain.money import check_currency
from arrears.engine.kpis.tables import Contacts, Disputes, Flows, Invoices, Promises, Segments, Stages, ints

__all__ = ["Contacts", "Disputes", "Flows", "Invoices", "Ledger", "Promises", "Segments", "Stages",
           "concat", "object_array", "pages", "shared_array", "subset"]
_TABLES = ("invoices", "payments", "credit_notes", "write_offs", "disputes", "contacts", "promises", "stages")


def object_array(values) -> np.ndarray:
    """An object array of `values` (strings, None) that numpy does not reinterpret."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def shared_array(values) -> np.ndarray:
    """`object_array(values)` for columns of few distinct values (currencies, stage ids): equal
    values share one object, so a million rows cost a million pointers, not a million strings."""
    one: dict = {}
    return object_array([one.setdefault(v, v) for v in values])


@dataclass(frozen=True)
class Ledger:
    """A portfolio's history (see the module docstring for every table)."""

    account_ids: np.ndarray
    acct_keys: np.ndarray
    currency: np.ndarray
    invoices: Invoices = field(default_factory=Invoices.of)
    payments: Flows = field(default_factory=Flows.of)
    credit_notes: Flows = field(default_factory=Flows.of)
    write_offs: Flows = field(default_factory=Flows.of)
    disputes: Disputes = field(default_factory=Disputes.of)
    contacts: Contacts = field(default_factory=Contacts.of)
    promises: Promises = field(default_factory=Promises.of)
    stages: Stages = field(default_factory=Stages.of)
    segments: Segments | None = None
    labels: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of accounts."""
        return len(self.account_ids)

    @classmethod
    def build(cls, account_ids, currency, *, acct_keys=None, **tables) -> "Ledger":
        """A checked ledger from account columns and tables (`Invoices.of(...)`, `Flows.of(...)` …).

        Raises ValueError naming the table and what is wrong.
        """
        ids = object_array(account_ids)
        keys = np.arange(1, len(ids) + 1, dtype=np.int64) if acct_keys is None else ints(acct_keys, np.int64)
        ledger = cls(ids, keys, object_array(currency), **tables)
        ledger.check()
        return ledger

    def __post_init__(self):
        if self.segments is None:
            object.__setattr__(self, "segments", Segments.none(self.n))

    def check(self) -> None:
        """Raise ValueError unless every table is consistent with the accounts."""
        n = self.n
        if len(self.acct_keys) != n or len(self.currency) != n:
            raise ValueError("accounts: account_ids, acct_keys and currency must have the same length")
        for i, cur in enumerate(self.currency.tolist()):
            check_currency(cur, f"accounts[{i}].currency")
        for name, value in self.labels.items():
            if len(value) != n:
                raise ValueError(f"labels[{name!r}]: expected {n} values, got {len(value)}")
        inv = self.invoices
        for name in ("invoices", "payments", "credit_notes", "write_offs", "disputes", "contacts",
                     "promises", "stages"):
            table = getattr(self, name)
            lengths = {f.name: len(getattr(table, f.name)) for f in fields(table)}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"{name}: columns of different lengths {lengths}")
            bad = np.flatnonzero((table.acct < 0) | (table.acct >= n))
            if bad.size:
                raise ValueError(f"{name}[{bad[0]}]: account row {table.acct[bad[0]]} is not in 0..{n - 1}")
            amount = getattr(table, "amount", None)
            if amount is not None and (amount < (0 if name == "invoices" else 1)).any():
                raise ValueError(f"{name}: amounts must be {'>= 0' if name == 'invoices' else '> 0'}")
            ref = getattr(table, "invoice", None)
            if ref is not None and len(ref):
                own = ref >= 0
                if (ref >= len(inv)).any() or (ref < -2).any() or \
                        (own.any() and (inv.acct[ref[own]] != table.acct[own]).any()):
                    raise ValueError(f"{name}: invoice rows must be -1, -2 or an invoice of the same account")
        kinds = self.contacts.kind
        if ((kinds < 0) | (kinds >= len(KIND_CODES))).any():
            raise ValueError(f"contacts: channel kind codes must be 0..{len(KIND_CODES) - 1} (KIND_CODES)")
        if len(inv) > 1:
            step = np.diff(inv.acct.astype(np.int64) * (1 << 32) + inv.due_day)
            if (step < 0).any():
                raise ValueError("invoices: must be sorted by (acct, due_day)")
        seg = self.segments
        if seg.member.shape != (len(seg.days), len(seg.names), n) or (np.diff(seg.days) <= 0).any():
            raise ValueError("segments: member must be (days, names, accounts) with increasing days")


def concat(parts: list, segment_names=(), segment_days=()) -> Ledger:
    """One ledger from several (accounts appended in order; rows and invoice references shifted);
    with no parts, an empty ledger with these segment names and days."""
    if not parts:
        days = sorted({int(d) for d in segment_days})
        member = np.zeros((len(days), len(segment_names), 0), dtype=bool)
        return Ledger(object_array([]), np.zeros(0, np.int64), object_array([]),
                      segments=Segments(tuple(segment_names), np.asarray(days, np.int32), member))
    if len(parts) == 1:
        return parts[0]
    acct_off = np.cumsum([0] + [p.n for p in parts[:-1]])
    inv_off = np.cumsum([0] + [len(p.invoices) for p in parts[:-1]])
    tables = {}
    for name in _TABLES:
        cls = type(getattr(parts[0], name))
        cols = {}
        for f in fields(cls):
            pieces = []
            for p, ao, io in zip(parts, acct_off, inv_off):
                col = getattr(getattr(p, name), f.name)
                if f.name == "acct":
                    col = col + np.int32(ao)
                elif f.name == "invoice":
                    col = np.where(col >= 0, col + np.int32(io), col).astype(np.int32)
                pieces.append(col)
            cols[f.name] = np.concatenate(pieces)
        tables[name] = cls(**cols)
    seg = parts[0].segments
    member = np.concatenate([p.segments.member for p in parts], axis=2)
    return Ledger(account_ids=np.concatenate([p.account_ids for p in parts]),
                  acct_keys=np.concatenate([p.acct_keys for p in parts]),
                  currency=np.concatenate([p.currency for p in parts]),
                  segments=Segments(seg.names, seg.days, member),
                  **tables)


def subset(ledger: Ledger, keep: np.ndarray) -> Ledger:
    """The ledger of the accounts `keep` (a bool mask of rows), in their order: rows renumbered,
    invoice references following their invoices, every table's order kept."""
    keep = np.asarray(keep, dtype=bool)
    new_row = (np.cumsum(keep) - 1).astype(np.int32)
    inv_kept = keep[ledger.invoices.acct]
    new_inv = (np.cumsum(inv_kept) - 1).astype(np.int32)
    tables = {}
    for name in _TABLES:
        table = getattr(ledger, name)
        rows = keep[table.acct]
        cols = {}
        for f in fields(table):
            col = getattr(table, f.name)[rows]
            if f.name == "acct":
                col = new_row[col]
            elif f.name == "invoice":
                col = np.where(col >= 0, new_inv[np.maximum(col, 0)], col).astype(np.int32)
            cols[f.name] = col
        tables[name] = type(table)(**cols)
    seg = ledger.segments
    return Ledger(account_ids=ledger.account_ids[keep], acct_keys=ledger.acct_keys[keep],
                  currency=ledger.currency[keep], segments=Segments(seg.names, seg.days, seg.member[:, :, keep]),
                  labels={k: v[keep] for k, v in ledger.labels.items()}, **tables)


def pages(ledger: Ledger, size: int):
    """The ledger as consecutive ledgers of at most `size` accounts (rows renumbered from 0,
    invoice references following their invoices), each a view of the ledger's columns but for
    the `acct` and `invoice` columns; the whole ledger if it is not larger, or if a table is not
    in account order (every ledger built by this package is: `Table.of` sorts)."""
    n = ledger.n
    if n <= size or not all((np.diff(getattr(ledger, name).acct) >= 0).all() for name in _TABLES):
        yield ledger
        return
    bounds = {name: np.searchsorted(getattr(ledger, name).acct, np.arange(0, n + size, size).clip(max=n))
              for name in _TABLES}
    seg = ledger.segments
    for i, lo in enumerate(range(0, n, size)):
        hi = min(n, lo + size)
        first_invoice = np.int32(bounds["invoices"][i])
        tables = {}
        for name in _TABLES:
            table = getattr(ledger, name)
            a, b = bounds[name][i], bounds[name][i + 1]
            cols = {}
            for f in fields(table):
                col = getattr(table, f.name)[a:b]
                if f.name == "acct":
                    col = col - np.int32(lo)
                elif f.name == "invoice":
                    col = np.where(col >= 0, col - first_invoice, col).astype(np.int32)
                cols[f.name] = col
            tables[name] = type(table)(**cols)
        yield Ledger(account_ids=ledger.account_ids[lo:hi], acct_keys=ledger.acct_keys[lo:hi],
                     currency=ledger.currency[lo:hi],
                     segments=Segments(seg.names, seg.days, seg.member[:, :, lo:hi]),
                     labels={k: v[lo:hi] for k, v in ledger.labels.items()}, **tables)
