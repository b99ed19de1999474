"""load_batch: the decision core's columns straight from SQL rows, no model objects.

Row `i` of the returned `Batch` is the account `acct_nos[i]`; callers pass strictly
increasing surrogate keys (as `due_accounts` pages them), which lets one ordered scan
per table produce the order `Batch` requires: invoices by (account, due day, id),
events by (account, time, then arrival order).
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
from sqlalchemy import Connection, collate, select

from engine.batch import EVENT_CODES, KIND_CODES, NO_DAY, NO_INVOICE, OUTCOME_CODES, UNKNOWN_INVOICE, Batch
from engine.errors import ArrearsError
from engine.model import Contact
from engine.money import exponent
from engine.store.db import paused_gc
from engine.store.schema import accounts, events, invoices

IN_CHUNK = 900
_ACCOUNT_COLS = ("acct_no", "id", "currency", "timezone", "debtor_type", "jurisdiction", "language",
                 "relationship_tier", "tags", "risk_score", "on_time_ratio", "contact", "account_manager",
                 "debtor_id", "other_timezones")
_INVOICE_COLS = ("acct_no", "invoice_id", "amount_minor", "due_day", "issued_day")
_EVENT_COLS = ("acct_no", "type", "at", "amount_minor", "invoice_id", "channel", "outcome", "stage",
               "until_day", "instalments")


def load_batch(conn: Connection, acct_nos) -> Batch:
    """Columns of the accounts `acct_nos` (strictly increasing) and their invoices and events."""
    with paused_gc():
        return _load(conn, acct_nos)


def _load(conn: Connection, acct_nos) -> Batch:
    nos = np.asarray(acct_nos, dtype=np.int64).ravel()
    if len(nos) > 1 and not bool((np.diff(nos) > 0).all()):
        raise ValueError("acct_nos must be strictly increasing")
    acc = _columns(_fetch(conn, accounts, _ACCOUNT_COLS, nos, [accounts.c.acct_no]), _ACCOUNT_COLS)
    if len(acc["acct_no"]) != len(nos):
        missing = sorted(set(nos.tolist()) - set(acc["acct_no"]))
        raise ArrearsError(f"no account with acct_no {', '.join(map(str, missing[:10]))}")
    inv_order = [invoices.c.acct_no, invoices.c.due_day, _bytewise(conn, invoices.c.invoice_id)]
    inv = _columns(_fetch(conn, invoices, _INVOICE_COLS, nos, inv_order), _INVOICE_COLS)
    ev = _columns(_fetch(conn, events, _EVENT_COLS, nos,
                         [events.c.acct_no, events.c.at, events.c.seq]), _EVENT_COLS)
    tz_index: dict = {}
    tz = [tz_index.setdefault(name, len(tz_index)) for name in acc["timezone"]]
    reach, prefs = zip(*map(_contact_columns, acc["contact"])) if len(nos) else ((), ())
    inv_acct = np.searchsorted(nos, np.asarray(inv["acct_no"], dtype=np.int64))
    return Batch(
        ids=list(acc["id"]),
        currency=_obj(acc["currency"]),
        scale=np.asarray([_scale(c) for c in acc["currency"]], dtype=np.int64),
        tz_names=list(tz_index),
        tz=np.asarray(tz, dtype=np.int32),
        debtor_type=_obj(acc["debtor_type"]),
        jurisdiction=_obj(acc["jurisdiction"]),
        language=_obj(acc["language"]),
        tier=_obj(acc["relationship_tier"]),
        tags=_obj([_tags(t) for t in acc["tags"]]),
        risk=np.asarray(acc["risk_score"], dtype=np.float64),
        on_time=np.asarray(acc["on_time_ratio"], dtype=np.float64),
        reach=np.asarray(reach, dtype=np.int64),
        prefs=_obj(prefs),
        manager=_obj(acc["account_manager"]),
        debtor=_obj([d or i for d, i in zip(acc["debtor_id"], acc["id"])]),
        extra_tz=_obj([_zones(z) for z in acc["other_timezones"]]),
        inv_acct=inv_acct.astype(np.int32),
        inv_id=_obj(inv["invoice_id"]),
        inv_amount=np.asarray(inv["amount_minor"], dtype=np.int64),
        inv_due=np.asarray(inv["due_day"], dtype=np.int32),
        inv_issued=np.asarray([NO_DAY if d is None else d for d in inv["issued_day"]], dtype=np.int32),
        **_event_columns(nos, ev, inv),
    )


def _event_columns(nos: np.ndarray, ev: dict, inv: dict) -> dict:
    inv_row = {key: row for row, key in enumerate(zip(inv["acct_no"], inv["invoice_id"]))}
    ev_inv = [NO_INVOICE if i is None else inv_row.get((a, i), UNKNOWN_INVOICE)
              for a, i in zip(ev["acct_no"], ev["invoice_id"])]
    pi_event, pi_due, pi_amount = [], [], []
    for row, plan in enumerate(ev["instalments"]):
        if plan:
            for due, amount in json.loads(plan):
                pi_event.append(row)
                pi_due.append(due)
                pi_amount.append(amount)
    return dict(
        ev_acct=np.searchsorted(nos, np.asarray(ev["acct_no"], dtype=np.int64)).astype(np.int32),
        ev_type=np.asarray([EVENT_CODES[t] for t in ev["type"]], dtype=np.int8),
        ev_at=np.asarray(ev["at"], dtype=np.int64),
        ev_amount=np.asarray([a or 0 for a in ev["amount_minor"]], dtype=np.int64),
        ev_inv=np.asarray(ev_inv, dtype=np.int32),
        ev_kind=np.asarray([KIND_CODES.get(c, -1) for c in ev["channel"]], dtype=np.int8),
        ev_outcome=np.asarray([OUTCOME_CODES.get(o, -1) for o in ev["outcome"]], dtype=np.int8),
        ev_stage=_obj(ev["stage"]),
        ev_until=np.asarray([NO_DAY if d is None else d for d in ev["until_day"]], dtype=np.int32),
        pi_event=np.asarray(pi_event, dtype=np.int32),
        pi_due=np.asarray(pi_due, dtype=np.int32),
        pi_amount=np.asarray(pi_amount, dtype=np.int64),
    )


def _fetch(conn: Connection, table, names, nos: np.ndarray, order) -> list:
    """Rows of `table` for the accounts `nos`, one ordered query per chunk of keys."""
    cols = [table.c[n] for n in names]
    rows: list = []
    for part in _parts(nos):
        lo, hi = int(part[0]), int(part[-1])
        if hi - lo + 1 == len(part):     # a dense run of keys: a range scan beats IN (...)
            cond = table.c.acct_no.between(lo, hi)
        else:
            cond = table.c.acct_no.in_(part.tolist())
        rows.extend(conn.execute(select(*cols).where(cond).order_by(*order)).all())
    return rows


def _parts(nos: np.ndarray):
    if not len(nos):
        return
    if nos[-1] - nos[0] + 1 == len(nos):
        yield nos
        return
    for start in range(0, len(nos), IN_CHUNK):
        yield nos[start:start + IN_CHUNK]


def _columns(rows: list, names) -> dict:
    if not rows:
        return {name: () for name in names}
    return dict(zip(names, zip(*rows)))


def _bytewise(conn: Connection, column):
    """Order text by code point, as Python sorts it, whatever the database's locale."""
    name = {"sqlite": "BINARY", "postgresql": "C"}.get(conn.dialect.name)
    return column if name is None else collate(column, name)


@lru_cache(maxsize=None)
def _scale(currency: str) -> int:
    return 10 ** exponent(currency)


@lru_cache(maxsize=4096)
def _tags(text: str) -> frozenset:
    return frozenset(json.loads(text))


@lru_cache(maxsize=4096)
def _zones(text: str) -> tuple:
    return tuple(json.loads(text))


@lru_cache(maxsize=None)
def _reach(email: bool, phone: bool, mobile: bool, address: bool) -> int:
    # The model decides which kinds a contact reaches; ask it once per combination.
    contact = Contact(email="x" if email else None, phone="x" if phone else None,
                      mobile="x" if mobile else None, address="x" if address else None)
    return sum(1 << KIND_CODES[k] for k in contact.reachable_kinds())


def _contact_columns(text: str) -> tuple[int, tuple]:
    # In canonical JSON a key is the only place `"name":` can occur (quotes inside
    # values are escaped), so presence tests need no parse; preferences rarely exist.
    reach = _reach('"email":' in text, '"phone":' in text, '"mobile":' in text, '"address":' in text)
    prefs = tuple(json.loads(text)["preferred_channels"]) if '"preferred_channels":' in text else ()
    return reach, prefs


def _obj(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out
