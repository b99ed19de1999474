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
from sqlalchemy import Connection, case, collate, func, literal, literal_column, select

from arrears.engine.domain.batch import (
    EVENT_CODES,
    KIND_CODES,
    NO_DAY,
    NO_INVOICE,
    OUTCOME_CODES,
    UNKNOWN_INVOICE,
    Batch,
)
from arrears.engine.domain.errors import ArrearsError
from arrears.engine.domain.model import Contact
from arrears.engine.domain.money import exponent
from arrears.engine.store.db import KEYS, fetch_keyed, paused_gc
from arrears.engine.store.schema import accounts, events, invoices

_ACCOUNT_COLS = ("acct_no", "id", "currency", "timezone", "debtor_type", "jurisdiction", "language",
                 "relationship_tier", "tags", "risk_score", "on_time_ratio", "contact", "account_manager",
                 "debtor_id", "other_timezones", "prefs")
_CONTACT_KINDS = ("email", "phone", "mobile", "address")     # bit i of the contact code
_INVOICE_COLS = ("acct_no", "invoice_id", "amount_minor", "due_day", "issued_day")
_EVENT_COLS = ("acct_no", "type", "at", "amount_minor", "invoice_id", "channel", "outcome", "stage",
               "until_day", "instalments", "detail")
UNKNOWN_TYPE = -1


@lru_cache(maxsize=None)
def _account_selects(dialect: str) -> tuple:
    """The account columns, with the contact JSON reduced by the database to what the Batch
    needs: a code whose bit i says field _CONTACT_KINDS[i] is present (in canonical JSON a
    key is the only place `"name":` can occur: quotes inside values are escaped), and the
    JSON itself only where it holds preferred channels (rare)."""
    c = accounts.c

    def has(key: str):
        find = func.strpos(c.contact, key) if dialect == "postgresql" else func.instr(c.contact, key)
        return case((find > 0, 1), else_=0)
    code = sum((has(f'"{kind}":') * (1 << i) for i, kind in enumerate(_CONTACT_KINDS)), literal(0))
    prefs = case((has('"preferred_channels":') == 1, c.contact), else_=None)
    return tuple(c[n] for n in _ACCOUNT_COLS[:11]) + (code, c.account_manager,
                                                      func.coalesce(func.nullif(c.debtor_id, ""), c.id), c.other_timezones, prefs)


@lru_cache(maxsize=None)
def _event_selects(kinds: tuple) -> tuple:
    """The event columns as the Batch wants them, computed by the database: codes for
    type, channel kind and outcome (a small integer is a shared object, a text value a
    new one per row), 0 for no amount, NO_DAY for no date. Built again for another table of
    channel `kinds` (a plugin registered more)."""
    c = events.c

    def codes(column, table: dict, other: int):
        return case(table, value=column, else_=other) if table else literal(other)
    return (c.acct_no, codes(c.type, EVENT_CODES, UNKNOWN_TYPE), c.at, func.coalesce(c.amount_minor, 0),
            c.invoice_id, codes(c.channel, KIND_CODES, -1), codes(c.outcome, OUTCOME_CODES, -1), c.stage,
            func.coalesce(c.until_day, NO_DAY), c.instalments, c.detail)


def load_batch(conn: Connection, acct_nos) -> Batch:
    """Columns of the accounts `acct_nos` (strictly increasing) and their invoices and events."""
    with paused_gc():
        return _load(conn, acct_nos)


def _load(conn: Connection, acct_nos) -> Batch:
    nos = np.asarray(acct_nos, dtype=np.int64).ravel()
    if len(nos) > 1 and not bool((np.diff(nos) > 0).all()):
        raise ValueError("acct_nos must be strictly increasing")
    acc = _columns(_fetch(conn, "accounts", nos), _ACCOUNT_COLS)
    if len(acc["acct_no"]) != len(nos):
        missing = sorted(set(nos.tolist()) - set(acc["acct_no"]))
        raise ArrearsError(f"no account with acct_no {', '.join(map(str, missing[:10]))}")
    inv = _columns(_fetch(conn, "invoices", nos), _INVOICE_COLS)
    ev = _columns(_fetch(conn, "events", nos), _EVENT_COLS)
    tz_names = list(dict.fromkeys(acc["timezone"]))      # in order of first appearance
    tz = _mapped(acc["timezone"], dict(zip(tz_names, range(len(tz_names)))))
    reach = _reach_table(tuple(KIND_CODES))[np.asarray(acc["contact"], dtype=np.int64)] if len(nos) else np.zeros(0, np.int64)
    prefs = [tuple(json.loads(text)["preferred_channels"]) if text else () for text in acc["prefs"]]
    inv_acct = np.searchsorted(nos, np.asarray(inv["acct_no"], dtype=np.int64))
    return Batch(
        ids=list(acc["id"]),
        currency=_obj(acc["currency"]),
        scale=np.asarray(_each(acc["currency"], _scale), dtype=np.int64),
        tz_names=tz_names,
        tz=np.asarray(tz, dtype=np.int32),
        debtor_type=_obj(acc["debtor_type"]),
        jurisdiction=_obj(acc["jurisdiction"]),
        language=_obj(acc["language"]),
        tier=_obj(acc["relationship_tier"]),
        tags=_obj(_each(acc["tags"], _tags)),
        risk=np.asarray(acc["risk_score"], dtype=np.float64),
        on_time=np.asarray(acc["on_time_ratio"], dtype=np.float64),
        reach=reach,
        prefs=_obj(prefs),
        manager=_obj(acc["account_manager"]),
        debtor=_obj(acc["debtor_id"]),
        extra_tz=_obj(_each(acc["other_timezones"], _zones)),
        inv_acct=inv_acct.astype(np.int32),
        inv_id=_obj(inv["invoice_id"]),
        inv_amount=np.asarray(inv["amount_minor"], dtype=np.int64),
        inv_due=np.asarray(inv["due_day"], dtype=np.int32),
        inv_issued=np.asarray(inv["issued_day"], dtype=np.int32),
        **_event_columns(nos, ev, inv),
    )


def _event_columns(nos: np.ndarray, ev: dict, inv: dict) -> dict:
    ev_inv = np.full(len(ev["acct_no"]), NO_INVOICE, dtype=np.int32)
    linked = [i for i, inv_id in enumerate(ev["invoice_id"]) if inv_id is not None]
    if linked:       # most events name no invoice: index the invoices only when one does
        inv_row = {key: row for row, key in enumerate(zip(inv["acct_no"], inv["invoice_id"]))}
        ev_inv[linked] = [inv_row.get((ev["acct_no"][i], ev["invoice_id"][i]), UNKNOWN_INVOICE) for i in linked]
    pi_event, pi_due, pi_amount = _instalments(ev["instalments"])
    ev_type = np.asarray(ev["type"], dtype=np.int8)
    if (ev_type == UNKNOWN_TYPE).any():
        raise ArrearsError(f"stored event of account {ev['acct_no'][int(np.argmax(ev_type == UNKNOWN_TYPE))]} "
                           "has a type this version does not know")
    return dict(
        ev_acct=np.searchsorted(nos, np.asarray(ev["acct_no"], dtype=np.int64)).astype(np.int32),
        ev_type=ev_type,
        ev_at=np.asarray(ev["at"], dtype=np.int64),
        ev_amount=np.asarray(ev["amount_minor"], dtype=np.int64),
        ev_inv=ev_inv,
        ev_kind=np.asarray(ev["channel"], dtype=np.int8),
        ev_outcome=np.asarray(ev["outcome"], dtype=np.int8),
        ev_stage=_obj(ev["stage"]),
        ev_until=np.asarray(ev["until_day"], dtype=np.int32),
        ev_detail=_obj(ev["detail"]),
        pi_event=np.asarray(pi_event, dtype=np.int32),
        pi_due=np.asarray(pi_due, dtype=np.int32),
        pi_amount=np.asarray(pi_amount, dtype=np.int64),
    )


def _instalments(plans) -> tuple[list, list, list]:
    """(event row, due day, amount) of every instalment of the events' plans (JSON text or None
    per event): the plans parsed with one `json.loads` of them all."""
    rows = [i for i, plan in enumerate(plans) if plan]
    if not rows:
        return [], [], []
    parsed = json.loads(f"[{','.join([plans[i] for i in rows])}]")
    counts = [len(plan) for plan in parsed]
    pairs = [pair for plan in parsed for pair in plan]
    return np.repeat(rows, counts).tolist(), [d for d, _ in pairs], [a for _, a in pairs]


def _each(values, fn) -> list:
    """`fn` of each of `values`, called once per distinct value (a page holds a few currencies,
    tag sets and zone lists)."""
    return _mapped(values, {v: fn(v) for v in dict.fromkeys(values)})


def _mapped(values, table: dict) -> list:
    return list(map(table.__getitem__, values))


def _fetch(conn: Connection, kind: str, nos: np.ndarray) -> list:
    """Rows of table `kind` for the accounts `nos`, one ordered query per chunk of keys."""
    sql, key = _query(kind, conn.dialect, tuple(KIND_CODES))
    return fetch_keyed(conn, sql, key, nos)


@lru_cache(maxsize=32)
def _query(kind: str, dialect, kinds: tuple) -> tuple[str, str]:
    """The SELECT of table `kind` compiled once per dialect (and table of channel `kinds`: the
    events' codes), with `KEYS` standing for the condition on the account
    keys, and that key column's SQL. Compiling costs more than a small batch's lookups (the
    API decides batches of a few dozen accounts)."""
    table, cols, order = {
        "accounts": lambda: (accounts, _account_selects(dialect.name), [accounts.c.acct_no]),
        "invoices": lambda: (invoices, [invoices.c[n] for n in _INVOICE_COLS[:-1]]
                             + [func.coalesce(invoices.c.issued_day, NO_DAY)],
                             [invoices.c.acct_no, invoices.c.due_day, _bytewise(dialect, invoices.c.invoice_id)]),
        "events": lambda: (events, _event_selects(kinds), [events.c.acct_no, events.c.at, events.c.seq]),
    }[kind]()
    stmt = select(*cols).where(literal_column(KEYS)).order_by(*order)
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return sql, str(table.c.acct_no.compile(dialect=dialect))


def _columns(rows: list, names) -> dict:
    if not rows:
        return {name: () for name in names}
    return dict(zip(names, zip(*rows)))


def _bytewise(dialect, column):
    """Order text by code point, as Python sorts it, whatever the database's locale."""
    name = {"sqlite": "BINARY", "postgresql": "C"}.get(dialect.name)
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
def _reach_table(kinds: tuple) -> np.ndarray:
    """The reach bitmask (1 << KIND_CODES[kind]) of every contact code: the model decides
    which kinds a contact reaches; ask it once per combination of fields and table of `kinds`
    (a plugin's kind registered later reaches too)."""
    table = []
    for code in range(1 << len(_CONTACT_KINDS)):
        fields = {kind: ("x" if code >> i & 1 else None) for i, kind in enumerate(_CONTACT_KINDS)}
        table.append(sum(1 << KIND_CODES[k] for k in Contact(**fields).reachable_kinds()))
    return np.asarray(table, dtype=np.int64)


def _obj(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out
