"""The tamper-evident audit log: a hash chain over append-only entries.

Entry `n` stores `hash = SHA-256(prev_hash + canonical entry)`, where `prev_hash` is
entry `n-1`'s hash (64 zeros for the first) and the canonical entry is the JSON of
`{seq, at, kind, subject, body}` with sorted keys. Changing, removing or reordering
any entry breaks every later link; cutting off the tail is caught by the
`audit_head` row. Event batches are also checked against their rows: an
`events.appended` entry holds the SHA-256 of the events it recorded, so editing a
stored event is detected too. The rows that decide or deliver (accounts, invoices,
decisions, the outbox, policy versions) carry seals the entries vouch for: see
`arrears.engine.store.seals`. (Someone who can rewrite the whole database can rebuild a
consistent chain: keep the head hash that `verify` prints somewhere else.)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, insert, select, update

from arrears.engine.store import seals as sealing
from arrears.engine.store.codec import EVENT_DIGEST_COLUMNS, canonical, event_digest_line, sha256
from arrears.engine.store.schema import audit, audit_head, events
from arrears.engine.store.seals import SealBook

GENESIS = "0" * 64
EVENTS_APPENDED = "events.appended"


def entry_hash(prev_hash: str, seq: int, at: int, kind: str, subject: str, body) -> str:
    """The chain hash of one entry (`body` as a JSON value, not text)."""
    entry = canonical({"seq": seq, "at": at, "kind": kind, "subject": subject, "body": body})
    return sha256(prev_hash + entry)


def lock_head(conn: Connection) -> None:
    """Take the chain head's row lock for the rest of the transaction.

    On PostgreSQL this queues concurrent writers the way SQLite's single write lock
    does, so their duplicate checks and id lookups never race. (SQLite: no-op.)
    """
    conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update())


def next_seq(conn: Connection) -> int:
    """The seq the next `append` in this transaction will get (the caller holds the head's
    lock: `lock_head`), for bulk writes that stamp their rows before the entry is written."""
    return conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one() + 1


def append(conn: Connection, kind: str, subject: str, body: dict, at: int, *,
           seals: SealBook | None = None, reseal: dict | None = None, expect_seq: int | None = None) -> int:
    """Append one entry inside the caller's transaction; returns its seq.

    `kind` is a dotted name (`accounts.upserted`, `policy.activated`, `decision.made`,
    `delivery.sent` ...), `subject` what it is about (an account id, a policy digest).
    `seals`: the rows this entry seals (`seals.SealBook`); `reseal`: {table: keys} of rows
    changed in this transaction, sealed as they are now and pointed at this entry.
    `expect_seq`: the seq a bulk writer stamped its rows with (`next_seq`).
    """
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
                        .with_for_update()).one()
    seq, prev = head.seq + 1, head.hash
    if expect_seq is not None and expect_seq != seq:
        raise RuntimeError(f"rows were stamped with audit entry {expect_seq}, but the entry is {seq}")
    if reseal:
        seals = seals or SealBook()
        for name, keys in reseal.items():
            seals.reseal(conn, name, keys)
    if seals:
        body = {**body, "seals": seals.body()}
        seals.stamp(conn, seq)
    body = json.loads(canonical(body))        # the form verify will read back
    digest = entry_hash(prev, seq, at, kind, subject, body)
    conn.execute(insert(audit), {"seq": seq, "at": at, "kind": kind, "subject": subject,
                                 "body": canonical(body), "prev_hash": prev, "hash": digest})
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return seq


class EventDigest:
    """Running SHA-256 over event rows in seq order, as `events.appended` entries record it."""

    def __init__(self):
        self._h = hashlib.sha256()
        self.count = 0

    def add(self, values: tuple) -> None:
        """Add one event row (a tuple in EVENT_DIGEST_COLUMNS order)."""
        self._h.update(event_digest_line(values))
        self.count += 1

    def hexdigest(self) -> str:
        """The digest so far."""
        return self._h.hexdigest()


@dataclass(frozen=True)
class Verification:
    """Result of walking the chain: ok, or the first broken seq and why."""

    ok: bool
    entries: int
    head_hash: str
    broken_seq: int | None = None
    reason: str | None = None
    findings: tuple = ()                               # seals.Finding: sealed rows that changed
    rows: dict = field(default_factory=dict)           # sealed rows checked, per table


def verify(conn: Connection, chunk: int = 5000) -> Verification:
    """Walk the whole chain (and the event batches it records); stop at the first break.
    Then check every sealed row (`seals.check`): `findings` lists each one that changed."""
    prev, expected, last = GENESIS, 1, 0
    batches: dict[int, dict] = {}
    recorded: dict[int, dict] = {}
    for rows in conn.execute(select(audit).order_by(audit.c.seq)).partitions(chunk):
        for row in rows:
            problem = _check_entry(row, expected, prev)
            if problem:
                return Verification(False, expected - 1, prev, row.seq, problem)
            if row.kind == EVENTS_APPENDED:
                batches[row.seq] = json.loads(row.body)
            if '"seals":' in row.body:
                parts = json.loads(row.body).get("seals")
                if isinstance(parts, dict):
                    recorded[row.seq] = parts
            prev, expected, last = row.hash, row.seq + 1, row.seq
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
    if (head.seq, head.hash) != (last, prev):
        return Verification(False, last, prev, last + 1,
                            f"the chain ends at seq {last} but its head says seq {head.seq}: "
                            "entries were removed from the end")
    broken = _check_event_batches(conn, batches, chunk)
    if broken:
        return Verification(False, last, prev, *broken)
    findings, checked = sealing.check(conn, recorded, chunk)
    return Verification(not findings, last, prev, findings=tuple(findings), rows=checked)


def seal_baseline(conn: Connection, at: int) -> int | None:
    """Seal every row of the sealed tables that has no seal yet, under one `seals.baseline`
    entry (revision 0010 runs it on the rows stored before it); returns its seq, or None
    when there was nothing to seal. Only tables this revision has seal columns for (a table
    registered by a later revision does not exist yet)."""
    book, seq = SealBook(), next_seq(conn)
    tables = [spec.name for spec in sealing.sealed_tables(conn) if sealing.seal_unsealed(conn, book, spec, seq)]
    if not tables:
        return None
    return append(conn, "seals.baseline", "seals", {"tables": tables}, at, seals=book, expect_seq=seq)


def _check_entry(row, expected: int, prev: str) -> str | None:
    if row.seq != expected:
        return f"expected seq {expected}, found {row.seq}: entries are missing"
    if row.prev_hash != prev:
        return "prev_hash does not match the previous entry's hash"
    try:
        body = json.loads(row.body)
    except ValueError:
        return "body is not valid JSON"
    if canonical(body) != row.body:
        return "body is not in canonical form (it was edited)"
    if entry_hash(prev, row.seq, row.at, row.kind, row.subject, body) != row.hash:
        return "hash does not match the entry's content (it was edited)"
    return None


def _check_event_batches(conn: Connection, batches: dict, chunk: int):
    """Recompute each recorded event batch's digest from the stored rows."""
    digests = {seq: EventDigest() for seq in batches}
    stray = None
    cols = [events.c[name] for name in EVENT_DIGEST_COLUMNS]
    stmt = select(events.c.audit_seq, *cols).order_by(events.c.seq)
    for rows in conn.execute(stmt).partitions(chunk):
        for row in rows:
            digest = digests.get(row[0])
            if digest is None:
                stray = stray or row[0]
                continue
            digest.add(tuple(row[1:]))
    if stray is not None:
        return stray, f"events claim audit entry {stray}, which recorded no events"
    for seq, body in sorted(batches.items()):
        d = digests[seq]
        if d.count != body.get("stored") or d.hexdigest() != body.get("events_sha256"):
            return seq, (f"the events recorded by this entry changed (now {d.count} rows, "
                         f"recorded {body.get('stored')})")
    return None


def count(conn: Connection) -> int:
    """Number of audit entries."""
    return conn.execute(select(func.count()).select_from(audit)).scalar_one()
