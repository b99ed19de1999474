"""Batch: many accounts and their histories as flat columns (numpy arrays).

The decision core evaluates a whole batch column-wise. Accounts are rows
`0..n-1`; invoices and events are flat arrays pointing at their account row.
Invoices are sorted by (account, due date, id) so payments can be allocated oldest
first; events by (account, time). Money is int64 minor units; dates are epoch days
(days since 1970-01-01); instants are epoch seconds (UTC).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from arrears.engine.domain.kinds import KIND_CODES  # noqa: F401  (the kinds' codes, re-exported)
from arrears.engine.domain.model import CONTACT_OUTCOMES, EVENT_TYPES, Account, Event
from arrears.engine.domain.money import exponent, to_minor

EVENT_CODES = {name: i for i, name in enumerate(EVENT_TYPES)}
OUTCOME_CODES = {name: i for i, name in enumerate(CONTACT_OUTCOMES)}
NO_DAY = np.iinfo(np.int32).min      # "no date" in an epoch-day column
NO_INVOICE, UNKNOWN_INVOICE = -1, -2
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def epoch_day(d: date) -> int:
    """Days since 1970-01-01."""
    return d.toordinal() - _EPOCH_ORDINAL


def day_to_date(day: int) -> date:
    """Inverse of `epoch_day`."""
    return date.fromordinal(int(day) + _EPOCH_ORDINAL)


@dataclass
class Batch:
    """Columns of a batch of accounts, invoices, events and plan instalments."""

    # accounts (n rows)
    ids: list
    currency: np.ndarray          # object: ISO 4217 codes
    scale: np.ndarray             # int64: 10 ** minor-unit exponent
    tz_names: list                # zone names; None = the policy's default zone
    tz: np.ndarray                # int32 index into tz_names
    debtor_type: np.ndarray       # object
    jurisdiction: np.ndarray      # object (None if unknown)
    language: np.ndarray          # object (None if unknown)
    tier: np.ndarray              # object (None if unknown)
    tags: np.ndarray              # object: frozenset per account
    risk: np.ndarray              # float64, nan if unknown
    on_time: np.ndarray           # float64, nan if unknown
    reach: np.ndarray             # int64 bitmask of reachable channel kinds
    prefs: np.ndarray             # object: tuple of preferred channel kinds
    manager: np.ndarray           # object: account manager or None
    debtor: np.ndarray            # object: debtor id (the account id when none is given)
    extra_tz: np.ndarray          # object: tuple of further zone names (usually empty)
    # invoices
    inv_acct: np.ndarray          # int32
    inv_id: np.ndarray            # object
    inv_amount: np.ndarray        # int64 minor units
    inv_due: np.ndarray           # int32 epoch day
    # events
    ev_acct: np.ndarray           # int32
    ev_type: np.ndarray           # int8 code (EVENT_CODES)
    ev_at: np.ndarray             # int64 epoch seconds
    ev_amount: np.ndarray         # int64 minor units (0 if none)
    ev_inv: np.ndarray            # int32 global invoice row, NO_INVOICE or UNKNOWN_INVOICE
    ev_kind: np.ndarray           # int8 channel kind code or -1
    ev_outcome: np.ndarray        # int8 outcome code or -1
    ev_stage: np.ndarray          # object: stage id or None
    ev_until: np.ndarray          # int32 epoch day or NO_DAY
    # payment-plan instalments
    pi_event: np.ndarray          # int32 event row of the plan
    pi_due: np.ndarray            # int32 epoch day
    pi_amount: np.ndarray         # int64 minor units
    inv_issued: np.ndarray | None = None   # int32 epoch day or NO_DAY (optional column)
    # object: an event's representative or wishes as canonical JSON, else None (optional column;
    # read by the facts only for the few events that carry one: engine/domain/requests.py)
    ev_detail: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of accounts."""
        return len(self.ids)

    def take(self, rows) -> "Batch":
        """The accounts `rows` (strictly increasing row numbers) with their invoices, events and
        plan instalments, as a batch of their own: the same columns, nothing read again. The
        tick splits a loaded page by experiment strategy with it."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == self.n:
            return self
        new_row = np.full(self.n, -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows))
        inv = np.flatnonzero(new_row[self.inv_acct] >= 0)
        ev = np.flatnonzero(new_row[self.ev_acct] >= 0)
        inv_row = np.full(len(self.inv_acct), UNKNOWN_INVOICE, dtype=np.int64)
        inv_row[inv] = np.arange(len(inv))
        ev_row = np.full(len(self.ev_acct), -1, dtype=np.int64)
        ev_row[ev] = np.arange(len(ev))
        pi = np.flatnonzero(ev_row[self.pi_event] >= 0)
        ev_inv = self.ev_inv[ev]
        linked = ev_inv >= 0      # NO_INVOICE and UNKNOWN_INVOICE stay as they are
        ev_inv = np.where(linked, inv_row[np.where(linked, ev_inv, 0)], ev_inv).astype(np.int32)
        ids = self.ids
        return Batch(
            ids=[ids[i] for i in rows.tolist()], currency=self.currency[rows], scale=self.scale[rows],
            tz_names=self.tz_names, tz=self.tz[rows], debtor_type=self.debtor_type[rows],
            jurisdiction=self.jurisdiction[rows], language=self.language[rows], tier=self.tier[rows],
            tags=self.tags[rows], risk=self.risk[rows], on_time=self.on_time[rows], reach=self.reach[rows],
            prefs=self.prefs[rows], manager=self.manager[rows], debtor=self.debtor[rows],
            extra_tz=self.extra_tz[rows],
            inv_acct=new_row[self.inv_acct[inv]].astype(np.int32), inv_id=self.inv_id[inv],
            inv_amount=self.inv_amount[inv], inv_due=self.inv_due[inv],
            ev_acct=new_row[self.ev_acct[ev]].astype(np.int32), ev_type=self.ev_type[ev],
            ev_at=self.ev_at[ev],
            ev_amount=self.ev_amount[ev], ev_inv=ev_inv, ev_kind=self.ev_kind[ev],
            ev_outcome=self.ev_outcome[ev], ev_stage=self.ev_stage[ev], ev_until=self.ev_until[ev],
            pi_event=ev_row[self.pi_event[pi]].astype(np.int32), pi_due=self.pi_due[pi],
            pi_amount=self.pi_amount[pi],
            inv_issued=None if self.inv_issued is None else self.inv_issued[inv],
            ev_detail=None if self.ev_detail is None else self.ev_detail[ev],
        )

    @classmethod
    def from_objects(cls, accounts: list[Account], histories: list[list[Event]]) -> "Batch":
        """Build columns from parsed accounts and one event list per account."""
        if len(accounts) != len(histories):
            raise ValueError("one event history per account is required")
        tz_index: dict = {}
        acc_cols = {k: [] for k in ("currency", "scale", "tz", "debtor_type", "jurisdiction",
                                    "language", "tier", "tags", "risk", "on_time", "reach",
                                    "prefs", "manager", "debtor", "extra_tz")}
        inv = {k: [] for k in ("acct", "id", "amount", "due", "issued")}
        ev = {k: [] for k in ("acct", "type", "at", "amount", "inv", "kind", "outcome", "stage",
                              "until", "detail")}
        pis = {k: [] for k in ("event", "due", "amount")}
        for row, (acc, events) in enumerate(zip(accounts, histories)):
            cur = acc.currency
            acc_cols["currency"].append(cur)
            acc_cols["scale"].append(10 ** exponent(cur))
            acc_cols["tz"].append(tz_index.setdefault(acc.timezone, len(tz_index)))
            acc_cols["debtor_type"].append(acc.debtor_type)
            acc_cols["jurisdiction"].append(acc.jurisdiction)
            acc_cols["language"].append(acc.language)
            acc_cols["tier"].append(acc.relationship_tier)
            acc_cols["tags"].append(acc.tags)
            acc_cols["risk"].append(np.nan if acc.risk_score is None else acc.risk_score)
            acc_cols["on_time"].append(np.nan if acc.on_time_ratio is None else acc.on_time_ratio)
            acc_cols["reach"].append(sum(1 << KIND_CODES[k] for k in acc.contact.reachable_kinds()))
            acc_cols["prefs"].append(acc.contact.preferred_channels)
            acc_cols["manager"].append(acc.account_manager)
            acc_cols["debtor"].append(acc.debtor_id or acc.id)
            acc_cols["extra_tz"].append(acc.other_timezones)
            rows = {}
            for invoice in sorted(acc.invoices, key=lambda i: (i.due_date, i.id)):
                rows[invoice.id] = len(inv["id"])
                inv["acct"].append(row)
                inv["id"].append(invoice.id)
                inv["amount"].append(to_minor(invoice.amount, cur, f"{acc.id}: invoice {invoice.id}"))
                inv["due"].append(epoch_day(invoice.due_date))
                inv["issued"].append(NO_DAY if invoice.issued_date is None else epoch_day(invoice.issued_date))
            # Whole seconds, then arrival order: the same order the store keeps.
            for position, event in sorted(enumerate(events),
                                          key=lambda p: (int(p[1].at.timestamp()), p[0])):
                ev_row = len(ev["type"])
                ev["acct"].append(row)
                ev["type"].append(EVENT_CODES[event.type])
                ev["at"].append(int(event.at.timestamp()))
                ev["amount"].append(0 if event.amount is None
                                    else to_minor(event.amount, cur,
                                                  f"{acc.id}: events[{position}] ({event.type})"))
                ev["inv"].append(NO_INVOICE if event.invoice_id is None
                                 else rows.get(event.invoice_id, UNKNOWN_INVOICE))
                ev["kind"].append(KIND_CODES.get(event.channel, -1))
                ev["outcome"].append(OUTCOME_CODES.get(event.outcome, -1))
                ev["stage"].append(event.stage)
                ev["until"].append(NO_DAY if event.until is None else epoch_day(event.until))
                ev["detail"].append(event.detail_json)
                for due, amount in event.instalments:
                    pis["event"].append(ev_row)
                    pis["due"].append(epoch_day(due))
                    pis["amount"].append(to_minor(amount, cur,
                                                  f"{acc.id}: events[{position}] (instalment {due})"))
        return cls(
            ids=[a.id for a in accounts],
            currency=_obj(acc_cols["currency"]),
            scale=np.asarray(acc_cols["scale"], dtype=np.int64),
            tz_names=list(tz_index),
            tz=np.asarray(acc_cols["tz"], dtype=np.int32),
            debtor_type=_obj(acc_cols["debtor_type"]),
            jurisdiction=_obj(acc_cols["jurisdiction"]),
            language=_obj(acc_cols["language"]),
            tier=_obj(acc_cols["tier"]),
            tags=_obj(acc_cols["tags"]),
            risk=np.asarray(acc_cols["risk"], dtype=np.float64),
            on_time=np.asarray(acc_cols["on_time"], dtype=np.float64),
            reach=np.asarray(acc_cols["reach"], dtype=np.int64),
            prefs=_obj(acc_cols["prefs"]),
            manager=_obj(acc_cols["manager"]),
            debtor=_obj(acc_cols["debtor"]),
            extra_tz=_obj(acc_cols["extra_tz"]),
            inv_acct=np.asarray(inv["acct"], dtype=np.int32),
            inv_id=_obj(inv["id"]),
            inv_amount=np.asarray(inv["amount"], dtype=np.int64),
            inv_due=np.asarray(inv["due"], dtype=np.int32),
            ev_acct=np.asarray(ev["acct"], dtype=np.int32),
            ev_type=np.asarray(ev["type"], dtype=np.int8),
            ev_at=np.asarray(ev["at"], dtype=np.int64),
            ev_amount=np.asarray(ev["amount"], dtype=np.int64),
            ev_inv=np.asarray(ev["inv"], dtype=np.int32),
            ev_kind=np.asarray(ev["kind"], dtype=np.int8),
            ev_outcome=np.asarray(ev["outcome"], dtype=np.int8),
            ev_stage=_obj(ev["stage"]),
            ev_until=np.asarray(ev["until"], dtype=np.int32),
            pi_event=np.asarray(pis["event"], dtype=np.int32),
            pi_due=np.asarray(pis["due"], dtype=np.int32),
            pi_amount=np.asarray(pis["amount"], dtype=np.int64),
            inv_issued=np.asarray(inv["issued"], dtype=np.int32),
            ev_detail=_obj(ev["detail"]),
        )


def _obj(values: list) -> np.ndarray:
    """An object array that keeps tuples and frozensets as single elements."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
