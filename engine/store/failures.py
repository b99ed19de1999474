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
| anything else (disk full, read-only, unreachable, bad URL) | `StoreError` |
"""
from __future__ import annotations

import re
import sqlite3
import sys
from contextlib import contextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from arrears.engine.domain.errors import StoreConflict, StoreError, StoreLocked


class SchemaError(StoreError):
    """The database has no Arrears schema, a newer one than this code knows, or one that
    could not be upgraded."""


_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")
# Read from the driver's message (SQLite's and PostgreSQL's wording), lower-cased.
_LOCKED = re.compile(r"database (table |schema )?is locked|lock.timeout|deadlock detected"
                     r"|could not serialize access|could not obtain lock")
_NO_SCHEMA = re.compile(r'no such table|relation ".*" does not exist')
_HEADLINES = (
    (re.compile(r"database or disk is full|disk is full|no space left|readonly database|read-only"),
     "disk full or database read-only"),
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
    orig = getattr(exc, "orig", None)
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
