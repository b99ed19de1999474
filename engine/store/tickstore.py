"""The tick's writes for one page of evaluated accounts, inside one page transaction.

`arrears.engine.tick.evaluate` runs these in one write transaction per page
(`page_transaction`, or `Store.tick_page`):

1. `current_state`: each account's revision and stored decision key, read under the
   write lock, so "has it changed since the page was read?" cannot race an ingest;
2. `insert_decisions`: a `decisions` row for each account whose decision key changed;
   each new `decisions` and `outbox` row is sealed and points at the page's `tick.page`
   audit entry, which sums their seals (`arrears.engine.store.seals`): no entry per row.
   The seals are computed where the rows are built (`seal_decisions`, `open_outbox_seals`:
   in a planner worker, ahead of the write); an outbox row's seal is left open at its
   decision id, which `queue_outbox` fills in;
3. `queue_outbox`: outbox rows, INSERT-OR-IGNORE on UNIQUE(acct_no, stage, attempt,
   episode_key), the act-once key; a row that ended without delivering anything
   (`failed`, `cancelled`) is revived when the engine decides that contact again (a failed
   channel only after its retry time);
4. `mark_evaluated`: next evaluation time, revision seen, decision key.

Bulk statements are compiled once and run with plain tuples (`executemany`), as the
ingest path does: per-row parameter processing would cost more than the writes.
"""
from __future__ import annotations

from contextlib import contextmanager
from operator import itemgetter

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from arrears.engine.store import audit
from arrears.engine.store.db import bulk_insert, chunks, fetch_tuples, int_in, write_transaction
from arrears.engine.store.schema import accounts, decisions, outbox
from arrears.engine.store.seals import (DECISIONS, OUTBOX, SealBook, seal_close, seal_columns, seal_many,
                                        seal_open_columns)

IN_CHUNK = 5000          # keys per IN (...) list, written into the SQL (no bound parameters)
DECISION_COLUMNS = ("acct_no", "evaluated_at", "revision", "policy_digest", "stage", "attempt",
                    "action_type", "channel", "not_before", "next_evaluation_at", "body", "priority",
                    "experiment_id", "strategy")
OUTBOX_COLUMNS = ("acct_no", "decision_id", "stage", "attempt", "episode_key", "channel", "status",
                  "tries", "next_attempt_at", "created_at", "updated_at", "payload", "experiment_id",
                  "strategy")
# A planned decision row: DECISION_COLUMNS with the row's seal after the body (insert_decisions).
DECISION_ROW = (*DECISION_COLUMNS[:11], "seal", *DECISION_COLUMNS[11:])
_SEAL_OF_ROW = itemgetter(11)
# A planned outbox row: OUTBOX_COLUMNS without the decision id, known only at the write (queue_outbox).
OUTBOX_PLANNED = tuple(c for c in OUTBOX_COLUMNS if c != "decision_id")
REVIVABLE = ("failed", "cancelled")     # ended without delivering anything
PAGE_CACHE_KIB = 65_536         # SQLite page cache while a page is written
CHECKPOINT_PAGES = 32_768       # WAL pages (128 MiB at 4 KiB) before a page write checkpoints


@contextmanager
def page_transaction(engine: Engine):
    """The write transaction of one tick page: a connection for this module's functions
    (and `audit.append`), holding the write lock and the audit head's from the start.

    NORMAL: a page lost to a power cut is simply still due (see docs/tick.md). The cache
    holds the accounts' pages between reading their state and updating them; the WAL is
    copied into the database every few pages rather than after each one.
    """
    with write_transaction(engine, synchronous="NORMAL", cache_kib=PAGE_CACHE_KIB,
                           checkpoint_pages=CHECKPOINT_PAGES, foreign_keys=False) as conn:
        audit.lock_head(conn)
        yield conn


def executemany(conn: Connection, stmt, rows: list[tuple], names: tuple[str, ...]) -> int:
    """Run `stmt` once per tuple of `rows` (values in `names` order); returns the rowcount.

    Binds not in `names` keep the value given in the statement (`.values(status="x")`);
    an INSERT is compiled with `names` as its column keys.
    """
    if not rows:
        return 0
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(names) if stmt.is_insert else None)
    defaults = {name: bind.value for name, bind in compiled.binds.items()}
    order = list(compiled.positiontup) if compiled.positional else list(defaults)
    where = {name: i for i, name in enumerate(names)}
    at = [where.get(n) for n in order]
    if at != list(range(len(order))):
        if None not in at and len(at) > 1:
            rows = list(map(itemgetter(*at), rows))     # in C: a generator per row costs 3x
        else:
            fixed = [(i, defaults.get(n)) for i, n in zip(at, order)]
            rows = [tuple(r[i] if i is not None else d for i, d in fixed) for r in rows]
    if not compiled.positional:
        rows = [dict(zip(order, r)) for r in rows]
    return conn.exec_driver_sql(str(compiled), rows).rowcount


def current_state(conn: Connection, acct_nos: np.ndarray):
    """(revision, decision_key, decision_id) arrays aligned with the increasing `acct_nos`.

    A dense page (most acct_nos of a range, as in a full tick) is read with one range
    scan; a sparse one (an incremental tick) by primary-key lookups. Accounts that are
    not stored have revision -1.
    """
    n = len(acct_nos)
    rev = np.full(n, -1, dtype=np.int64)
    key = np.full(n, None, dtype=object)
    did = np.full(n, None, dtype=object)
    if not n:
        return rev, key, did
    cols = (accounts.c.acct_no, accounts.c.revision, accounts.c.decision_key, accounts.c.decision_id)
    lo, hi = int(acct_nos[0]), int(acct_nos[-1])
    if hi - lo + 1 <= 4 * n:
        parts = [select(*cols).where(accounts.c.acct_no.between(lo, hi))]
    else:
        parts = [select(*cols).where(int_in(accounts.c.acct_no, part.tolist()))
                 for part in chunks(acct_nos, IN_CHUNK)]
    for stmt in parts:
        rows = fetch_tuples(conn, stmt)
        if not rows:
            continue
        nos, revs, keys, ids = zip(*rows)
        nos = np.asarray(nos, dtype=np.int64)
        pos = np.minimum(np.searchsorted(acct_nos, nos), n - 1)
        found = np.flatnonzero(acct_nos[pos] == nos)
        at = pos[found]
        rev[at] = np.asarray(revs, dtype=np.int64)[found]
        key[at] = _obj(keys)[found]
        did[at] = _obj(ids)[found]
    return rev, key, did


def _obj(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def insert_decisions(conn: Connection, rows: list[tuple], seq: int, book: SealBook) -> list[int]:
    """Insert decision rows (DECISION_ROW order: with their seals, as `sealed_decision_rows`
    builds them; one per account), stamped with audit entry `seq` (counted in `book`); their
    new ids, in row order."""
    if not rows:
        return []
    before = conn.execute(select(func.max(decisions.c.id))).scalar() or 0
    inserted = _insert(conn, decisions, DECISION_ROW, rows, seq)
    sealed = list(map(_SEAL_OF_ROW, rows))
    ids = _inserted_ids(conn, rows, before, inserted)
    book.add_many("decisions", ids, sealed)
    return ids


def insert_decision_history(conn: Connection, rows: list[tuple], seq: int, book: SealBook) -> list[int]:
    """Insert decision rows (DECISION_COLUMNS order), any number per account (a replay's history),
    sealed and stamped with audit entry `seq` (counted in `book`); their new ids, in row order.
    The caller holds the write lock, so the ids above the largest before are these rows'."""
    if not rows:
        return []
    before = conn.execute(select(func.max(decisions.c.id))).scalar() or 0
    sealed = seal_decisions(rows)
    bulk_insert(conn, decisions, (*DECISION_COLUMNS, "audit_seq", "seal"),
                [(*r, seq, s) for r, s in zip(rows, sealed)])
    ids = [i for (i,) in fetch_tuples(conn, select(decisions.c.id).where(decisions.c.id > before)
                                      .order_by(decisions.c.id))]
    if len(ids) != len(rows):
        raise RuntimeError(f"{len(rows)} decisions inserted but {len(ids)} new ids found")
    book.add_many("decisions", ids, sealed)
    return ids


def seal_decisions(rows: list[tuple]) -> list[str]:
    """The seals of decision rows (DECISION_COLUMNS order), as `insert_decisions` stores them.

    The seal covers the columns up to the body and the experiment and strategy; `priority`,
    between them, is the body's copy (seals.Sealed.copies). No column only the insert knows
    (the id is the token's, `SealBook.add_many`), so a planner worker computes it ahead.
    """
    return seal_many(DECISIONS, [r[:11] + r[12:] for r in rows])


def sealed_decision_rows(cols: list) -> list[tuple]:
    """Decision rows in DECISION_ROW order (their seal after the body), from their columns in
    DECISION_COLUMNS order (lists or tuples of equal length): what `insert_decisions` takes.
    Built column by column, so the rows are put together once, seal included."""
    sealed = seal_columns(DECISIONS, cols[:11] + cols[12:])
    return list(zip(*cols[:11], sealed, *cols[11:]))


def planned_outbox(cols: list) -> tuple[list[tuple], list[tuple[str, str]]]:
    """Outbox rows in OUTBOX_PLANNED order (no decision id yet) and their seals left open at the
    decision id, from their columns in OUTBOX_PLANNED order: what `queue_outbox` takes. The id is
    known only when the page is written (a new decision's id, else the account's stored one):
    `queue_outbox` closes the seals (`seals.seal_open_columns`, `seals.seal_close`). The columns a
    new row leaves NULL (provider_id, last_error, claimed_by, claimed_at) are sealed as NULL."""
    n = len(cols[0])
    if not n:
        return [], []
    nulls = [None] * n
    # OUTBOX's sealed columns: acct_no, decision_id (open), the planned ones up to updated_at,
    # provider_id, last_error, payload, claimed_by, claimed_at, experiment_id, strategy.
    sealed = [cols[0], nulls, *cols[1:10], nulls, nulls, cols[10], nulls, nulls, cols[11], cols[12]]
    return list(zip(*cols)), seal_open_columns(OUTBOX, sealed, 1)


def _insert(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple], seq: int, *,
            ignore: bool = False) -> int:
    """INSERT `rows` (tuples in `columns` order) into `table` with `audit_seq` = `seq`; returns how
    many were inserted (`ignore`: ON CONFLICT DO NOTHING skips a row whose key is there).

    On SQLite `seq` is written into the statement, so the rows go to the driver as they are
    (no row is built again here). Elsewhere each row gets `seq` (PostgreSQL: COPY for a plain
    insert, `bulk_insert`)."""
    if conn.dialect.name == "sqlite":
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        sql = (f"INSERT INTO {quote(table.name)} ({names}, audit_seq) VALUES ({marks}, {int(seq)})"
               + (" ON CONFLICT DO NOTHING" if ignore else ""))
        return conn.exec_driver_sql(sql, rows).rowcount
    full = [(*r, seq) for r in rows]
    if not ignore:
        bulk_insert(conn, table, (*columns, "audit_seq"), full)
        return len(rows)
    return executemany(conn, insert_ignore(conn, table), full, (*columns, "audit_seq"))


def _inserted_ids(conn: Connection, rows: list[tuple], before: int, inserted: int) -> list[int]:
    # Only the tick inserts decisions and it holds the write lock: the new ids are those
    # above `before`, given in insertion order. On SQLite the rows of one statement are
    # numbered one after the other (the driver's rowcount says how many), so they need not be
    # read back; a PostgreSQL sequence may skip.
    if conn.dialect.name == "sqlite" and inserted == len(rows) and \
            conn.execute(select(func.max(decisions.c.id))).scalar() == before + inserted:
        return list(range(before + 1, before + 1 + inserted))
    stmt = select(decisions.c.acct_no, decisions.c.id).where(decisions.c.id > before)
    new = dict(fetch_tuples(conn, stmt))
    return [new[r[0]] for r in rows]


def insert_ignore(conn: Connection, table):
    """INSERT into `table` that skips a row whose key is there already (ON CONFLICT DO NOTHING)."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def queue_outbox(conn: Connection, rows: list[tuple], decision_ids: list, open_seals: list[tuple[str, str]],
                 now: int, seq: int, book: SealBook) -> tuple[int, int]:
    """Queue contacts (`rows` in OUTBOX_PLANNED order, `decision_ids` their decision ids;
    `open_seals`: their seals left open at the decision id, as `planned_outbox` gives them, in the
    same order); returns (inserted, revived).

    A contact already in the outbox for the same (account, stage, attempt, episode) is
    left alone, unless it ended without delivering anything (failed on another channel,
    or cancelled by a re-check) and the engine now decides it again: then it is set
    pending again with the new channel, payload and time. New rows are sealed and stamped
    with audit entry `seq`; revived ones are re-sealed through `book` (which that entry takes).
    """
    if not rows:
        return 0, 0
    before = conn.execute(select(func.max(outbox.c.id))).scalar() or 0
    sealed = seal_close(open_seals, decision_ids)
    # (decision id, seal) before each planned row: one tuple per row, built in C.
    inserted = _insert(conn, outbox, ("decision_id", "seal", *OUTBOX_PLANNED),
                       list(map(tuple.__add__, zip(decision_ids, sealed), rows)), seq, ignore=True)
    # SQLite's rowcount of an executemany is the sum of the rows inserted (other drivers'
    # may not be), and SQLite numbers the rows of one statement one after the other: all new
    # (a first tick) or none (the steady state) needs no read-back.
    if conn.dialect.name == "sqlite" and inserted == len(rows) and \
            conn.execute(select(func.max(outbox.c.id))).scalar() == before + inserted:
        book.add_many("outbox", range(before + 1, before + 1 + inserted), sealed)
        return inserted, 0
    if conn.dialect.name == "sqlite" and inserted == 0:
        new = {}
    else:
        new = {tuple(r[1:]): r[0] for r in fetch_tuples(conn, select(
            outbox.c.id, outbox.c.acct_no, outbox.c.stage, outbox.c.attempt, outbox.c.episode_key)
            .where(outbox.c.id > before))}
    act_once = [r[:4] for r in rows]        # (acct_no, stage, attempt, episode_key)
    mine = [(new[k], s) for k, s in zip(act_once, sealed) if k in new]
    book.add_many("outbox", [k for k, _ in mine], [s for _, s in mine])
    # OUTBOX_COLUMNS order again, as _revive reads them.
    conflicts = {k: (r[0], did) + r[1:] for k, did, r in zip(act_once, decision_ids, rows) if k not in new}
    return len(new), _revive(conn, conflicts, now, book)


def _revive(conn: Connection, conflicts: dict, now: int, book: SealBook) -> int:
    if not conflicts:
        return 0
    found = []
    for part in chunks(sorted({k[0] for k in conflicts}), IN_CHUNK):
        found += fetch_tuples(conn, select(outbox.c.id, outbox.c.acct_no, outbox.c.stage, outbox.c.attempt,
                                           outbox.c.episode_key, outbox.c.status, outbox.c.channel)
                              .where(int_in(outbox.c.acct_no, part), outbox.c.status.in_(REVIVABLE)))
    updates = []
    for oid, acct, stage, attempt, episode, status, channel in found:
        row = conflicts.get((acct, stage, attempt, episode))
        # The engine decides a failed contact again on another channel, or on the same one once
        # that channel's `retry_after_hours` has passed (it skips a failed channel until then);
        # a cancelled one on any.
        if row is None:
            continue
        updates.append((row[1], row[5], row[8], row[11], row[12], row[13], now, oid, status))
    stmt = (update(outbox).where(outbox.c.id == bindparam("b_id"), outbox.c.status == bindparam("b_status"))
            .values(status="pending", tries=0, claimed_by=None, claimed_at=None,
                    decision_id=bindparam("v_decision"), channel=bindparam("v_channel"),
                    next_attempt_at=bindparam("v_next"), payload=bindparam("v_payload"),
                    experiment_id=bindparam("v_experiment"), strategy=bindparam("v_strategy"),
                    updated_at=bindparam("v_now")))
    names = ("v_decision", "v_channel", "v_next", "v_payload", "v_experiment", "v_strategy", "v_now", "b_id",
             "b_status")
    if not updates:
        return 0
    revived = executemany(conn, stmt, updates, names)
    book.reseal(conn, "outbox", [u[7] for u in updates])
    return revived


# PostgreSQL: the page's evaluations as one statement over arrays, not one UPDATE per account
# (each a round of parse, plan and executor start-up in the server: ~3x the time for 10,000 rows,
# measured 0.40 s against 0.13 s, and the page holds the audit chain's head while it runs).
_MARK_EVALUATED_PG = text(
    "UPDATE accounts AS a SET next_evaluation_at = v.nxt, last_evaluated_at = v.at, evaluated_revision = v.rev, "
    "decision_key = v.k, decision_id = v.did "
    "FROM unnest(CAST(:nxt AS bigint[]), CAST(:at AS bigint[]), CAST(:rev AS integer[]), CAST(:k AS text[]), "
    "CAST(:did AS bigint[]), CAST(:acct AS integer[]), CAST(:brev AS integer[])) AS v(nxt, at, rev, k, did, acct, brev) "
    "WHERE a.acct_no = v.acct AND a.revision = v.brev")


def mark_evaluated(conn: Connection, rows: list[tuple]) -> int:
    """Record evaluations: rows of (next_evaluation_at, evaluated_at, revision,
    decision_key, decision_id, acct_no, revision), one per account, written only where the
    account's revision is still the one evaluated; returns how many were written."""
    if rows and conn.dialect.name == "postgresql":
        nxt, at, rev, key, did, acct, brev = map(list, zip(*rows))
        return conn.execute(_MARK_EVALUATED_PG, {"nxt": nxt, "at": at, "rev": rev, "k": key, "did": did,
                                                 "acct": acct, "brev": brev}).rowcount
    stmt = (update(accounts)
            .where(accounts.c.acct_no == bindparam("b_acct"), accounts.c.revision == bindparam("b_rev"))
            .values(next_evaluation_at=bindparam("v_next"), last_evaluated_at=bindparam("v_at"),
                    evaluated_revision=bindparam("v_rev"), decision_key=bindparam("v_key"),
                    decision_id=bindparam("v_did")))
    return executemany(conn, stmt, rows, ("v_next", "v_at", "v_rev", "v_key", "v_did", "b_acct", "b_rev"))
