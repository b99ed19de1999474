"""Database connections: the URL, the engine, and transactions that behave the same everywhere.

SQLite gets WAL journaling (readers never block the writer), foreign keys, a busy
timeout, and SQLAlchemy-emitted BEGIN instead of the sqlite3 module's implicit one,
so DDL is transactional and a write transaction takes the write lock up front
(`BEGIN IMMEDIATE`): two writers queue on the busy timeout instead of failing
half-way with "database is locked".

Every connection and transaction opened here translates the errors of SQLAlchemy and
of the driver into `StoreError`s (`arrears.engine.store.failures`).
"""
from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert, literal_column
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError

from arrears.engine.domain.errors import InputError, StoreError
from arrears.engine.store.failures import safe_url, sqlite_file, translated

DEFAULT_URL = "sqlite:///arrears.db"
URL_ENV = "ARREARS_DATABASE_URL"
POSTGRES_DRIVER = "postgresql+psycopg"   # what a plain postgresql:// URL uses (the `postgres` extra)
_WRITE = "arrears_write"      # execution option marking a write transaction
_SYNC_LEVELS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}   # PRAGMA synchronous values


def default_url(environ=None) -> str:
    """The database URL: `$ARREARS_DATABASE_URL`, else `sqlite:///arrears.db` in the working directory."""
    environ = os.environ if environ is None else environ
    return environ.get(URL_ENV) or DEFAULT_URL


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    with translated(url):
        return sqlite_file(url)


def make_engine(url: str, *, busy_timeout: float = 30.0, synchronous: str = "FULL",
                echo: bool = False, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine for `url`, with the SQLite settings above when it is SQLite.

    `synchronous=FULL` keeps every committed transaction across a power cut (the outbox
    relies on it); `NORMAL` is faster and still never corrupts a WAL database.
    `read_only`: the database refuses every write (SQLite opens the file with `mode=ro`;
    PostgreSQL sessions default to read-only transactions).
    """
    with translated(url):
        parsed = with_driver(make_url(url))
        try:
            target, *extra = _read_only(parsed) if read_only else (parsed,)
            engine = create_engine(target, echo=echo, **(extra[0] if extra else {}))
        except ImportError as exc:          # the URL names a driver that is not installed
            raise StoreError(_missing_driver(parsed, exc), exc) from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, int(busy_timeout * 1000), synchronous, read_only)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "handle_error", _nul_is_bad_input)
    return engine


def with_driver(url):
    """`url` (a SQLAlchemy URL) with PostgreSQL's driver spelt out: a plain `postgresql://` means
    psycopg 3, the driver `pip install 'arrears[postgres]'` brings (SQLAlchemy would pick psycopg2).
    An explicit `postgresql+DRIVER://` and every other database are left as they are."""
    return url.set(drivername=POSTGRES_DRIVER) if url.drivername == "postgresql" else url


def _missing_driver(url, exc: ImportError) -> str:
    """One line for a URL whose database driver is not installed, saying how to install it."""
    what = f"cannot use the database URL {safe_url(url)}"
    if url.drivername == POSTGRES_DRIVER:
        return f"{what}: the PostgreSQL driver (psycopg) is not installed: pip install 'arrears[postgres]'"
    return f"{what}: its driver is not installed ({exc})"


def _read_only(url) -> tuple:
    """`create_engine` arguments opening `url` (a SQLAlchemy URL) so that nothing can be written
    through it."""
    path = sqlite_path(url.render_as_string(hide_password=False))
    if path is not None:
        return (f"sqlite:///file:{path.resolve()}?mode=ro&uri=true",)
    if url.get_backend_name() == "postgresql":
        return url, {"connect_args": {"options": "-c default_transaction_read_only=on"}}
    return (url,)


NUL_IN_TEXT = "text must not contain the NUL character (U+0000)"


def _nul_is_bad_input(context) -> None:
    """PostgreSQL cannot hold U+0000 in text (SQLite can), and its driver refuses any value
    carrying one: that is bad input (InputError, a 422 from the API), not a database failure."""
    if isinstance(context.sqlalchemy_exception, DataError) and _is_nul_refusal(context.original_exception):
        raise InputError(NUL_IN_TEXT) from context.original_exception


def _is_nul_refusal(exc: BaseException) -> bool:
    """Whether `exc` is the driver refusing a text value that carries U+0000."""
    return "NUL (0x00)" in str(exc)


def _configure_sqlite(engine: Engine, busy_ms: int, synchronous: str, read_only: bool = False) -> None:
    if synchronous not in _SYNC_LEVELS.values():
        raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN (see _on_begin); the sqlite3 module's own implicit
        # BEGIN skips DDL and cannot take the write lock early.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction(engine: Engine, *, synchronous: str | None = None, cache_kib: int | None = None,
                      checkpoint_pages: int | None = None, foreign_keys: bool | None = None):
    """A connection inside a write transaction: committed on success, rolled back on error.

    SQLite only, for this transaction (the connection gets its settings back after it):
    `synchronous` overrides the engine's level, e.g. "NORMAL" for work that is redone
    when lost: in WAL mode such a commit survives a crash of the process, and a power
    cut can only lose a suffix of the latest transactions, never one that a later
    `FULL` commit followed (the WAL is replayed in order up to the last intact commit).
    `cache_kib` sizes the page cache for a transaction that reads and then updates
    many pages, so the update finds them in memory. `checkpoint_pages` is the WAL size
    (in pages) above which this commit copies the WAL into the database file (SQLite's
    `wal_autocheckpoint`, 1000 by default): a series of large transactions checkpoints
    less often, copying a page changed by several of them once, with one fsync.
    """
    pragmas = {}
    if synchronous is not None:
        if synchronous not in _SYNC_LEVELS.values():
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        pragmas["synchronous"] = {v: k for k, v in _SYNC_LEVELS.items()}[synchronous]
    if cache_kib is not None:
        pragmas["cache_size"] = -int(cache_kib)
    if checkpoint_pages is not None:
        pragmas["wal_autocheckpoint"] = int(checkpoint_pages)
    if foreign_keys is not None:
        pragmas["foreign_keys"] = int(bool(foreign_keys))
    with translated(engine.url), engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        restore = _set_pragmas(conn, pragmas)
        try:
            with conn.begin():
                yield conn
        finally:
            _set_pragmas(conn, restore)


def _set_pragmas(conn: Connection, pragmas: dict[str, int]) -> dict[str, int]:
    """Set integer SQLite pragmas on `conn` outside any transaction (SQLite refuses to
    change `synchronous` inside one); returns the previous values of those changed."""
    if not pragmas or conn.dialect.name != "sqlite":
        return {}
    raw = conn.connection.driver_connection      # the driver's own: no SQLAlchemy autobegin
    old = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in pragmas}
    changed = {name: int(value) for name, value in pragmas.items() if old[name] != value}
    for name, value in changed.items():
        raw.execute(f"PRAGMA {name} = {value}")
    return {name: old[name] for name in changed}


def fetch_tuples(conn: Connection, stmt) -> list[tuple]:
    """The rows of a SELECT as the driver's plain tuples, inside the caller's transaction.

    For bulk reads of integers and text: skips SQLAlchemy's per-row `Row` objects and
    result processing, a third of the cost of reading a page of accounts. Bound values
    are rendered inline (the callers bind integers and fixed strings only), which also
    lifts the bound-parameter limit of long IN lists.
    """
    return fetch_sql(conn, str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})))


def fetch_sql(conn: Connection, sql: str) -> list[tuple]:
    """`fetch_tuples` for SQL text already compiled for `conn`'s dialect (callers that run
    one query shape many times compile it once)."""
    if not conn.in_transaction():
        conn.begin()        # as SQLAlchemy's autobegin would: one snapshot until the caller ends it
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


KEYS = "__arrears_keys__"      # where a query's condition on the account keys goes (`fetch_keyed`)
IN_CHUNK = 5000                # keys per IN (...) list, written into the SQL (no bound parameters)


def fetch_keyed(conn: Connection, sql: str, key: str, nos) -> list[tuple]:
    """The rows of `sql` (compiled once by the caller, with `KEYS` standing for the condition on
    the integer key column `key`) for the strictly increasing keys `nos`: one query per chunk
    of keys, a range scan for a dense run of them, else `IN (...)` with the integers written
    into the text (no quoting needed, no bound-parameter limit)."""
    rows: list = []
    for part in _key_parts(nos):
        lo, hi = int(part[0]), int(part[-1])
        if hi - lo + 1 == len(part):     # a dense run of keys: a range scan beats IN (...)
            cond = f"{key} BETWEEN {lo} AND {hi}"
        else:
            cond = f"{key} IN ({','.join(map(str, part.tolist()))})"
        rows.extend(fetch_sql(conn, sql.replace(KEYS, cond, 1)))
    return rows


def _key_parts(nos):
    if not len(nos):
        return
    if nos[-1] - nos[0] + 1 == len(nos):
        yield nos
        return
    for start in range(0, len(nos), IN_CHUNK):
        yield nos[start:start + IN_CHUNK]


def int_in(column, values):
    """`column IN (v1, v2, ...)` for integer `values`, written into the SQL text.

    Rendering thousands of bound values through SQLAlchemy costs more than the lookups
    they select; integers need no quoting, so the list is formatted directly.
    """
    items = ",".join(str(int(v)) for v in values)
    return column.op("IN")(literal_column(f"({items})"))


@contextmanager
def read_transaction(engine: Engine):
    """A connection inside a read transaction: one consistent snapshot of the database."""
    with translated(engine.url), engine.connect() as conn:
        with conn.begin():
            yield conn


@contextmanager
def connect(engine: Engine):
    """A connection without an explicit transaction (SQLAlchemy begins one on first use and
    rolls it back on close), for a single read such as the schema revision."""
    with translated(engine.url), engine.connect() as conn:
        yield conn


def chunks(seq, size: int):
    """Consecutive slices of `seq` of at most `size` items (bound-parameter limits)."""
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def bulk_insert(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT many rows given as tuples in `columns` order: one executemany, or on PostgreSQL
    (psycopg 3) one COPY (`_copy_rows`).

    The statement is compiled by SQLAlchemy for the connection's dialect, then run
    with the rows as they are: Core's per-row parameter processing would cost more
    than the database's insert itself. Only for columns whose type needs no bind
    conversion (integers, text, floats, None), which is every column this store bulk-loads.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_rows(conn, table, columns, rows)
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    if compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup]
        if order != list(range(len(columns))):
            rows = list(map(itemgetter(*order), rows))     # in C: a generator per row costs 3x
        conn.exec_driver_sql(str(compiled), rows)
    else:
        conn.exec_driver_sql(str(compiled), [dict(zip(columns, row)) for row in rows])


def _copy_rows(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """PostgreSQL with psycopg 3: the rows streamed with `COPY ... FROM STDIN` in the connection's
    transaction. An executemany of INSERTs costs the server a statement per row: at 50,000 accounts
    a chunk (their invoices and events) COPY loads the rows several times faster. Defaults
    (identity keys) and constraints apply as with INSERT; a broken one fails the COPY whole."""
    prep = conn.dialect.identifier_preparer
    sql = f"COPY {prep.format_table(table)} ({', '.join(prep.quote(c) for c in columns)}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except Exception as exc:
        if _is_nul_refusal(exc):
            raise InputError(NUL_IN_TEXT) from exc
        raise
    finally:
        cursor.close()


def plan_for_parameters(conn: Connection) -> None:
    """PostgreSQL: plan every statement of this transaction for its parameters and the tables as
    they are now (`SET LOCAL plan_cache_mode = force_custom_plan`); elsewhere nothing.

    For bulk loads. psycopg 3 prepares a statement on the server after its fifth execution, and
    PostgreSQL may then keep one generic plan for it. A plan made while a table was nearly empty
    (the first chunks of a load, in one transaction: no ANALYZE can see them) stays: a load's
    account lookups scanned the whole growing table, and 100,000 generated accounts took 237 s
    instead of 73. Elsewhere generic plans are what we want (the tick's executemany of an UPDATE
    per account is planned once, not 10,000 times a page), and autovacuum's ANALYZE renews them
    as committed tables grow.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


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
