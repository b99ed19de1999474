"""A replay's history written to a store, so `arrears kpis` and `arrears report` read it.

`write_history` stores, in one transaction, the replayed accounts and invoices, their
events (the file's payments, disputes and write-offs, and the contacts the replay sent,
as `contact_attempt` events) and one decision per change of stage the replay made. Every
part goes through the store's own writers (accounts and events audited as an import's are)
and the decisions get one audit entry with their digest, which seals them (engine/store/seals.py)
as a tick page's entry does, so `arrears audit verify` checks them too. Only an empty database is written
to: replayed history mixed into a live portfolio would be acted on by the tick.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.words import plural
from arrears.engine.store import audit
from arrears.engine.store.schema import accounts
from arrears.engine.store.seals import SealBook, copied_value
from arrears.engine.store.tickstore import insert_decision_history

REPLAYED = "replay.stored"


def write_history(store, accounts_: list, events: list, decisions: list, *, now: int, source: dict) -> dict:
    """Store a replay: `accounts_` (Account), `events` ((account id, Event, key)), `decisions`
    ((account id, evaluated_at, policy digest, stage, body dict)); `now` is the instant they
    are recorded at, `source` what was replayed (file, policy, period), kept in the audit entry.
    InputError (nothing written) if the database already holds accounts. Returns the counts."""
    with store.transaction(now=now) as w:
        held = w.conn.execute(select(func.count()).select_from(accounts)).scalar()
        if held:
            raise InputError(f"the database already holds {plural(held, 'account')}; "
                             "write a replay into a new (empty) database", "--store")
        w.upsert_accounts(accounts_)
        appended = w.append_events(events)
        nos = w.acct_nos([d[0] for d in decisions])
        texts = [json.dumps(d[4], sort_keys=True, separators=(",", ":")) for d in decisions]
        rows = [(nos[aid], at, 0, digest, stage, None, None, None, None, None, text,
                 copied_value(text, "priority"), None, None)
                for (aid, at, digest, stage, _), text in zip(decisions, texts)]
        seq, book = audit.next_seq(w.conn), SealBook()
        insert_decision_history(w.conn, rows, seq, book)
        digest = hashlib.sha256("\n".join(repr(r) for r in rows).encode()).hexdigest()
        audit.append(w.conn, REPLAYED, "decisions", {**source, "accounts": len(accounts_),
                                                      "events": appended.stored, "decisions": len(rows),
                                                      "decisions_sha256": digest}, now, seals=book, expect_seq=seq)
    return {"accounts": len(accounts_), "events": appended.stored, "decisions": len(rows)}
