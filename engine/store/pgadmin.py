"""PostgreSQL server-level operations: databases made, copied and dropped, the server's activity.

    url = pgadmin.create_database(admin_url, "arrears_t_1f3c")       # an empty database
    copy = pgadmin.create_database(admin_url, "run_1", template="gen")  # a file copy of `gen`
    pgadmin.drop_database(admin_url, "run_1")
    pgadmin.vacuum(url)                   # after a bulk load: VACUUM (FREEZE, ANALYZE)
    pgadmin.wal_bytes(store.engine)       # bytes of WAL the server has written, ever

The test fixtures (a database per test) and the benchmarks (a portfolio generated once and
copied for each run, `bench/distributed.py`) use these; the product's own commands never create
or drop a database. `admin_url` names a database the user may connect to and create databases
from (`postgres`, as a superuser or a role with CREATEDB).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from arrears.engine.store.db import with_driver
from arrears.engine.store.failures import translated


def database_url(admin_url: str, name: str) -> str:
    """The URL of the database `name` on the server of `admin_url` (same user, host, options)."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def _autocommit(url: str):
    """A connection to `url` outside any transaction (CREATE DATABASE and VACUUM refuse to run
    in one), its errors translated; the engine is disposed of afterwards."""
    with translated(url):
        engine = create_engine(with_driver(make_url(url)), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()


def database_exists(admin_url: str, name: str) -> bool:
    """Whether the server of `admin_url` has a database called `name`."""
    with _autocommit(admin_url) as conn:
        return conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s",
                                    {"n": name}).scalar() is not None


def create_database(admin_url: str, name: str, *, template: str | None = None) -> str:
    """Create the database `name`; returns its URL. With `template`, a copy of that database
    (which no one may be connected to): on PostgreSQL 15 and later copied file by file
    (`STRATEGY = FILE_COPY`: a large database in seconds, where the default WAL_LOG strategy
    writes every page of it to the WAL)."""
    with _autocommit(admin_url) as conn:
        quote = conn.dialect.identifier_preparer.quote_identifier
        sql = f"CREATE DATABASE {quote(name)}"
        if template is not None:
            sql += f" TEMPLATE {quote(template)}"
            if conn.dialect.server_version_info >= (15,):
                sql += " STRATEGY = FILE_COPY"
        conn.exec_driver_sql(sql)
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop the database `name` if it exists, ending its sessions (`WITH (FORCE)`)."""
    with _autocommit(admin_url) as conn:
        quote = conn.dialect.identifier_preparer.quote_identifier
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")


def vacuum(url: str) -> None:
    """VACUUM (FREEZE, ANALYZE) the database at `url`: after a bulk load, its rows' visibility
    settled and its statistics gathered at once, rather than by autovacuum in the middle of
    whatever runs next."""
    with _autocommit(url) as conn:
        conn.exec_driver_sql("VACUUM (FREEZE, ANALYZE)")


def wal_bytes(engine) -> int:
    """Bytes of WAL the server of `engine` has produced since it was made (its WAL insert
    position): the difference between two readings is what the work between them wrote. The
    insert position, not the write position (`pg_current_wal_lsn`), which lags a commit by up to
    the WAL writer's delay when `synchronous_commit` is off (as on the test clusters)."""
    with translated(engine.url), engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").scalar())


@dataclass(frozen=True)
class Backend:
    """One session on the database, as `pg_stat_activity` shows it at one instant."""

    pid: int
    application: str        # the client's `application_name` (a URL may set it: `?application_name=x`)
    writing: bool           # in a transaction that has written or locked a row (it has an xid)
    lock_wait: bool         # waiting for a lock (a row lock another transaction holds)


def backends(engine) -> list[Backend]:
    """The other client sessions on `engine`'s database, now. A tick page's write transaction
    takes the audit chain head's row lock first (`audit.lock_head`, `tickstore.page_transaction`):
    a worker's session `writing` and not waiting holds that lock, one in `lock_wait` waits for it."""
    with translated(engine.url), engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT pid, application_name, backend_xid IS NOT NULL, wait_event_type = 'Lock' "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'").all()
    return [Backend(int(pid), app or "", bool(writing), bool(waiting)) for pid, app, writing, waiting in rows]
