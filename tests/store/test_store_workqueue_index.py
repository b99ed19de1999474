"""The work queue reads `decisions.priority` down its index (revision 0013), with the answer it
gave when it sorted every latest decision by the priority in its JSON body.

A real store (SQLite file, and PostgreSQL), the demo portfolio ticked on three days (so accounts
have earlier decisions, some on the call channel, and some changed since the last tick); the old
query, written here as it was, against `decisionreads.due_contacts`.
"""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import JSON, cast, func, inspect, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.model import Event
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store, decisionreads, migrations
from alembic import command
from alembic.config import Config

from arrears.engine.store.db import make_engine, read_transaction, write_transaction
from arrears.engine.store.schema import accounts, decisions
from arrears.engine.tick import run_tick
from arrears.policies import DEFAULT_POLICY
from tests.tick.tickkit import MONDAY, load, load_portfolio

pytestmark = pytest.mark.also_postgresql


@pytest.fixture(scope="module")
def policy():
    """The shipped default policy."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def ticked(db_url, policy):
    """A store of 600 demo accounts ticked on three days, some paid into after the last tick."""
    source = DEFAULT_POLICY.read_text(encoding="utf-8")
    with Store(db_url) as store:
        store.record_policy(policy.name, policy.version, policy.digest, source, activate=True, now=MONDAY)
        load(store, *load_portfolio(600, seed=7))
        for days in (0, 6, 13):
            run_tick(store, policy, MONDAY + timedelta(days=days))
        later = MONDAY + timedelta(days=13, hours=1)
        store.append_events([(aid, Event("payment", later, amount=Decimal("5.00")), None)
                             for aid in _some_ids(store, 40)], now=later)
    return db_url


def _some_ids(store, n):
    with read_transaction(store.engine) as conn:
        return list(conn.execute(select(accounts.c.id).order_by(accounts.c.acct_no).limit(n)).scalars())


def _old_due_contacts(conn, channels, before, limit, digest):
    """The query before revision 0013: every latest decision sorted by its body's priority."""
    if conn.dialect.name == "sqlite":
        field = type_coerce(decisions.c.body, JSON)["priority"]
    else:
        field = cast(decisions.c.body, JSONB)["priority"]
    key = func.coalesce(field.as_float(), -1.0)
    stmt = (select(accounts.c.id, key.label("sort_key"), decisions.c.id.label("decision_id"))
            .select_from(decisions.join(accounts, accounts.c.decision_id == decisions.c.id))
            .where(decisions.c.channel.in_(channels), decisions.c.not_before.is_not(None),
                   decisions.c.not_before < before, accounts.c.evaluated_revision == accounts.c.revision,
                   decisions.c.policy_digest == digest)
            .order_by(key.desc(), decisions.c.id.desc()).limit(limit))
    return [tuple(r) for r in conn.execute(stmt)]


def _answers(url, policy):
    calls = [n for n, k in policy.channels.items() if k == "call"]
    both = calls + [n for n, k in policy.channels.items() if k == "email"]
    out = []
    with Store(url) as store, read_transaction(store.engine) as conn:
        for channels in (calls, both):
            for days in (0, 13, 30):
                before = as_epoch(MONDAY + timedelta(days=days, hours=14))
                for limit in (1, 7, 50, 100_000):
                    new = [(r.account_id, r.sort_key, r.id) for r in
                           decisionreads.due_contacts(conn, channels, before, limit, policy.digest)]
                    old = _old_due_contacts(conn, channels, before, limit, policy.digest)
                    out.append((channels, days, limit, new, old))
    return out


def test_the_indexed_queue_gives_the_old_answer(ticked, policy):
    answers = _answers(ticked, policy)
    assert all(new == old for *_, new, old in answers), [a[:3] for a in answers if a[3] != a[4]]
    # The comparison means something: full lists of calls, and of calls and emails, several deep.
    sizes = {(len(channels), days): len(new) for channels, days, limit, new, _ in answers if limit == 100_000}
    assert sizes[(1, 13)] >= 10 and sizes[(2, 13)] > sizes[(1, 13)], sizes
    with Store(ticked) as store, read_transaction(store.engine) as conn:
        history = conn.execute(select(func.count()).select_from(decisions)).scalar()
        assert history > store.account_count()          # earlier decisions are in the index too


def test_the_upgrade_fills_the_column_from_the_bodies(ticked, policy):
    before = _answers(ticked, policy)
    engine = make_engine(ticked)
    try:
        with write_transaction(engine) as conn:
            config = Config()
            config.set_main_option("script_location", str(migrations.SCRIPTS))
            config.attributes["connection"] = conn
            command.downgrade(config, "0012")
        with engine.connect() as conn:
            assert migrations.current_revision(conn) == "0012"
            assert "priority" not in {c["name"] for c in inspect(conn).get_columns("decisions")}
    finally:
        engine.dispose()
    with Store(ticked) as store:                         # opening it upgrades to 0013 again
        assert store.schema_revision() == migrations.HEAD
        with read_transaction(store.engine) as conn:
            pairs = conn.execute(select(decisions.c.priority, decisions.c.body)).all()
        result = store.verify_audit()
        assert result.ok, [f.line() for f in result.findings]
    assert pairs and all(p == json.loads(b).get("priority", -1.0) for p, b in pairs)
    assert _answers(ticked, policy) == before


def test_sqlite_reads_the_queue_down_the_index(tmp_path, policy):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with Store(url) as store, read_transaction(store.engine) as conn:
        compiled = _plan(conn, policy)
    assert "ix_decisions_channel_priority_id" in compiled and "TEMP B-TREE" not in compiled, compiled


def test_sqlite_finds_an_email_by_its_index(tmp_path):
    """The explorer's email search (0013's expression index): the plan searches the index."""
    from arrears.engine.store import accountreads
    with Store(f"sqlite:///{tmp_path / 'e.db'}") as store, read_transaction(store.engine) as conn:
        plan = _plan(conn, lambda spy: accountreads.search(spy, email="A@Example.com", limit=50))
    assert "ix_accounts_email" in plan and "SCAN accounts" not in plan, plan


def _plan(conn, policy_or_call, which: int = 0) -> str:
    """EXPLAIN QUERY PLAN of the first statement a read runs (or of statement `which`; the queue's
    for the call channel, by default), taken on its way to the real connection."""
    captured = []

    class Spy:
        dialect = conn.dialect

        def execute(self, stmt):
            captured.append(stmt)
            return conn.execute(stmt)

    if callable(policy_or_call):
        policy_or_call(Spy())
    else:
        decisionreads.due_contacts(Spy(), ["call"], 2**40, 100, policy_or_call.digest)
    # With its parameters bound as they are when it runs (an index on an expression serves only
    # the same expression: a parameter where the index has a literal is not).
    compiled = captured[which].compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = tuple(compiled.params[name] for name in compiled.positiontup)
    return "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params))


def test_the_explorer_search_by_email_stage_and_status(ticked):
    """`accountreads.search` on both databases (the email through 0013's expression index),
    against every account read plainly."""
    from arrears.engine.store import accountreads
    with Store(ticked) as store, read_transaction(store.engine) as conn:
        every = conn.execute(select(accounts.c.id, accounts.c.contact, accounts.c.decision_key,
                                    decisions.c.stage, decisions.c.action_type)
                             .select_from(accounts.outerjoin(decisions,
                                                             decisions.c.id == accounts.c.decision_id))
                             .order_by(accounts.c.id)).all()
        emails = [(json.loads(r.contact).get("email") or "").lower() for r in every]
        target = next(e for e in emails if e)
        rows, nxt = accountreads.search(conn, email=target.upper(), limit=50)
        assert [r.id for r in rows] == [r.id for r, e in zip(every, emails) if e == target] and nxt is None
        stage = every[0].stage
        found, after = [], None
        while True:
            rows, after = accountreads.search(conn, stage=stage, status="contact", after=after, limit=7)
            found += [r.id for r in rows]
            if after is None:
                break
        assert found == [r.id for r in every if r.stage == stage and r.action_type is not None] and found


def test_sqlite_finds_a_name_by_any_words_start_from_the_index(tmp_path):
    """The explorer's name search (0019's name words): a range of the words' primary key for the
    longest typed word, the other through the acct_no index; no scan of the accounts."""
    from arrears.engine.store import accountreads
    with Store(f"sqlite:///{tmp_path / 'n.db'}") as store, read_transaction(store.engine) as conn:
        search = lambda spy: accountreads.search(spy, name="Ada Lovel", limit=50)     # noqa: E731
        counts = [_plan(conn, search, 0), _plan(conn, search, 1)]     # which typed word's range to read
        plan = _plan(conn, search, 2)
    assert all("SEARCH account_words USING PRIMARY KEY (word>? AND word<?)" in c for c in counts), counts
    assert "SEARCH account_words USING PRIMARY KEY (word>? AND word<?)" in plan, plan
    assert "ix_account_words_acct_no_word" in plan and "SCAN accounts" not in plan, plan
