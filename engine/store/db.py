"""Database connections: the URL, the engine, and transactions that behave the same everywhere.

SQLite gets WAL journaling (readers never block the writer), foreign keys, a busy
timeout, and SQLAlchemy-emitted BEGIN instead of the sqlite3 module's implicit one,
so DDL is transactional and a write transaction takes the write lock up front
(`BEGIN IMMEDIATE`): two writers queue on the busy timeout instead of failing
half-way with "database is locked".
"""
from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert
from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///arrears.db"
URL_ENV = "ARREARS_DATABASE_URL"
_WRITE = "arrears_write"      # execution option marking a write transaction


def default_url(environ=None) -> str:
    """The database URL: `$ARREARS_DATABASE_URL`, else `sqlite:///arrears.db` in the working directory."""
    environ = os.environ if environ is None else environ
    return environ.get(URL_ENV) or DEFAULT_URL


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str, *, busy_timeout: float = 30.0, synchronous: str = "FULL",
                echo: bool = False) -> Engine:
    """A SQLAlchemy engine for `url`, with the SQLite settings above when it is SQLite.

    `synchronous=FULL` keeps every committed transaction across a power cut (the outbox
    relies on it); `NORMAL` is faster and still never corrupts a WAL database.
    """
    engine = create_engine(url, echo=echo)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, int(busy_timeout * 1000), synchronous)
    return engine


def _configure_sqlite(engine: Engine, busy_ms: int, synchronous: str) -> None:
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN (see _on_begin); the sqlite3 module's own implicit
        # BEGIN skips DDL and cannot take the write lock early.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction(engine: Engine):
    """A connection inside a write transaction: committed on success, rolled back on error."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine):
    """A connection inside a read transaction: one consistent snapshot of the database."""
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def chunks(seq, size: int):
    """Consecutive slices of `seq` of at most `size` items (bound-parameter limits)."""
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def bulk_insert(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT many rows given as tuples in `columns` order, in one executemany.

    The statement is compiled by SQLAlchemy for the connection's dialect, then run
    with the rows as they are: Core's per-row parameter processing would cost more
    than the database's insert itself. Only for columns whose type needs no bind
    conversion (integers, text, floats, None), which is every column this store bulk-loads.
    """
    if not rows:
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    if compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup]
        if order != list(range(len(columns))):
            rows = [tuple(row[i] for i in order) for row in rows]
        conn.exec_driver_sql(str(compiled), rows)
    else:
        conn.exec_driver_sql(str(compiled), [dict(zip(columns, row)) for row in rows])


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector for a bulk operation.

    Bulk loads allocate millions of short-lived tuples; each triggers collections
    that scan every live object and free nothing (a quarter of the run time at
    100k accounts). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
