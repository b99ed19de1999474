"""The simulated history: the portfolio's columns, built once, and the events that grow.

`History` holds every account and invoice of the replay as the decision core's columns
(`arrears.engine.domain.batch.Batch`, built once from the CSV's accounts), the recorded events derived
from each invoice's fate (payments, disputes, write-offs; at the start of their day in
the debtor's zone) and the contacts the replay itself decides, appended as it goes.

`batch(rows, now)` cuts the `Batch` of some accounts as the store would hold it at
`now`: only invoices issued by then (an invoice enters on its invoice date) and events
up to `now`, in the order `Batch` requires. No model objects are built per evaluation:
each account's invoices and recorded events are a contiguous slice of sorted columns
(CSR offsets), and contacts are kept the same way, merged in once per simulated day.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.domain import tzutil
from arrears.engine.domain.batch import (
    EVENT_CODES,
    KIND_CODES,
    NO_DAY,
    NO_INVOICE,
    OUTCOME_CODES,
    Batch,
    epoch_day,
)
from arrears.engine.replay.columns import GrowingColumns, gather, obj_array
from arrears.engine.replay.csvmap import ReplayInput

WRITE_OFF = EVENT_CODES.get("write_off")    # None while the model has no write-off event
_ACCOUNT_FIELDS = ("currency", "scale", "tz", "debtor_type", "jurisdiction", "language", "tier", "tags",
                   "risk", "on_time", "reach", "prefs", "manager", "debtor", "extra_tz")
# Recorded events of one instant in the order they arrive: disputes before the money.
_ORDER = {EVENT_CODES["dispute_opened"]: 0, EVENT_CODES["dispute_resolved"]: 1, EVENT_CODES["payment"]: 2,
          WRITE_OFF: 3}
_SENT = OUTCOME_CODES["sent"]
_CONTACT = EVENT_CODES["contact_attempt"]


class History:
    """Columns of the whole replay and the contacts decided so far; see the module doc."""

    def __init__(self, data: ReplayInput, policy):
        accounts = data.accounts
        self.base = base = Batch.from_objects(accounts, [[] for _ in accounts])
        # Historical files rarely hold contact details; the replay assumes every channel
        # reaches a debtor whose row gives none (see docs/replay.md).
        bare = np.fromiter((not (a.contact.email or a.contact.phone or a.contact.mobile or a.contact.address)
                            for a in accounts), bool, count=len(accounts))
        base.reach = np.where(bare, sum(1 << code for code in KIND_CODES.values()), base.reach)
        self.n = base.n
        self.zones = [name or policy.default_timezone for name in base.tz_names]
        self.stage_ids = obj_array([s.id for s in policy.actions] + [None])
        self.inv_ptr = _offsets(base.inv_acct, self.n)
        self._fates(data)
        self._recorded()
        self.contacts = GrowingColumns(acct=np.int32, at=np.int64, kind=np.int8, stage=np.int16)
        self._settled = {k: np.empty(0, dtype=v.dtype) for k, v in self.contacts.empty().items()}
        self.c_ptr = np.zeros(self.n + 1, dtype=np.int64)

    # ---- building -------------------------------------------------------------------
    def midnight(self, acct: np.ndarray, day: np.ndarray) -> np.ndarray:
        """UTC instant at which local `day` starts for accounts `acct`."""
        return tzutil.local_midnight(self.zones, self.base.tz[acct], day)

    def _fates(self, data: ReplayInput) -> None:
        b = self.base
        k = len(b.inv_id)
        cols = {name: np.full(k, NO_DAY, dtype=np.int64) for name in ("settled", "written_off", "disputed",
                                                                      "resolved")}
        self.inv_line = np.zeros(k, dtype=np.int64)
        for i, (row, inv) in enumerate(zip(b.inv_acct.tolist(), b.inv_id.tolist())):
            fate = data.fates[(b.ids[row], inv)]
            self.inv_line[i] = fate.line
            for name, col in cols.items():
                day = getattr(fate, name)
                if day is not None:
                    col[i] = epoch_day(day)
        self.inv_settled, self.inv_written_off = cols["settled"], cols["written_off"]
        self.inv_disputed, self.inv_resolved = cols["disputed"], cols["resolved"]
        self.inv_issued = b.inv_issued.astype(np.int64)
        self.visible_at = self.midnight(b.inv_acct, self.inv_issued)

    def _recorded(self) -> None:
        """The events the CSV records, sorted by (account, time, arrival)."""
        b = self.base
        parts = [(EVENT_CODES["dispute_opened"], self.inv_disputed, 0),
                 (EVENT_CODES["dispute_resolved"], self.inv_resolved, 0),
                 (EVENT_CODES["payment"], self.inv_settled, 1)]
        if WRITE_OFF is not None:
            parts.append((WRITE_OFF, self.inv_written_off, 1))
        inv, types, days, amounts = [], [], [], []
        for code, col, with_amount in parts:
            rows = np.flatnonzero((col != NO_DAY) & ((b.inv_amount > 0) if with_amount else True))
            inv.append(rows)
            types.append(np.full(rows.size, code, dtype=np.int8))
            days.append(col[rows])
            amounts.append(b.inv_amount[rows] if with_amount else np.zeros(rows.size, dtype=np.int64))
        inv, types, days, amounts = (np.concatenate(x) for x in (inv, types, days, amounts))
        acct = b.inv_acct[inv]
        at = self.midnight(acct, days)
        rank = np.array([_ORDER[int(t)] for t in types], dtype=np.int64) if types.size else types
        order = np.lexsort((inv, rank, at, acct))
        self.s_acct, self.s_at, self.s_type = acct[order], at[order], types[order]
        self.s_amount, self.s_inv = amounts[order], inv[order].astype(np.int32)
        self.s_ptr = _offsets(self.s_acct, self.n)

    # ---- contacts -------------------------------------------------------------------
    def add_contacts(self, acct: np.ndarray, at: np.ndarray, kind: np.ndarray, stage: np.ndarray) -> None:
        """Record contacts sent at `at` (all `sent`: the replay assumes delivery)."""
        self.contacts.extend(acct=acct, at=at, kind=kind, stage=stage)

    def settle_contacts(self) -> None:
        """Merge the contacts recorded since the last call into the per-account columns
        (once per simulated day: until then `batch` finds them among the recent ones)."""
        new = self.contacts.take()
        if not len(new["acct"]):
            return
        # Newer than every settled contact: each goes at the end of its account's slice.
        order = np.argsort(new["acct"], kind="stable")
        where = self.c_ptr[new["acct"][order].astype(np.int64) + 1]
        self._settled = {k: np.insert(self._settled[k], where, new[k][order]) for k in new}
        self.c_ptr = _offsets(self._settled["acct"], self.n)

    # ---- cutting a batch --------------------------------------------------------------
    def batch(self, rows: np.ndarray, now: int) -> Batch:
        """The `Batch` of accounts `rows` (strictly increasing) as recorded at `now`."""
        b = self.base
        inv, inv_pos = gather(self.inv_ptr, rows)
        seen = self.visible_at[inv] <= now
        inv, inv_pos = inv[seen], inv_pos[seen]
        s, s_pos = gather(self.s_ptr, rows)
        happened = self.s_at[s] <= now
        s, s_pos = s[happened], s_pos[happened]
        settled = self._settled
        c, c_pos = gather(self.c_ptr, rows)
        made = settled["at"][c] <= now
        c, c_pos = c[made], c_pos[made]
        recent = self.contacts.view()
        pick = np.zeros(self.n, dtype=bool)
        pick[rows] = True
        r = np.flatnonzero(pick[recent["acct"]] & (recent["at"] <= now))
        r_pos = np.searchsorted(rows, recent["acct"][r])
        pos = np.concatenate((s_pos, c_pos, r_pos))
        at = np.concatenate((self.s_at[s], settled["at"][c], recent["at"][r]))
        ns, nc = len(s), len(c) + len(r)
        kind = np.concatenate((np.full(ns, -1, np.int8), settled["kind"][c], recent["kind"][r]))
        stage = np.concatenate((np.full(ns, -1, np.int16), settled["stage"][c], recent["stage"][r]))
        # Recorded events first at equal times, then contacts in the order they were made.
        order = np.lexsort((np.arange(len(pos)), at, pos))
        ev_inv = np.concatenate((np.searchsorted(inv, self.s_inv[s]).astype(np.int32),
                                 np.full(nc, NO_INVOICE, np.int32)))
        acc = {name: getattr(b, name)[rows] for name in _ACCOUNT_FIELDS}
        empty32 = np.empty(0, dtype=np.int32)
        return Batch(
            ids=[b.ids[i] for i in rows.tolist()], tz_names=b.tz_names, **acc,
            inv_acct=inv_pos.astype(np.int32), inv_id=b.inv_id[inv], inv_amount=b.inv_amount[inv],
            inv_due=b.inv_due[inv], inv_issued=b.inv_issued[inv],
            ev_acct=pos[order].astype(np.int32),
            ev_type=np.concatenate((self.s_type[s], np.full(nc, _CONTACT, np.int8)))[order],
            ev_at=at[order],
            ev_amount=np.concatenate((self.s_amount[s], np.zeros(nc, np.int64)))[order],
            ev_inv=ev_inv[order], ev_kind=kind[order],
            ev_outcome=np.concatenate((np.full(ns, -1, np.int8), np.full(nc, _SENT, np.int8)))[order],
            ev_stage=self.stage_ids[stage[order]],
            ev_until=np.full(len(pos), NO_DAY, dtype=np.int32),
            ev_detail=np.full(len(pos), None, dtype=object),      # replayed files carry no wishes
            pi_event=empty32, pi_due=empty32, pi_amount=np.empty(0, dtype=np.int64))

    def all_contacts(self) -> dict:
        """Every contact recorded so far, by account then time (settles pending ones)."""
        self.settle_contacts()
        return self._settled


def _offsets(sorted_rows: np.ndarray, n: int) -> np.ndarray:
    """CSR offsets: entries of row `i` are `[ptr[i], ptr[i+1])` of a column sorted by row."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_rows, minlength=n), out=ptr[1:])
    return ptr
