"""Bulk ingest inside one transaction: upsert accounts with their invoices, append events.

Everything is validated and converted in Python first, then written with executemany;
the caller's transaction makes a batch all-or-nothing. Each batch writes one audit
entry, and every event row points at it (`events.audit_seq`); so does every account and
invoice row an upsert writes, with its seal (`arrears.engine.store.seals`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, delete, select, update

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Event
from arrears.engine.store import audit, namewords
from arrears.engine.store.codec import (
    EVENT_COLUMNS,
    EVENT_INSERT_COLUMNS,
    INVOICE_COLUMNS,
    account_row,
    event_values,
    sha256,
)
from arrears.engine.store.db import bulk_insert, chunks, plan_for_parameters
from arrears.engine.store.schema import accounts, events, invoices
from arrears.engine.store.seals import ACCOUNTS, INVOICES, SealBook, seal_of

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
    """What `append_events` did. `duplicates` are indexes into the input that were not
    stored again: their event_key, or their own event `id`, was already stored for the
    account (or came earlier in the same batch). `differing` are those of them whose
    content differs from the event recorded first (a key or an id reused for another
    event: the API answers 409, an import rejects the record)."""

    stored: int
    duplicates: list[int] = field(default_factory=list)
    audit_seq: int | None = None
    differing: list[int] = field(default_factory=list)


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
    if len(batch) > IN_CHUNK:          # several lookups of one shape, on a table this load grows
        plan_for_parameters(conn)
    latest = {acc.id: (i, acc) for i, acc in enumerate(batch)}
    prepared = {aid: account_row(acc, f"accounts[{i}]") for aid, (i, acc) in latest.items()}
    existing = lookup(conn, prepared, accounts.c.acct_no, accounts.c.digest, accounts.c.created_at,
                      accounts.c.audit_seq, accounts.c.seal, *(accounts.c[c] for c in ACCOUNTS.columns))
    new = [aid for aid in prepared if aid not in existing]
    changed = [aid for aid, (no, digest, *_) in existing.items() if digest != prepared[aid][0]["digest"]]
    if not new and not changed:
        return UpsertReport(0, 0, len(existing), 0, None)
    # The rows are stamped with the entry written last, once their seals are known (seals.py).
    seq, book = audit.next_seq(conn), SealBook()
    state = {"updated_at": now, "changed_at": now, "next_evaluation_at": None, "audit_seq": seq}
    created = {aid: existing[aid][2] if aid in existing else now for aid in new + changed}
    content = {aid: (*prepared[aid][0].values(), created[aid], now) for aid in new + changed}
    seal = {aid: seal_of(ACCOUNTS, content[aid]) for aid in new + changed}
    if new:
        fresh = {**state, "created_at": now, "revision": 1, "evaluated_revision": 0}
        cols = (*prepared[new[0]][0], *fresh, "seal")
        bulk_insert(conn, accounts, cols,
                    [(*prepared[aid][0].values(), *fresh.values(), seal[aid]) for aid in new])
    if changed:
        stmt = (update(accounts).where(accounts.c.acct_no == bindparam("b_acct_no"))
                .values(revision=accounts.c.revision + 1))
        conn.execute(stmt, [{**prepared[aid][0], **state, "seal": seal[aid], "b_acct_no": existing[aid][0]}
                            for aid in changed])
        for aid in changed:
            no, _, _, old_seq, old_seal, *old_content = existing[aid]
            book.release("accounts", old_seq, (no,), old_seal, old_content)
        _release_invoices(conn, book, [existing[aid][0] for aid in changed])
    numbers = {**{aid: row[0] for aid, row in existing.items()}, **lookup(conn, new)}
    _name_words(conn, latest, existing, new, changed, numbers)
    for aid in new + changed:
        book.add("accounts", (numbers[aid],), seal[aid], content[aid])
    rows = []
    for aid in new + changed:
        for inv in prepared[aid][1]:
            inv_seal = seal_of(INVOICES, inv[1:])
            book.add("invoices", (numbers[aid], inv[0]), inv_seal)
            rows.append((numbers[aid], *inv, seq, inv_seal))
    bulk_insert(conn, invoices, ("acct_no", *INVOICE_COLUMNS, "audit_seq", "seal"), rows)
    audit.append(conn, "accounts.upserted", "accounts", _upsert_body(prepared, new, changed), now,
                 seals=book, expect_seq=seq)
    return UpsertReport(len(new), len(changed), len(existing) - len(changed), len(rows), seq)


def _name_words(conn: Connection, latest: dict, existing: dict, new: list, changed: list, numbers: dict) -> None:
    """Write the name words (`namewords`) of the new accounts and of the changed ones whose name
    changed."""
    contact_at = 5 + list(ACCOUNTS.columns).index("contact")    # after acct_no, digest, created_at, seq, seal
    renamed = [aid for aid in changed
               if namewords.name_of_contact(existing[aid][contact_at]) != latest[aid][1].contact.name]
    namewords.replace(conn, {numbers[aid]: latest[aid][1].contact.name for aid in new}, fresh=True)
    namewords.replace(conn, {numbers[aid]: latest[aid][1].contact.name for aid in renamed})


def _release_invoices(conn: Connection, book: SealBook, acct_nos: list) -> None:
    """Release the seals of these accounts' invoices, then delete them (an upsert replaces
    an account's invoices as a whole)."""
    for part in chunks(acct_nos, IN_CHUNK):
        stmt = select(invoices.c.acct_no, invoices.c.invoice_id, invoices.c.audit_seq, invoices.c.seal)
        for no, invoice_id, old_seq, old_seal in conn.execute(stmt.where(invoices.c.acct_no.in_(part))):
            book.release("invoices", old_seq, (no, invoice_id), old_seal)
        conn.execute(delete(invoices).where(invoices.c.acct_no.in_(part)))


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
    if len(pairs) > IN_CHUNK:
        plan_for_parameters(conn)
    known = lookup(conn, (p[0] for p in pairs), accounts.c.acct_no, accounts.c.currency)
    missing = [(i, p[0]) for i, p in enumerate(pairs) if p[0] not in known]
    if missing:
        i, aid = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"unknown account {aid!r}{more}", f"events[{i}].account_id")
    rows, duplicates = [], []
    # An event's own id is unique per account whatever key it came with: an event is
    # a duplicate if its key or its id was stored before (or came earlier in the batch).
    keyed = {known[aid][0] for aid, ev, key in pairs if (key or ev.id) is not None}
    seen_keys = _stored(conn, keyed, events.c.event_key)
    seen_ids = _stored(conn, {known[aid][0] for aid, ev, _ in pairs if ev.id is not None}, events.c.event_id)
    first: dict[tuple, tuple] = {}       # (acct_no, "key"|"id", value) -> values, earlier in the batch
    matched: dict[int, tuple] = {}       # duplicate index -> (acct_no, "key"|"id", value, its values)
    for i, (aid, ev, key) in enumerate(pairs):
        if not isinstance(ev, Event):
            raise InputError(f"expected an Event, got {type(ev).__name__}", f"events[{i}]")
        acct_no, currency = known[aid]
        key = key if key is not None else ev.id
        values = event_values(ev, currency, f"events[{i}]")
        if key is not None and (acct_no, key) in seen_keys:
            matched[i] = (acct_no, "key", key, values)
        elif ev.id is not None and (acct_no, ev.id) in seen_ids:
            matched[i] = (acct_no, "id", ev.id, values)
        if i in matched:
            duplicates.append(i)
            continue
        if key is not None:
            seen_keys.add((acct_no, key))
            first[(acct_no, "key", key)] = values
        if ev.id is not None:
            seen_ids.add((acct_no, ev.id))
            first[(acct_no, "id", ev.id)] = values
        rows.append((acct_no, *values, key, now))
    differing = _differing(conn, matched, first)
    if not rows:
        return AppendReport(0, duplicates, None, differing)
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
    return AppendReport(len(rows), duplicates, seq, differing)


def _stored(conn: Connection, acct_nos: set, column) -> set:
    """(acct_no, value) pairs of `column` (event_key or event_id) already stored for these accounts."""
    found = set()
    for part in chunks(sorted(acct_nos), IN_CHUNK):
        stmt = select(events.c.acct_no, column).where(events.c.acct_no.in_(part), column.is_not(None))
        found.update(map(tuple, conn.execute(stmt)))
    return found


def _differing(conn: Connection, matched: dict, first: dict) -> list[int]:
    """Indexes of the duplicates whose content differs from the event they repeat (the
    one earlier in the batch, else the stored one, read only for these few)."""
    out = []
    stored: dict[tuple, tuple] = {}
    wanted = [m[:3] for m in matched.values() if m[:3] not in first]
    half = IN_CHUNK // 2
    for how, column in (("key", events.c.event_key), ("id", events.c.event_id)):
        pairs = {(a, v) for a, h, v in wanted if h == how}
        # A few queries for many accounts (a retried bulk request repeats thousands), not one
        # per account: the rows of these accounts with any of these values, the pairs kept.
        for part in chunks(sorted({a for a, _ in pairs}), half):
            accts = set(part)
            values = sorted({v for a, v in pairs if a in accts})
            for some in chunks(values, half):
                stmt = (select(events.c.acct_no, column, *(events.c[c] for c in EVENT_COLUMNS))
                        .where(events.c.acct_no.in_(part), column.in_(some)).order_by(events.c.seq))
                for acct_no, found, *cols in conn.execute(stmt):
                    if (acct_no, found) in pairs:
                        stored.setdefault((acct_no, how, found), tuple(cols))
    for i, (acct_no, how, value, values) in matched.items():
        earlier = first.get((acct_no, how, value), stored.get((acct_no, how, value)))
        if earlier != values:
            out.append(i)
    return out
