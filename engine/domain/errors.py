"""The Arrears exception tree: every error the engine raises derives from ArrearsError.

Validation problems are values (`Problem`), collected and reported together; a
`PolicyError` carries all of them at once.
"""
from __future__ import annotations

from dataclasses import dataclass


class ArrearsError(Exception):
    """Base of every error raised by Arrears."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a source file, located by line and column (1-based).

    `path` is a JSON pointer into the document (``/escalation/stages/2/channels/0``).
    """

    file: str
    line: int
    col: int
    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class PolicyError(ArrearsError):
    """A policy (or profile, or policy test file) could not be loaded; see `problems`."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PolicyTampered(ArrearsError):
    """The stored policy version no longer is the text recorded when it was stored (it was
    edited in the database): nothing may be decided with it. The message says which."""


class InputError(ArrearsError):
    """An account, event or other input value is malformed; `where` says which field
    (`account.invoices[1].due_date`). The parsers build it as `f"{where}.{name}"`; for a value
    at the root of its document (`where` = "") that gives `.currency`, written here, the one
    place every path passes, as `currency`."""

    def __init__(self, message: str, where: str = ""):
        where = where[1:] if where and where.startswith(".") else where
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


def json_type(value) -> str:
    """What a parsed JSON (or YAML) value is, as an error message names it: "an object", "a
    list", "a string", "a number", "a boolean" or "null" (never a Python type's name)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


class StoreError(ArrearsError):
    """The database could not be read or written (unreachable, locked, full, read-only, or
    without the expected schema). Raised by the store in place of its driver's errors, so no
    caller needs to know SQLAlchemy; the message says what failed, `cause` is the original."""

    def __init__(self, message: str, cause: BaseException | None = None):
        self.cause = cause
        super().__init__(message)


class StoreLocked(StoreError):
    """Another transaction held the database's lock longer than the busy timeout (SQLite's
    "database is locked"; a PostgreSQL lock timeout, deadlock or serialization failure).
    The transaction was rolled back: retrying later may succeed."""


class StoreUnwritable(StoreError):
    """The database cannot be written: its disk is full, or it (its file, directory, file
    system or connection) is read-only. The transaction was rolled back; reads may still
    work, and writes work again once space is freed or the database is writable."""


class StoreConflict(StoreError):
    """A write broke one of the database's constraints (a unique or foreign key); the
    transaction was rolled back."""
