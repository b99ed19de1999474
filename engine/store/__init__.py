"""Persistence: accounts, append-only events, decisions, outbox, the audit chain, policies.

SQLAlchemy 2.x Core on SQLite (default, WAL) or PostgreSQL, same code. See docs/store.md.

Owns all SQL: no module outside this package imports SQLAlchemy or writes a query.

May import: `domain`. Never the core's other parts, the use cases, the API or plugins.
"""
from arrears.engine.store.audit import Verification
from arrears.engine.store.db import DEFAULT_URL, URL_ENV, default_url
from arrears.engine.store.due import DuePage
from arrears.engine.store.failures import safe_url
from arrears.engine.store.ingest import AppendReport, UpsertReport
from arrears.engine.store.migrations import HEAD as SCHEMA_HEAD
from arrears.engine.store.migrations import SchemaError
from arrears.engine.store.store import Store, UnknownAccount, Writer

__all__ = ["AppendReport", "DEFAULT_URL", "DuePage", "SCHEMA_HEAD", "SchemaError", "Store",
           "URL_ENV", "UnknownAccount", "UpsertReport", "Verification", "Writer", "default_url", "safe_url"]
