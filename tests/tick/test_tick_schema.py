"""Schema revision 0003 (the tick's state) upgrades a 0002 database in place."""
from __future__ import annotations

from sqlalchemy import inspect

from arrears.engine.domain.model import Account
from arrears.engine.store import SCHEMA_HEAD, Store, migrations
from arrears.engine.store.db import make_engine
from tests.store.storekit import upsert_before_seals
from tests.tick.tickkit import NOW, rows


def test_upgrade_from_0002_adds_the_tick_state_and_keeps_the_data(db_url):
    engine = make_engine(db_url)
    migrations.upgrade(engine, "0002")
    engine.dispose()
    with Store(db_url, upgrade=False) as old:
        upsert_before_seals(old, [Account("A", "EUR")], int(NOW.timestamp()))
        with old.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO outbox (acct_no, stage, attempt, episode_key, channel, status, "
                                 "tries, created_at, updated_at, payload) "
                                 "VALUES (1, 's', 1, '', 'email', 'pending', 0, 0, 0, '{}')")
    with Store(db_url) as new:
        assert new.schema_revision() == SCHEMA_HEAD
        tables = inspect(new.engine)
        assert "leases" in tables.get_table_names()
        assert {"decision_key", "decision_id"} <= {c["name"] for c in tables.get_columns("accounts")}
        assert rows(new, "SELECT id, decision_key FROM accounts") == [("A", None)]
        assert rows(new, "SELECT status, claimed_by FROM outbox") == [("pending", None)]
        assert new.verify_audit().ok


def test_downgrade_to_0002_removes_it_again(db_url):
    Store(db_url).close()
    from alembic import command
    from alembic.config import Config

    from arrears.engine.store.db import write_transaction
    engine = make_engine(db_url)
    with write_transaction(engine) as conn:
        config = Config()
        config.set_main_option("script_location", str(migrations.SCRIPTS))
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    tables = inspect(engine)
    assert "leases" not in tables.get_table_names()
    assert "decision_key" not in {c["name"] for c in tables.get_columns("accounts")}
    engine.dispose()
