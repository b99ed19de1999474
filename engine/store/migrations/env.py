"""Alembic environment: run migrations on the connection the store hands over.

At run time `arrears.engine.store.migrations.upgrade()` passes its connection (already in a
write transaction) through `config.attributes["connection"]`. For authoring a new
revision with the `alembic` command, pass `-x url=sqlite:///dev.db` instead.
"""
from alembic import context
from sqlalchemy import create_engine

from arrears.engine.store.schema import metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=True,          # SQLite cannot ALTER most things in place
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url")
    with create_engine(url).begin() as conn:
        _run(conn)
