"""The audit chain: every write is recorded, and any tampering is found by `verify`."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from arrears.engine.cli import main
from arrears.engine.domain.model import Account, Event
from arrears.engine.store import Store
from arrears.engine.store.audit import GENESIS, entry_hash
from tests.store.storekit import T0

pytestmark = pytest.mark.also_postgresql

AT = datetime(2026, 10, 1, tzinfo=timezone.utc)


@pytest.fixture
def filled(store):
    """A store with five audit entries: accounts, two event batches, a policy, a custom entry."""
    store.upsert_accounts([Account("A", "EUR"), Account("B", "EUR")], now=T0)
    store.append_events([("A", Event("note", AT), "k1"), ("B", Event("hold", AT), None)], now=T0 + 1)
    store.append_events([("A", Event("hold_released", AT), None)], now=T0 + 2)
    store.record_policy("default", "1", "sha256:abc", "name: default\n", now=T0 + 3)
    store.audit("decision.made", "A", {"stage": "friendly_reminder"}, now=T0 + 4)
    return store


def _sql(store, statement: str, **params) -> None:
    """Raw SQL, as someone with write access to the database file would run it."""
    with store.engine.begin() as conn:
        if params:
            conn.execute(text(statement), params)
        else:
            conn.exec_driver_sql(statement)


def _rows(store):
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit ORDER BY seq")).all()


def test_entries_chain_and_describe_each_write(filled):
    rows = _rows(filled)
    assert [r.kind for r in rows] == ["accounts.upserted", "events.appended", "events.appended",
                                      "policy.stored", "policy.activated", "decision.made"]
    prev = GENESIS
    for r in rows:
        assert r.prev_hash == prev
        assert r.hash == entry_hash(prev, r.seq, r.at, r.kind, r.subject, json.loads(r.body))
        prev = r.hash
    body = json.loads(rows[1].body)
    assert (body["stored"], body["types"]) == (2, {"note": 1, "hold": 1})
    assert json.loads(rows[0].body)["ids"] == ["A", "B"]
    result = filled.verify_audit()
    assert (result.ok, result.entries, result.head_hash) == (True, 6, prev)


def test_every_event_points_at_the_entry_that_recorded_it(filled):
    with filled.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT audit_seq FROM events ORDER BY seq"))]
    assert seqs == [2, 2, 3]


@pytest.mark.parametrize("statement, seq, reason", [
    ("UPDATE audit SET body = replace(body, '\"stored\":2', '\"stored\":3') WHERE seq = 2", 2, "edited"),
    ("UPDATE audit SET at = at + 1 WHERE seq = 4", 4, "edited"),
    ("UPDATE audit SET body = '{\"stage\": \"friendly_reminder\"}' WHERE seq = 6", 6, "canonical"),
    ("DELETE FROM audit WHERE seq = 3", 4, "missing"),
    # (a first digit that always differs: the entry's hash may start with 'f' itself)
    ("UPDATE audit SET hash = CASE WHEN substr(hash, 1, 1) = 'f' THEN 'e' ELSE 'f' END || substr(hash, 2) "
     "WHERE seq = 5", 5, "edited"),
    ("DELETE FROM audit WHERE seq = 6", 6, "removed from the end"),
    ("UPDATE events SET type = 'payment' WHERE seq = 1", 2, "events recorded by this entry changed"),
    ("DELETE FROM events WHERE seq = 3", 3, "events recorded by this entry changed"),
    ("INSERT INTO events (acct_no, type, at, recorded_at, audit_seq) VALUES (1, 'note', 0, 0, 2)", 2,
     "events recorded by this entry changed"),
    ("INSERT INTO events (acct_no, type, at, recorded_at, audit_seq) VALUES (1, 'note', 0, 0, 1)", 1,
     "recorded no events"),
    # Named by the entry it claims (4, the policy's), not by anything else on the row.
    ("INSERT INTO events (acct_no, type, at, recorded_at, audit_seq) VALUES (2, 'note', 7, 0, 4)", 4,
     "events claim audit entry 4, which recorded no events"),
])
def test_tampering_is_detected(filled, statement, seq, reason):
    _sql(filled, statement)
    result = filled.verify_audit()
    assert not result.ok
    assert result.broken_seq == seq
    assert reason in result.reason


def test_a_rebuilt_entry_breaks_the_next_link(filled):
    # Re-hashing an edited entry is not enough: the next entry still names the old hash.
    r = _rows(filled)[2]
    body = {**json.loads(r.body), "stored": 5}
    new = entry_hash(r.prev_hash, r.seq, r.at, r.kind, r.subject, body)
    _sql(filled, "UPDATE audit SET body = :b, hash = :h WHERE seq = 3",
         b=json.dumps(body, sort_keys=True, separators=(",", ":")), h=new)
    result = filled.verify_audit()
    assert (result.ok, result.broken_seq) == (False, 4)
    assert "prev_hash" in result.reason


def test_cli_verify_ok_and_broken(filled, db_url, capsys):
    assert main(["audit", "verify", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 6 entries, head ")
    _sql(filled, "UPDATE audit SET subject = 'B' WHERE seq = 6")
    assert main(["audit", "verify", "--db", db_url]) == 1
    assert "BROKEN at seq 6" in capsys.readouterr().out


def test_cli_verify_without_a_database(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARREARS_DATABASE_URL", raising=False)
    assert main(["audit", "verify"]) == 3
    assert "no database file" in capsys.readouterr().err
    assert not (tmp_path / "arrears.db").exists()


def test_empty_chain_verifies(store):
    result = store.verify_audit()
    assert (result.ok, result.entries, result.head_hash) == (True, 0, GENESIS)


def test_policy_versions(store):
    assert store.active_policy() is None
    assert store.record_policy("p", "1", "d1", "src1", now=T0)
    assert not store.record_policy("p", "1", "d1", "src1", now=T0 + 1)     # same digest: nothing new
    assert store.record_policy("p", "2", "d2", "src2", now=T0 + 2)
    assert store.active_policy()["digest"] == "d2"
    assert store.record_policy("p", "1", "d1", "src1", now=T0 + 3)         # roll back to v1
    active = store.active_policy()
    assert (active["digest"], active["activated_at"], active["source"]) == ("d1", T0 + 3, "src1")
    kinds = [r.kind for r in _rows(store)]
    assert kinds == ["policy.stored", "policy.activated", "policy.stored", "policy.activated",
                     "policy.activated"]
    assert store.verify_audit().ok


def test_verify_is_read_only(filled, db_url):
    before = filled.counts()
    with Store(db_url, upgrade=False) as s:
        assert s.verify_audit().ok
    assert filled.counts() == before
