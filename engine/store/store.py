"""`Store`: the one object the CLI, the API and the tick use to reach the database.

    >>> store = Store("sqlite:///arrears.db")          # schema created or upgraded on open
    >>> store.upsert_accounts(accounts)
    >>> store.append_events([("ACC1", event, "psp-7781")])
    >>> page = store.due_accounts(now_epoch, limit=10_000)
    >>> batch = store.load_batch(page.acct_nos)

Each write method is one transaction. `store.transaction()` groups several writes
into one (the importer stores a whole file that way). Every method raises `StoreError`
(`arrears.engine.domain.errors`), never an exception of SQLAlchemy or of the driver,
when the database fails (see `arrears.engine.store.failures`).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
from sqlalchemy import func, select, text

from arrears.engine.domain.batch import Batch
from arrears.engine.domain.errors import InputError, StoreError
from arrears.engine.domain.model import Account, Event
from arrears.engine.store import (
    audit,
    batchload,
    debtors,
    due,
    ingest,
    migrations,
    policyvers,
    scan,
    stagereads,
    tickstore,
)
from arrears.engine.store.codec import account_from_row, event_from_row
from arrears.engine.store.db import (
    connect,
    default_url,
    make_engine,
    paused_gc,
    read_transaction,
    sqlite_path,
    write_transaction,
)
from arrears.engine.store.debtors import DebtorCursor
from arrears.engine.store.failures import translated, write_blocker
from arrears.engine.store.schema import accounts, events, invoices


class UnknownAccount(InputError, KeyError):
    """No account with that id is stored."""

    __str__ = InputError.__str__


def _epoch(now) -> int:
    if now is None:
        return int(time.time())
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise InputError("must be timezone-aware", "now")
        return int(now.timestamp())
    return int(now)


class Writer:
    """Write operations inside one open transaction (see `Store.transaction`)."""

    def __init__(self, conn, now: int):
        self.conn, self.now = conn, now

    def upsert_accounts(self, batch: list[Account]) -> ingest.UpsertReport:
        """See `Store.upsert_accounts`."""
        with paused_gc():
            return ingest.upsert_accounts(self.conn, list(batch), self.now)

    def append_events(self, pairs) -> ingest.AppendReport:
        """See `Store.append_events`."""
        with paused_gc():
            return ingest.append_events(self.conn, pairs, self.now)

    def acct_nos(self, ids) -> dict[str, int]:
        """See `Store.acct_nos` (read inside this transaction)."""
        return ingest.lookup(self.conn, ids)

    def accounts_info(self, ids) -> dict[str, tuple[int, str]]:
        """`{account_id: (acct_no, currency)}` for the stored accounts among `ids`."""
        return ingest.lookup(self.conn, ids, accounts.c.acct_no, accounts.c.currency)

    def audit(self, kind: str, subject: str, body: dict, *, reseal: dict | None = None) -> int:
        """Append an audit entry in this transaction; returns its seq. `reseal`: {table: keys}
        of sealed rows this transaction changed (an outbox row's transition, say): the entry
        seals them as they are now (`arrears.engine.store.seals`)."""
        return audit.append(self.conn, kind, subject, body, self.now, reseal=reseal)


class Store:
    """Accounts, events, decisions, outbox, audit log and policy versions in one database."""

    def __init__(self, url: str | None = None, *, upgrade: bool = True, create: bool = True,
                 busy_timeout: float = 30.0, synchronous: str = "FULL", echo: bool = False,
                 read_only: bool = False):
        """Open the database at `url` (default: `default_url()`).

        `upgrade`: bring the schema to the current revision (creating it if empty).
        `create`: for SQLite, whether a missing database file may be created.
        `read_only`: open it so that nothing can be written (`audit verify` on a copy);
        implies neither upgrading nor creating.
        """
        self.url = url or default_url()
        path = sqlite_path(self.url)
        if path is not None and (read_only or not create) and not path.exists():
            raise StoreError(f"no database file at {path}")
        self.engine = make_engine(self.url, busy_timeout=busy_timeout, synchronous=synchronous,
                                  echo=echo, read_only=read_only)
        if upgrade and not read_only:
            migrations.ensure_current(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        with translated(self.engine.url):
            self.engine.dispose()

    def forget_connections(self) -> None:
        """In a forked child process: drop the pooled connections inherited from the parent
        without closing them (they are the parent's), so this process opens its own."""
        self.engine.dispose(close=False)

    @property
    def in_memory(self) -> bool:
        """True for an in-memory SQLite database: this process's alone, invisible to others."""
        return self.engine.dialect.name == "sqlite" and sqlite_path(self.url) is None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ping(self) -> str | None:
        """Check that the database answers (a trivial query in a read transaction); returns
        the schema revision it is at. StoreError if it cannot be read."""
        with read_transaction(self.engine) as conn:
            conn.execute(text("SELECT 1"))
            return migrations.current_revision(conn)

    def write_blocker(self) -> str | None:
        """Why a write would fail now (disk full, read-only), found without writing; None if
        nothing is known to stop one (see `failures.write_blocker`)."""
        return write_blocker(self.engine)

    def schema_revision(self) -> str | None:
        """The schema revision the database is at (None for a database without the schema)."""
        with connect(self.engine) as conn:
            return migrations.current_revision(conn)

    @contextmanager
    def transaction(self, *, now=None):
        """A `Writer` whose writes commit together when the block ends (or roll back on error).

        Write transactions run one at a time (SQLite's write lock; on PostgreSQL the
        audit head's row lock), so checks made inside one hold until it commits.
        """
        with write_transaction(self.engine) as conn:
            audit.lock_head(conn)
            yield Writer(conn, _epoch(now))

    def upsert_accounts(self, batch: list[Account], *, now=None) -> ingest.UpsertReport:
        """Insert or replace accounts (with their invoices) in one transaction.

        Unchanged accounts are left alone; new and changed ones get `changed_at = now`
        and become due. One audit entry records the batch. Raises InputError (and
        stores nothing) if any amount cannot be stored exactly.
        """
        with self.transaction(now=now) as w:
            return w.upsert_accounts(batch)

    def append_events(self, pairs, *, now=None) -> ingest.AppendReport:
        """Append `(account_id, Event, event_key or None)` triples in one transaction.

        The key defaults to the event's own `id`. A key already stored for that account
        (or repeated in the batch) is not stored again: its index is in `duplicates`.
        An unknown account raises InputError naming it, and nothing is stored.
        Events are append-only: there is no API to change or delete one.
        """
        with self.transaction(now=now) as w:
            return w.append_events(pairs)

    def audit(self, kind: str, subject: str, body: dict, *, now=None) -> int:
        """Append one audit entry in its own transaction; returns its seq."""
        with self.transaction(now=now) as w:
            return w.audit(kind, subject, body)

    def acct_nos(self, ids) -> dict[str, int]:
        """Surrogate keys of the stored accounts among `ids` (unknown ids are left out)."""
        with read_transaction(self.engine) as conn:
            return ingest.lookup(conn, ids)

    def get_account(self, account_id: str) -> tuple[Account, list[Event]]:
        """The stored account and its whole history (oldest first); UnknownAccount if absent."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).one_or_none()
            if row is None:
                raise UnknownAccount(f"unknown account {account_id!r}", "account_id")
            inv = conn.execute(select(invoices).where(invoices.c.acct_no == row.acct_no)
                               .order_by(invoices.c.due_day, invoices.c.invoice_id)).all()
            evs = conn.execute(select(events).where(events.c.acct_no == row.acct_no)
                               .order_by(events.c.at, events.c.seq)).all()
        return account_from_row(row, inv), [event_from_row(e, row.currency) for e in evs]

    def debtor_siblings(self, account_id: str) -> list[str]:
        """The ids of the other stored accounts sharing `account_id`'s debtor_id, in acct_no order."""
        with read_transaction(self.engine) as conn:
            return debtors.sibling_ids(conn, account_id)

    def load_batch(self, acct_nos) -> Batch:
        """The decision core's `Batch` for strictly increasing `acct_nos` (row i = acct_nos[i]),
        read in one snapshot, built from SQL rows without model objects."""
        with read_transaction(self.engine) as conn:
            return batchload.load_batch(conn, acct_nos)

    def account_count(self) -> int:
        """How many accounts are stored."""
        with read_transaction(self.engine) as conn:
            return scan.count_accounts(conn)

    def batches(self, size: int) -> Iterator[Batch]:
        """`Batch`es of every stored account, about `size` at a time, in acct_no order, each
        holding whole debtors (every account sharing a `debtor_id` in one batch, so that
        per-debtor caps see them all; `arrears.engine.store.debtors`).

        Each page's keys and columns are read in one snapshot, so an account stored
        meanwhile either is in a page with all its rows or is left for a later page.
        """
        cursor = DebtorCursor()
        while True:
            with read_transaction(self.engine) as conn:
                nos = np.asarray(scan.acct_nos_after(conn, cursor.after, size), dtype=np.int64)
                if not len(nos):
                    return
                nos, _ = cursor.complete(conn, nos, np.zeros(len(nos), np.int64))
                batch = batchload.load_batch(conn, nos) if len(nos) else None
            if batch is not None:
                yield batch

    def due_accounts(self, now_epoch: int, limit: int = 10_000, after_acct_no: int = 0, *,
                     debtors: DebtorCursor | None = None) -> due.DuePage:
        """The next page of accounts due at `now_epoch` after `after_acct_no` (see `DuePage.last`),
        or, with `debtors`, the next page of whole debtors after that cursor (the tick's).

        Accounts whose `next_evaluation_at` has come are first marked due now (NULL),
        so this takes a (short) write transaction.
        """
        with write_transaction(self.engine) as conn:
            return due.due_accounts(conn, int(now_epoch), int(limit), int(after_acct_no), debtors)

    def due_count(self, now_epoch: int) -> int:
        """How many accounts are due at `now_epoch` (read-only: nothing is marked due)."""
        with connect(self.engine) as conn:
            return due.due_count(conn, int(now_epoch))

    @contextmanager
    def tick_page(self):
        """The write transaction of one tick page (`tickstore.page_transaction`): a connection
        for `tickstore`'s functions and `audit.append`, committed when the block ends."""
        with tickstore.page_transaction(self.engine) as conn:
            yield conn

    def mark_evaluated(self, acct_nos, revisions, next_evaluation_at, evaluated_at) -> int:
        """Record evaluations where the account has not changed since (see `due.mark_evaluated`)."""
        with write_transaction(self.engine) as conn:
            return due.mark_evaluated(conn, acct_nos, revisions, next_evaluation_at, _epoch(evaluated_at))

    def verify_audit(self) -> audit.Verification:
        """Walk the audit chain and the event batches it records (read-only)."""
        with read_transaction(self.engine) as conn:
            return audit.verify(conn)

    def record_policy(self, name: str, version: str, digest: str, source: str, *,
                      activate: bool = True, now=None) -> bool:
        """Store a policy version (once per digest), optionally making it the active one;
        audited. Returns True if anything changed."""
        with self.transaction(now=now) as w:
            return policyvers.record(w.conn, name, version, digest, source, activate, w.now)

    def active_policy(self) -> dict | None:
        """The active policy version (name, version, digest, source, activated_at) or None."""
        with read_transaction(self.engine) as conn:
            return policyvers.active(conn)

    def history_names(self) -> dict:
        """What the history says about policy names, for the policy warnings: accounts per stage,
        the stages and channels of contact events, the currencies (`stagereads.history_names`)."""
        with read_transaction(self.engine) as conn:
            return stagereads.history_names(conn)

    def policy_tampering(self, digest: str, source: str) -> str | None:
        """Why the stored policy version `digest` (whose stored text is `source`) must not be
        used, or None: its text must be the one its `policy.stored` audit entry recorded."""
        with read_transaction(self.engine) as conn:
            return policyvers.tampered(conn, digest, source)

    def policy_version(self, digest: str) -> dict | None:
        """The stored policy version with this digest (name, version, digest, source) or None."""
        with read_transaction(self.engine) as conn:
            return policyvers.by_digest(conn, digest)

    def put_snapshot(self, name: str, body: str, *, computed_at: int, seconds: float, meta: dict) -> None:
        """Store a snapshot (`arrears.engine.store.snapshots.put`) in its own transaction."""
        from arrears.engine.store import snapshots
        with write_transaction(self.engine) as conn:
            snapshots.put(conn, name, body, computed_at=computed_at, seconds=seconds, meta=meta)

    def snapshot(self, name: str) -> dict | None:
        """The snapshot `name` (`arrears.engine.store.snapshots.get`), or None."""
        from arrears.engine.store import snapshots
        with read_transaction(self.engine) as conn:
            return snapshots.get(conn, name)

    def start_job(self, name: str, holder: str, *, ttl: float, meta: dict) -> dict | None:
        """Claim and record the job kept as snapshot `name` (`snapshots.start_job`) in one
        transaction; None when `holder` claimed it, else the snapshot of the job running."""
        from arrears.engine.store import snapshots
        with write_transaction(self.engine) as conn:
            return snapshots.start_job(conn, name, holder, now=time.time(), ttl=ttl, meta=meta)

    def keep_job(self, name: str, holder: str, body: str = "", *, ttl: float, seconds: float, meta: dict,
                 end: bool = False) -> bool:
        """Write `holder`'s job progress or outcome (`snapshots.keep_job`) in its own transaction;
        False when the claim is no longer theirs."""
        from arrears.engine.store import snapshots
        with write_transaction(self.engine) as conn:
            return snapshots.keep_job(conn, name, holder, body, now=time.time(), ttl=ttl, seconds=seconds,
                                      meta=meta, end=end)

    def job_holder(self, name: str) -> str | None:
        """Who holds the claim on the job kept as snapshot `name` now (None: nobody)."""
        from arrears.engine.store import snapshots
        with read_transaction(self.engine) as conn:
            return snapshots.job_holder(conn, name, time.time())

    @property
    def users(self):
        """The console's users and the service's kept settings (`arrears.engine.store.users.Users`)."""
        from arrears.engine.store.users import Users
        return Users(self)

    @property
    def experiments(self):
        """Champion/challenger experiments and their assignments (`arrears.engine.store.experiments.Experiments`)."""
        from arrears.engine.store.experiments import Experiments
        return Experiments(self)

    @property
    def api_keys(self):
        """The API keys kept in the database (`arrears.engine.store.apikeys.ApiKeys`)."""
        from arrears.engine.store.apikeys import ApiKeys
        return ApiKeys(self)

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (for reports and tests)."""
        from arrears.engine.store.schema import audit as audit_t
        from arrears.engine.store.schema import decisions, outbox
        tables = {"accounts": accounts, "invoices": invoices, "events": events,
                  "decisions": decisions, "outbox": outbox, "audit": audit_t}
        with read_transaction(self.engine) as conn:
            return {name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for name, t in tables.items()}
