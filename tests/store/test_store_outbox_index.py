"""Revision 0012: an index on outbox.provider_id, so a delivery receipt finds its row without
scanning the outbox; on SQLite and PostgreSQL (the `also_postgresql` mark), upgraded from 0011
with a row already stored."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from arrears.engine.domain.model import Account
from arrears.engine.store import SCHEMA_HEAD, Store, migrations
from arrears.engine.store.db import make_engine
from arrears.engine.store.outboxstore import by_provider_id
from tests.store.storekit import T0

pytestmark = pytest.mark.also_postgresql

INSERT = ("INSERT INTO outbox (acct_no, stage, attempt, episode_key, channel, status, tries, "
          "created_at, updated_at, provider_id, payload) "
          "VALUES (1, 'reminder', 1, '', 'sms', 'sent', 1, 0, 0, :pid, '{}')")


def _indexes(engine):
    return {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("outbox")}


def test_upgrading_from_0011_adds_the_index_and_keeps_the_rows(db_url):
    engine = make_engine(db_url)
    migrations.upgrade(engine, "0011")
    engine.dispose()
    with Store(db_url, upgrade=False) as old:
        assert "ix_outbox_provider_id" not in _indexes(old.engine)
        old.upsert_accounts([Account("A", "EUR")], now=T0)
        with old.engine.begin() as conn:
            conn.execute(text(INSERT), {"pid": "prov-1"})
    with Store(db_url) as new:
        assert new.schema_revision() == SCHEMA_HEAD           # the newest, past 0012
        assert _indexes(new.engine)["ix_outbox_provider_id"] == ["provider_id"]
        with new.engine.connect() as conn:
            [row] = by_provider_id(conn, "prov-1")
            assert row[2] == "A"
            assert by_provider_id(conn, "prov-2") == []
    engine = make_engine(db_url)                     # and the revision can be taken back
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(migrations.SCRIPTS))
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    assert "ix_outbox_provider_id" not in _indexes(engine)
    engine.dispose()


def test_a_receipt_lookup_uses_the_index(db_url):
    with Store(db_url) as store:
        store.upsert_accounts([Account("A", "EUR")], now=T0)
        with store.engine.begin() as conn:
            for i in range(50):
                conn.execute(text(INSERT.replace("1, '', 'sms'", f"{i + 1}, '', 'sms'")), {"pid": f"p{i}"})
            if conn.dialect.name == "postgresql":
                conn.execute(text("ANALYZE outbox"))
                conn.execute(text("SET LOCAL enable_seqscan = off"))
                plan = " ".join(r[0] for r in conn.execute(text(
                    "EXPLAIN SELECT id FROM outbox WHERE provider_id = 'p7' AND status = 'sent'")))
            else:
                plan = " ".join(str(r[-1]) for r in conn.execute(text(
                    "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE provider_id = 'p7' AND status = 'sent'")))
            assert "ix_outbox_provider_id" in plan, plan
            assert len(by_provider_id(conn, "p7")) == 1
