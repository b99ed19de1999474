"""The same store code on PostgreSQL: a real server, the one ARREARS_TEST_PG_URL names or a
throwaway cluster the session starts (see tests/pgcluster.py); skipped only when there is
neither (a failure under ARREARS_TEST_STRICT=1).

Each test gets a fresh database (the `pg_url` fixture), dropped afterwards. More store and
tick tests run on both databases: they are marked `also_postgresql`.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from arrears.engine import Batch, decide_batch, load_policy
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Event
from arrears.engine.store import SCHEMA_HEAD, Store
from arrears.policies import DEFAULT_POLICY
from tests.store.storekit import NOW, T0, rich_account, rich_history, schema_diff

pytestmark = pytest.mark.postgresql


def test_schema_matches_and_rich_account_round_trips(pg_url):
    with Store(pg_url) as store:
        assert store.schema_revision() == SCHEMA_HEAD
        with store.engine.connect() as conn:
            assert schema_diff(conn) == []
            email = conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_accounts_email'")\
                .scalar()
            collation = conn.exec_driver_sql(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'account_words' AND column_name = 'word'").scalar()
        assert "lower(((contact)::jsonb ->> 'email'::text))" in email, email
        assert collation == "C"                    # a prefix's range in code point order, as on SQLite
        acc, history = rich_account(), rich_history()
        store.upsert_accounts([acc], now=T0)
        store.append_events([(acc.id, e, None) for e in history], now=T0)
        got, events = store.get_account(acc.id)
        assert set(got.invoices) == set(acc.invoices) and got.contact == acc.contact
        assert events == sorted(history, key=lambda e: e.at)


def test_load_batch_decides_like_from_objects(pg_url, portfolio):
    accounts, histories = portfolio
    odd = Account.from_dict({"id": "ZZ", "currency": "EUR", "invoices": [
        {"id": i, "amount": "1", "due_date": "2026-01-01"} for i in ("b", "B", "é", "a", "Z", "10", "9")]})
    accounts, histories = list(accounts) + [odd], list(histories) + [[]]
    with Store(pg_url) as store:
        store.upsert_accounts(accounts, now=T0)
        store.append_events([(a.id, e, None) for a, h in zip(accounts, histories) for e in h], now=T0)
        page = store.due_accounts(T0, 10_000)
        batch = store.load_batch(page.acct_nos)
    want = Batch.from_objects(accounts, histories)
    assert list(batch.inv_id) == list(want.inv_id)          # code-point order, whatever the locale
    policy = load_policy(DEFAULT_POLICY)
    got, expected = decide_batch(batch, policy, NOW), decide_batch(want, policy, NOW)
    assert [got.decision(i).to_json() for i in range(len(accounts))] == \
           [expected.decision(i).to_json() for i in range(len(accounts))]


def test_idempotency_rollback_and_audit(pg_url):
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Store(pg_url) as store:
        store.upsert_accounts([Account("A", "EUR")], now=T0)
        assert store.append_events([("A", Event("note", at), "k")], now=T0).stored == 1
        assert store.append_events([("A", Event("note", at), "k")], now=T0).duplicates == [0]
        before = store.counts()
        with pytest.raises(InputError):
            store.append_events([("A", Event("note", at), None), ("B", Event("note", at), None)], now=T0)
        assert store.counts() == before
        assert store.verify_audit().ok
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE events SET type = 'hold' WHERE seq = 1"))
        assert store.verify_audit().broken_seq == 2


def test_concurrent_writers_keep_one_chain(pg_url):
    with Store(pg_url) as store:
        store.upsert_accounts([Account("A", "EUR")], now=T0)
    errors = []

    def writer(tag):
        try:
            with Store(pg_url) as s:
                for i in range(15):
                    s.append_events([("A", Event("note", NOW), f"{tag}-{i}")], now=T0)
        except Exception as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "xyz"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(pg_url) as store:
        assert store.counts()["events"] == 45
        result = store.verify_audit()
        assert result.ok and result.entries == 46


def test_text_with_a_nul_character_is_bad_input_not_a_database_failure(pg_url):
    # PostgreSQL cannot hold U+0000 in text (SQLite can): the driver refuses such a value,
    # and the store says it is the input that is wrong (the API answers 422, not 500).
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Store(pg_url) as store:
        store.upsert_accounts([Account("A", "EUR")], now=T0)
        before = store.counts()
        for write in (lambda: store.upsert_accounts([Account("B\x00", "EUR")], now=T0),
                      lambda: store.append_events([("A", Event("note", at), "psp\x00")], now=T0),
                      lambda: store.get_account("A\x00")):
            with pytest.raises(InputError, match=r"U\+0000"):
                write()
        assert store.counts() == before and store.verify_audit().ok
        assert store.get_account("A")[0].id == "A"     # the connections are still usable


def test_a_database_error_mid_batch_rolls_back(pg_url):
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Store(pg_url) as store:
        store.upsert_accounts([Account("A", "EUR")], now=T0)
        before = store.counts()
        with store.engine.begin() as conn:   # a trigger standing in for any database-side failure
            conn.execute(text("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$ BEGIN RAISE EXCEPTION 'boom'; END $$"))
            conn.execute(text("CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW "
                              "WHEN (NEW.type = 'hold') EXECUTE FUNCTION boom()"))
        with pytest.raises(Exception, match="boom"):
            store.append_events([("A", Event("note", at), None), ("A", Event("hold", at), None)], now=T0)
        assert store.counts() == before
        assert store.verify_audit().ok


def test_a_name_is_found_by_its_start_in_any_case_from_the_index(pg_url):
    """The explorer's name search on PostgreSQL: the "C"-collated range of 0017's index, in the
    names' order."""
    from dataclasses import replace

    from sqlalchemy import text

    from arrears.engine.store import accountreads
    from arrears.engine.store.db import read_transaction
    base = rich_account()
    names = {"N1": "Ada Lovelace", "N2": "ada byron", "N3": "Adam Smith", "N4": "Zoë Ada", "N5": "Ádám Kis"}
    with Store(pg_url) as store:
        store.upsert_accounts([replace(base, id=k, contact=replace(base.contact, name=v))
                               for k, v in names.items()], now=T0)
        with read_transaction(store.engine) as conn:
            found = {q: [r.id for r in accountreads.search(conn, name=q, limit=50)[0]]
                     for q in ("ada", "ADA ", "Ada L", "ádám", "zoë a", "x", "smith", "KIS", "lovelace ada")}
            paged, after = [], None
            while True:
                rows, after = accountreads.search(conn, name="ada", after=after, limit=1)
                paged += [r.id for r in rows]
                if after is None:
                    break
            conn.execute(text("SET LOCAL enable_seqscan = off"))   # a tiny table: may the index serve?
            plan = "\n".join(r[0] for r in conn.execute(text(
                "EXPLAIN SELECT acct_no FROM account_words WHERE word >= 'ada' AND word < 'adz' "
                "ORDER BY word, acct_no LIMIT 50")))
    # by the matched word ("ada" before "adam"), then when the account was first stored
    assert found == {"ada": ["N1", "N2", "N4", "N3"], "ADA ": ["N1", "N2", "N4", "N3"], "Ada L": ["N1"],
                     "ádám": ["N5"], "zoë a": ["N4"], "x": [], "smith": ["N3"], "KIS": ["N5"],
                     "lovelace ada": ["N1"]}
    assert paged == found["ada"]
    assert "pk_account_words" in plan, plan
