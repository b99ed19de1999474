"""Schema migrations (Alembic), shipped in the package and run programmatically.

`Store` calls `ensure_current()` when it opens a database: an empty database is
built, an older one is upgraded, a current one costs one query. No alembic.ini is
needed at run time. To author a revision: write
`versions/NNNN_what.py` by hand (or `alembic -c <ini with script_location> revision`),
bump HEAD, and change `engine/store/schema.py` to match.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from arrears.engine.store.db import connect, write_transaction
from arrears.engine.store.failures import SchemaError

HEAD = "0020"                       # the newest revision in versions/
SCRIPTS = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"
_PG_LOCK = 0x4172726561727301       # advisory-lock key: one migrator at a time on PostgreSQL


def current_revision(conn: Connection) -> str | None:
    """The database's schema revision (None for an empty database)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to `revision` in one transaction (all steps or none)."""
    from alembic import command
    from alembic.config import Config

    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        config = Config()
        config.set_main_option("script_location", str(SCRIPTS))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def ensure_current(engine: Engine) -> str:
    """Make the schema current, upgrading if needed; returns the revision it is at."""
    with connect(engine) as conn:
        found = current_revision(conn)
    if found == HEAD:
        return found
    if found is not None and found not in known_revisions():
        raise SchemaError(f"the database is at schema revision {found}, which this version of "
                          f"Arrears does not know (newest known: {HEAD}); upgrade Arrears")
    upgrade(engine)
    with connect(engine) as conn:
        return current_revision(conn)


def known_revisions() -> list[str]:
    """Every revision shipped in versions/, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(SCRIPTS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
