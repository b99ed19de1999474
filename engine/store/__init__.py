"""Persistence: accounts, append-only events, decisions, outbox, the audit chain, policies.

SQLAlchemy 2.x Core on SQLite (default, WAL) or PostgreSQL, same code. See docs/store.md.
"""
from engine.store.audit import Verification
from engine.store.db import DEFAULT_URL, URL_ENV, default_url
from engine.store.due import DuePage
from engine.store.ingest import AppendReport, UpsertReport
from engine.store.migrations import HEAD as SCHEMA_HEAD, SchemaError
from engine.store.store import Store, UnknownAccount, Writer

__all__ = ["AppendReport", "DEFAULT_URL", "DuePage", "SCHEMA_HEAD", "SchemaError", "Store",
           "URL_ENV", "UnknownAccount", "UpsertReport", "Verification", "Writer", "default_url"]
