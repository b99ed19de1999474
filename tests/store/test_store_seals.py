"""`arrears audit verify` covers the rows that decide or deliver: one test per table.

Each test builds a real store (policies stored and activated, accounts with invoices, a
tick that decides and queues, a delivery to a real HTTP server), copies it (SQLite: the
file, then made read-only; PostgreSQL: edited in place), edits ONE row with SQL, and runs
`arrears audit verify` on it: exit 1, naming the table, the row and the column.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from arrears.engine.cli import main
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.engine.tick import run_tick
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import RecordingServer, plugin_manager
from arrears.policies import DEFAULT_POLICY
from tests.tick.tickkit import MONDAY, account, dispatcher_config, load

pytestmark = pytest.mark.also_postgresql


@pytest.fixture(scope="module")
def policy():
    """The shipped default policy."""
    return load_policy(DEFAULT_POLICY)


def _populate(url: str, policy) -> None:
    """Two stored policy versions (one active), three accounts, a tick with one delivery."""
    source = DEFAULT_POLICY.read_text(encoding="utf-8")
    other = source.replace("version:", "version: '99' #", 1)
    with Store(url) as store, RecordingServer() as server:
        store.record_policy("other", "99", "sha256:" + "9" * 64, other, activate=True, now=MONDAY)
        store.record_policy(policy.name, policy.version, policy.digest, source, now=MONDAY)
        load(store, [account("A1"), account("A2", amount="250.00"), account("A3")])
        store.upsert_accounts([replace(account("A3"), language="fr")], now=MONDAY)     # re-sealed
        dispatcher = Dispatcher(plugin_manager(), dispatcher_config(server.url))
        summary = run_tick(store, policy, MONDAY, dispatcher=dispatcher)
        assert summary.decisions_written == 3 and summary.delivered == 3
        run_tick(store, policy, MONDAY + timedelta(days=9))      # later decisions and queued contacts
        store.users.add("ann", "agent", "$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash", by="test", now=MONDAY)
        store.users.add("bob", "manager", "$argon2id$v=19$m=65536,t=3,p=4$another-hash", by="test", now=MONDAY)
        store.users.update("bob", by="ann", disabled=True, now=MONDAY)                       # re-sealed
        store.api_keys.create("integrator", "billing", by="ann", now=MONDAY)
        _, old = store.api_keys.create("admin", "old", by="ann", now=MONDAY)
        store.api_keys.revoke(old.id, by="ann", now=MONDAY)                                   # re-sealed
        result = store.verify_audit()
        assert result.ok, [f.line() for f in result.findings]
        assert all(result.rows[t] for t in ("accounts", "invoices", "decisions", "outbox", "policy_versions",
                                            "users", "api_keys"))


@pytest.fixture
def populated(db_url, policy, tmp_path):
    """(URL to edit, URL to verify): a read-only copy of the file on SQLite."""
    _populate(db_url, policy)
    if not db_url.startswith("sqlite"):
        return db_url, db_url
    original = db_url.removeprefix("sqlite:///")
    copy = tmp_path / "copy" / "arrears.db"
    copy.parent.mkdir()
    shutil.copy(original, copy)
    return f"sqlite:///{copy}", f"sqlite:///{copy}"


def _edit(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text(sql)).rowcount >= 1
    engine.dispose()


def _verify(url: str, capsys) -> tuple[int, str]:
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite") else None
    if path:        # verify a read-only copy, and leave it byte for byte as it was
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
        before = hashlib.sha256(open(path, "rb").read()).hexdigest()
    code = main(["audit", "verify", "--db", url])
    out = capsys.readouterr().out
    if path:
        assert hashlib.sha256(open(path, "rb").read()).hexdigest() == before
    return code, out


def test_an_intact_store_verifies(populated, capsys):
    code, out = _verify(populated[1], capsys)
    assert code == 0 and out.startswith("OK: ") and " in 7 tables checked" in out


CASES = {
    "policy text": ("UPDATE policy_versions SET source = source || '\n# edited' WHERE active",
                    "policy_versions row digest='sha256:", "(column source)"),
    "policy activation": ("UPDATE policy_versions SET active = NOT active",
                          "policy_versions row digest='sha256:", "(column active)"),
    "account": ("UPDATE accounts SET risk_score = 0.99 WHERE id = 'A2'",
                "accounts row acct_no=2 (id 'A2')", "(column risk_score)"),
    "invoice": ("UPDATE invoices SET amount_minor = 1 WHERE acct_no = 1",
                "invoices row acct_no=1, invoice_id='I1'", "(column amount_minor)"),
    "decision": ("UPDATE decisions SET channel = 'sms', next_evaluation_at = 0 WHERE id = 2",
                 "decisions row id=2", "(columns channel, next_evaluation_at)"),
    "outbox": ("UPDATE outbox SET status = 'pending' WHERE id = 1", "outbox row id=1", "(column status)"),
    "user's role": ("UPDATE users SET role = 'admin' WHERE username = 'ann'", "users row username='ann'",
                    "(column role)"),
    "disabled user": ("UPDATE users SET disabled = false WHERE username = 'bob'", "users row username='bob'",
                      "(column disabled)"),
    "password": ("UPDATE users SET password_hash = 'x' WHERE username = 'ann'", "users row username='ann'",
                 "(column password_hash)"),
    "API key's role": ("UPDATE api_keys SET role = 'admin' WHERE id = 1", "api_keys row id=1", "(column role)"),
    "revoked API key": ("UPDATE api_keys SET revoked_at = NULL, revoked_by = NULL WHERE id = 2",
                        "api_keys row id=2", "(columns revoked_at, revoked_by)"),
}


@pytest.mark.parametrize("case", CASES)
def test_an_edited_row_is_named_with_its_columns(case, populated, capsys):
    sql, row, columns = CASES[case]
    _edit(populated[0], sql)
    code, out = _verify(populated[1], capsys)
    assert code == 1, out
    lines = [line for line in out.splitlines() if row in line]
    assert lines and columns in lines[0] and "changed after it was recorded" in lines[0], out
    table = row.split()[0]
    assert out.startswith("BROKEN: ") and table in out.splitlines()[0]


def test_counts_and_plurals(populated, capsys):
    _edit(populated[0], "UPDATE accounts SET language = 'de'")
    code, out = _verify(populated[1], capsys)
    assert code == 1 and out.startswith("BROKEN: 3 findings in 1 table (accounts); the chain itself is intact")
    _edit(populated[0], "UPDATE invoices SET due_day = due_day + 1 WHERE acct_no = 1")
    code, out = _verify(populated[1], capsys)
    assert out.startswith("BROKEN: 4 findings in 2 tables (accounts, invoices)")


def test_a_deleted_row_is_counted_against_its_entry(populated, capsys):
    _edit(populated[0], "DELETE FROM outbox WHERE id = (SELECT max(id) FROM outbox)")
    code, out = _verify(populated[1], capsys)
    assert code == 1 and "outbox: 1 row this entry recorded is missing (deleted) [audit entry " in out


def test_a_seal_rewritten_with_the_edit_is_still_caught(populated, capsys):
    """Someone who edits a row and rewrites its seal to match: the entry's sum no longer adds up."""
    url = populated[0]
    engine = create_engine(url)
    with engine.begin() as conn:
        seal = conn.execute(text("SELECT seal FROM invoices WHERE acct_no = 2")).scalar_one()
        forged = seal.replace("25000", "1", 1)
        assert forged != seal
        conn.execute(text("UPDATE invoices SET amount_minor = 1, seal = :s WHERE acct_no = 2"), {"s": forged})
    engine.dispose()
    code, out = _verify(populated[1], capsys)
    assert code == 1 and "invoices: a row was replaced or its seal rewritten" in out


def test_a_row_added_with_sql_has_no_seal(populated, capsys):
    _edit(populated[0], "INSERT INTO invoices (acct_no, invoice_id, amount_minor, due_day) VALUES (1, 'X', 5, 1)")
    code, out = _verify(populated[1], capsys)
    assert code == 1 and "invoices row acct_no=1, invoice_id='X': has no seal" in out


def test_rows_stored_before_the_seals_are_sealed_by_the_upgrade(db_url, capsys):
    from arrears.engine.domain.model import Account
    from arrears.engine.store import migrations
    from arrears.engine.store.db import make_engine
    from tests.store.storekit import T0, upsert_before_seals

    engine = make_engine(db_url)
    migrations.upgrade(engine, "0009")
    engine.dispose()
    with Store(db_url, upgrade=False) as old:
        upsert_before_seals(old, [Account("A", "EUR"), Account("B", "EUR")], T0)
    _edit(db_url, "INSERT INTO decisions (acct_no, evaluated_at, revision, policy_digest, body) "
                  "VALUES (1, 0, 1, 'd', '{}')")
    assert main(["audit", "verify", "--db", db_url]) == 0       # read-only: not upgraded
    assert "no sealed rows (the schema predates revision 0010" in capsys.readouterr().out
    Store(db_url).close()                                       # the upgrade seals what is there
    assert main(["audit", "verify", "--db", db_url]) == 0
    assert "3 sealed rows in 7 tables checked" in capsys.readouterr().out
    _edit(db_url, "UPDATE decisions SET body = '[1]'")
    assert main(["audit", "verify", "--db", db_url]) == 1
    out = capsys.readouterr().out
    assert "decisions row id=1: changed after it was recorded (column body) [audit entry 2]" in out


def test_an_account_edited_with_a_forged_seal_is_caught_by_its_entry(populated, capsys):
    """An account's seal holds short fingerprints (it is rewritten by every tick, so kept
    small); forging them to match an edit still breaks the sum of the entry, which hashes the
    values themselves."""
    from arrears.engine.store.seals import ACCOUNTS, seal_of
    url = populated[0]
    engine = create_engine(url)
    cols = ", ".join(ACCOUNTS.columns)
    with engine.begin() as conn:
        values = list(conn.execute(text(f"SELECT {cols} FROM accounts WHERE id = 'A2'")).one())
        values[ACCOUNTS.columns.index("risk_score")] = 0.01
        conn.execute(text("UPDATE accounts SET risk_score = 0.01, seal = :s WHERE id = 'A2'"),
                     {"s": seal_of(ACCOUNTS, values)})
    engine.dispose()
    code, out = _verify(populated[1], capsys)
    assert code == 1 and "accounts: a row was replaced or its seal rewritten" in out and "A2" not in out


def test_a_decisions_priority_edited_to_jump_the_queue_is_caught(populated, capsys):
    """`decisions.priority` (0012) is an unsealed copy of the sealed body's priority, there for the
    work queue's index: verify compares the two."""
    _edit(populated[0], "UPDATE decisions SET priority = 99 WHERE id = 2")
    code, out = _verify(populated[1], capsys)
    assert code == 1, out
    assert "decisions row id=2: differs from the sealed value it copies (column priority)" in out


def test_a_seal_computed_ahead_and_closed_at_the_write_is_the_seal_stored(populated):
    """The tick's planner computes an outbox row's seal before its decision id is known, left open
    at that column (`seal_open`); the writer closes it with the id (`seal_close`). Closed, it is
    the seal of the row as stored (and verified), whatever the id, NULL included."""
    from arrears.engine.store.seals import OUTBOX, seal_close, seal_many, seal_open
    engine = create_engine(populated[0])
    cols = ", ".join(OUTBOX.columns)
    with engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(text(f"SELECT {cols}, seal FROM outbox ORDER BY id"))]
    engine.dispose()
    values = [r[:-1] for r in stored]
    assert len(values) >= 3 and {v[OUTBOX.columns.index("status")] for v in values} >= {"sent", "pending"}
    parts = seal_open(OUTBOX, values, 1)
    assert seal_close(parts, [v[1] for v in values]) == [r[-1] for r in stored]
    other = [(v[0], d) + v[2:] for v, d in zip(values, [None, 7, 2**40] * len(values))]
    assert seal_close(parts, [v[1] for v in other]) == seal_many(OUTBOX, other)


@pytest.mark.parametrize("column", ["payload", "strategy"])
def test_a_seal_is_not_left_open_at_a_digested_or_trailing_column(column):
    """A long text is kept as its digest, and a trailing column added later may be left out of the
    seal: neither can be filled in as a plain value afterwards."""
    from arrears.engine.store.seals import OUTBOX, seal_open
    with pytest.raises(ValueError, match=f"column '{column}' of outbox cannot be left open"):
        seal_open(OUTBOX, [], OUTBOX.columns.index(column))
