"""Bulk ingest inside one transaction: upsert accounts with their invoices, append events.

Everything is validated and converted in Python first, then written with executemany;
the caller's transaction makes a batch all-or-nothing. Each batch writes one audit
entry, and every event row points at it (`events.audit_seq`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, delete, select, update

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Event
from arrears.engine.store import audit
from arrears.engine.store.codec import (
    EVENT_INSERT_COLUMNS,
    INVOICE_COLUMNS,
    account_row,
    event_values,
    sha256,
)
from arrears.engine.store.db import bulk_insert, chunks
from arrears.engine.store.schema import accounts, events, invoices

IN_CHUNK = 900           # ids per IN (...) list: well inside every database's parameter limit
LIST_IN_AUDIT = 100      # batches up to this size list their ids in the audit entry


@dataclass(frozen=True)
class UpsertReport:
    """What `upsert_accounts` did: counts, and the audit entry that records it."""

    inserted: int
    updated: int
    unchanged: int
    invoices: int
    audit_seq: int | None


@dataclass(frozen=True)
class AppendReport:
    """What `append_events` did. `duplicates` are indexes into the input whose event_key
    was already stored (or repeated earlier in the same batch): they were not stored again."""

    stored: int
    duplicates: list[int] = field(default_factory=list)
    audit_seq: int | None = None


def lookup(conn: Connection, ids, *columns) -> dict:
    """Map each stored account id among `ids` to its row of `columns` (acct_no if none)."""
    cols = columns or (accounts.c.acct_no,)
    found = {}
    ids = list(dict.fromkeys(ids))
    for part in chunks(ids, IN_CHUNK):
        for row in conn.execute(select(accounts.c.id, *cols).where(accounts.c.id.in_(part))):
            found[row[0]] = row[1] if not columns else row[1:]
    return found


def upsert_accounts(conn: Connection, batch: list[Account], now: int) -> UpsertReport:
    """Insert new accounts, replace changed ones (invoices included), skip identical ones.

    A repeated id within `batch`: the last one wins, as if upserted one after another.
    Changed and new accounts get `changed_at = now`, `revision + 1` and become due now.
    """
    latest = {acc.id: (i, acc) for i, acc in enumerate(batch)}
    prepared = {aid: account_row(acc, f"accounts[{i}]") for aid, (i, acc) in latest.items()}
    existing = lookup(conn, prepared, accounts.c.acct_no, accounts.c.digest)
    new = [aid for aid in prepared if aid not in existing]
    changed = [aid for aid, (no, digest) in existing.items() if digest != prepared[aid][0]["digest"]]
    if not new and not changed:
        return UpsertReport(0, 0, len(existing), 0, None)
    seq = audit.append(conn, "accounts.upserted", "accounts", _upsert_body(prepared, new, changed), now)
    state = {"updated_at": now, "changed_at": now, "next_evaluation_at": None, "audit_seq": seq}
    if new:
        fresh = {**state, "created_at": now, "revision": 1, "evaluated_revision": 0}
        cols = (*prepared[new[0]][0], *fresh)
        bulk_insert(conn, accounts, cols, [(*prepared[aid][0].values(), *fresh.values()) for aid in new])
    if changed:
        stmt = (update(accounts).where(accounts.c.acct_no == bindparam("b_acct_no"))
                .values(revision=accounts.c.revision + 1))
        conn.execute(stmt, [{**prepared[aid][0], **state, "b_acct_no": existing[aid][0]} for aid in changed])
        for part in chunks([existing[aid][0] for aid in changed], IN_CHUNK):
            conn.execute(delete(invoices).where(invoices.c.acct_no.in_(part)))
    numbers = {**{aid: no for aid, (no, _) in existing.items()}, **lookup(conn, new)}
    rows = [(numbers[aid], *inv) for aid in new + changed for inv in prepared[aid][1]]
    bulk_insert(conn, invoices, ("acct_no", *INVOICE_COLUMNS), rows)
    return UpsertReport(len(new), len(changed), len(existing) - len(changed), len(rows), seq)


def _upsert_body(prepared: dict, new: list, changed: list) -> dict:
    ids = sorted(new + changed)
    body = {"inserted": len(new), "updated": len(changed), "unchanged": len(prepared) - len(ids),
            "ids_sha256": sha256("\n".join(ids)),
            "content_sha256": sha256("\n".join(prepared[aid][0]["digest"] for aid in ids))}
    if len(ids) <= LIST_IN_AUDIT:
        body["ids"] = ids
    return body


def append_events(conn: Connection, pairs, now: int) -> AppendReport:
    """Append `(account_id, Event, event_key or None)` triples; see `Store.append_events`."""
    pairs = list(pairs)
    known = lookup(conn, (p[0] for p in pairs), accounts.c.acct_no, accounts.c.currency)
    missing = [(i, p[0]) for i, p in enumerate(pairs) if p[0] not in known]
    if missing:
        i, aid = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"unknown account {aid!r}{more}", f"events[{i}].account_id")
    rows, duplicates = [], []
    seen = _stored_keys(conn, {known[aid][0] for aid, ev, key in pairs if (key or ev.id) is not None})
    for i, (aid, ev, key) in enumerate(pairs):
        if not isinstance(ev, Event):
            raise InputError(f"expected an Event, got {type(ev).__name__}", f"events[{i}]")
        acct_no, currency = known[aid]
        key = key if key is not None else ev.id
        if key is not None:
            if (acct_no, key) in seen:
                duplicates.append(i)
                continue
            seen.add((acct_no, key))
        rows.append((acct_no, *event_values(ev, currency, f"events[{i}]"), key, now))
    if not rows:
        return AppendReport(0, duplicates, None)
    digest = audit.EventDigest()
    types: dict[str, int] = {}
    for row in rows:
        digest.add(row)
        types[row[1]] = types.get(row[1], 0) + 1
    touched = sorted({row[0] for row in rows})
    seq = audit.append(conn, audit.EVENTS_APPENDED, "events",
                       {"stored": len(rows), "duplicates": len(duplicates), "accounts": len(touched),
                        "events_sha256": digest.hexdigest(), "types": types}, now)
    bulk_insert(conn, events, EVENT_INSERT_COLUMNS, [(*row, seq) for row in rows])
    for part in chunks(touched, IN_CHUNK):
        conn.execute(update(accounts).where(accounts.c.acct_no.in_(part))
                     .values(changed_at=now, revision=accounts.c.revision + 1, next_evaluation_at=None))
    return AppendReport(len(rows), duplicates, seq)


def _stored_keys(conn: Connection, acct_nos: set) -> set:
    """(acct_no, event_key) pairs already stored for these accounts."""
    found = set()
    for part in chunks(sorted(acct_nos), IN_CHUNK):
        stmt = select(events.c.acct_no, events.c.event_key).where(
            events.c.acct_no.in_(part), events.c.event_key.is_not(None))
        found.update(map(tuple, conn.execute(stmt)))
    return found
