"""The store's boundary for errors: SQLAlchemy's and the database driver's become `StoreError`s.

Every place the store opens a connection or a transaction runs inside `translated(url)`
(`db.read_transaction`, `db.write_transaction`, `db.connect`, `Store`'s constructor), so
no caller ever sees an exception of SQLAlchemy or of the driver. The message says what
failed, in words an operator can act on; the original is kept as `cause` (and as
`__cause__`, so a logged traceback shows both).

| what happened | raised |
|---|---|
| the lock was held longer than the busy timeout | `StoreLocked` ("database is locked") |
| a unique or foreign key was broken | `StoreConflict` |
| a table is missing | `SchemaError` ("no Arrears schema in <url>: ...") |
| the disk is full or the database read-only (SQLite's file, its directory or file system, a `mode=ro` URL; a PostgreSQL read-only transaction) | `StoreUnwritable` |
| anything else (unreachable, bad URL, a broken file) | `StoreError` |

`write_blocker(engine)` says, without writing, why a write would fail now (for `/healthz`).
"""
from __future__ import annotations

import os
import re
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from arrears.engine.domain.errors import StoreConflict, StoreError, StoreLocked, StoreUnwritable


class SchemaError(StoreError):
    """The database has no Arrears schema, a newer one than this code knows, or one that
    could not be upgraded."""


_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")
# Read from the driver's message (SQLite's and PostgreSQL's wording), lower-cased.
_LOCKED = re.compile(r"database (table |schema )?is locked|lock.timeout|deadlock detected"
                     r"|could not serialize access|could not obtain lock")
_NO_SCHEMA = re.compile(r'no such table|relation ".*" does not exist')
_UNWRITABLE = re.compile(r"database or disk is full|disk is full|no space left|could not extend file"
                         r"|readonly database|read-only")
_UNWRITABLE_HEADLINE = "disk full or database read-only"
_OPEN_OR_IO = re.compile(r"unable to open database file|disk i/o error")
LOW_SPACE = 64 * 1024       # bytes free on a SQLite database's file system below which it counts as full
_HEADLINES = (
    (re.compile(r'unable to open database file|could not connect|connection refused|connection to server'
                r'|server closed the connection|could not translate host name|timeout expired'
                r'|database ".*" does not exist'), "the database cannot be reached"),
    (re.compile(r"file is not a database|database disk image is malformed"), "not a usable database file"),
    (re.compile(r"disk i/o error"), "the disk failed to read or write the database"),
)


def safe_url(url) -> str:
    """The database URL as text, without its password (for messages and logs)."""
    render = getattr(url, "render_as_string", None)
    if render is not None:
        return render(hide_password=True)
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _PASSWORD.sub(r"\1***@", str(url))


def sqlite_file(url) -> Path | None:
    """The file of a SQLite URL, `file:` URIs (`sqlite:///file:x.db?mode=ro&uri=true`) included;
    None for other databases and in-memory SQLite. Raises SQLAlchemy's ArgumentError for a bad URL."""
    parsed = make_url(str(url)) if not hasattr(url, "get_backend_name") else url
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if parsed.query.get("uri") in ("true", "1") and database.startswith("file:"):
        database = database[len("file:"):]
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def _read_only_reason(url) -> str | None:
    """Why the SQLite database at `url` cannot be written, as seen from outside SQLite: a
    read-only URL, or a file or directory this process may not write (a read-only file system,
    permissions). WAL mode writes beside the file, so its directory counts. None if writable."""
    try:
        path = sqlite_file(url)
    except (ArgumentError, ValueError):
        return None
    if path is None:
        return None
    for target, what in ((path, "its file"), (path.parent, "its directory")):
        if target.exists() and not os.access(target, os.W_OK):
            try:
                read_only_fs = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
            except OSError:
                read_only_fs = False
            return "its file system is read-only" if read_only_fs else f"{what} is not writable"
    return None


def _read_only_url(url) -> str | None:
    """'the URL opens it read-only' for a SQLite `mode=ro` or `immutable` URL, else None. Checked
    after the file system and the disk: a reader (`audit verify` opens read-only) that fails on a
    full disk or a read-only file system (WAL mode writes its side files even to read) is told that."""
    try:
        if sqlite_file(url) is None:
            return None
        query = make_url(str(url)).query if not hasattr(url, "query") else url.query
    except (ArgumentError, ValueError):
        return None
    if query.get("mode") == "ro" or query.get("immutable") in ("1", "true"):
        return "the URL opens it read-only"
    return None


def _disk_full_reason(url) -> str | None:
    """'its disk is full (N KiB free)' when the file system of the SQLite database at `url`
    has less than LOW_SPACE bytes free for this process; else None."""
    try:
        path = sqlite_file(url)
        if path is None:
            return None
        stat = os.statvfs(path.parent if str(path.parent) else ".")
    except (ArgumentError, ValueError, OSError):
        return None
    free = stat.f_bavail * stat.f_frsize
    return f"its disk is full ({free // 1024} KiB free)" if free < LOW_SPACE else None


def write_blocker(engine) -> str | None:
    """Why a write to the database of `engine` would fail now, found without writing; None
    if nothing is known to stop one. SQLite: a read-only URL, file, directory or file system,
    less than LOW_SPACE bytes free, or the file at its `max_page_count`. PostgreSQL: a
    read-only session (a standby, `default_transaction_read_only`). A disk that fills up
    under PostgreSQL shows only when a write fails. StoreError if the database cannot be read."""
    url = engine.url
    if engine.dialect.name == "sqlite":
        reason = _read_only_reason(url) or _disk_full_reason(url) or _read_only_url(url)
        if reason is not None:
            return f"{_UNWRITABLE_HEADLINE}: {reason}"
        with translated(url), engine.connect() as conn:
            raw = conn.connection.driver_connection
            pages = raw.execute("PRAGMA page_count").fetchone()[0]
            limit = raw.execute("PRAGMA max_page_count").fetchone()[0]
        return f"{_UNWRITABLE_HEADLINE}: the file is at its maximum of {limit} pages" if pages >= limit else None
    if engine.dialect.name == "postgresql":
        with translated(url), engine.connect() as conn:
            read_only = conn.exec_driver_sql("SHOW transaction_read_only").scalar()
        return f"{_UNWRITABLE_HEADLINE}: the server only allows read-only transactions" if read_only == "on" else None
    return None


def _driver_errors() -> tuple[type, ...]:
    """The driver exception bases to translate: sqlite3's, and psycopg's if it is loaded."""
    errors: list[type] = [sqlite3.Error]
    for name in ("psycopg", "psycopg2"):
        module = sys.modules.get(name)
        if module is not None and isinstance(getattr(module, "Error", None), type):
            errors.append(module.Error)
    return tuple(errors)


def is_database_error(exc: BaseException) -> bool:
    """True for an exception of SQLAlchemy or of a database driver."""
    return isinstance(exc, (SQLAlchemyError, *_driver_errors()))


def _detail(exc: BaseException) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def store_error(exc: BaseException, url) -> StoreError:
    """The `StoreError` (or subclass) that says what `exc`, a SQLAlchemy or driver error
    met on the database at `url`, means."""
    where, detail = safe_url(url), _detail(exc)
    low = detail.lower()
    orig = getattr(exc, "orig", None) or exc      # a driver's own error (a COPY's) is its own original
    if isinstance(exc, (ArgumentError, NoSuchModuleError)):
        return StoreError(f"cannot use the database URL {where}: {detail}", exc)
    if isinstance(exc, (IntegrityError, sqlite3.IntegrityError)) or _named(orig, "IntegrityError"):
        return StoreConflict(f"a write broke a constraint of the database ({where}): {detail}", exc)
    if _LOCKED.search(low):
        return StoreLocked(f"database is locked: another transaction held it longer than the busy "
                           f"timeout ({where}: {detail})", exc)
    if _NO_SCHEMA.search(low):
        return SchemaError(f"no Arrears schema in {where}: run `arrears import` or `arrears tick` "
                           f"against it (which create the schema), or check the URL ({detail})", exc)
    if _UNWRITABLE.search(low):
        return StoreUnwritable(f"{_UNWRITABLE_HEADLINE} ({where}: {detail})", exc)
    if _OPEN_OR_IO.search(low):
        # SQLite's words when it cannot create or grow the files beside the database (WAL)
        reason = _read_only_reason(url) or _disk_full_reason(url) or _read_only_url(url)
        if reason is not None:
            return StoreUnwritable(f"{_UNWRITABLE_HEADLINE}: {reason} ({where}: {detail})", exc)
    for pattern, headline in _HEADLINES:
        if pattern.search(low):
            return StoreError(f"{headline} ({where}: {detail})", exc)
    return StoreError(f"database error ({where}): {detail}", exc)


def _named(exc, name: str) -> bool:
    return exc is not None and any(cls.__name__ == name for cls in type(exc).__mro__)


@contextmanager
def translated(url):
    """Run the block; a SQLAlchemy or driver error leaving it is raised as `store_error(...)`.

    A `StoreError` (from an inner boundary) and every other exception pass unchanged.
    """
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        if not is_database_error(exc):
            raise
        raise store_error(exc, url) from exc
