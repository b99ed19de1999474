"""API keys kept in the database: stored hashed, audited, sealed, revoked; on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select, text, update

from arrears.engine.store import auditreads
from arrears.engine.store.apikeys import digest_of, new_key
from arrears.engine.store.db import read_transaction
from arrears.engine.store.schema import api_keys, audit

pytestmark = pytest.mark.also_postgresql


def _entries(store, kind):
    with read_transaction(store.engine) as conn:
        return [(r.subject, json.loads(r.body)) for r in conn.execute(
            select(audit.c.subject, audit.c.body).where(audit.c.kind == kind).order_by(audit.c.seq))]


def test_a_key_is_random_and_kept_only_as_its_sha256(store):
    key, row = store.api_keys.create("integrator", "billing sync", by="ops", now=1_800_000_000)
    assert key.startswith("ark_") and len(key) >= 40 and key != new_key()
    assert row.digest == hashlib.sha256(key.encode()).hexdigest() == digest_of(key)
    assert (row.label, row.role, row.created_by, row.created_at, row.revoked_at) == \
        ("billing sync", "integrator", "ops", 1_800_000_000, None)
    with read_transaction(store.engine) as conn:
        stored = [tuple(r) for r in conn.execute(select(api_keys))]
        log = [r.body for r in conn.execute(select(audit.c.body))]
    assert not any(key in str(v) for r in stored for v in r)            # never the key itself
    assert not any(key in body for body in log)
    assert store.api_keys.role_of(row.digest) == "integrator"
    assert store.api_keys.role_of(digest_of("ark_not-a-key")) is None
    ((subject, body),) = _entries(store, "key.created")
    assert subject == row.key_id and body["role"] == "integrator" and body["by"] == "ops"
    assert body["seals"]["api_keys"]["rows"] == 1


def test_revoking_is_audited_once_and_the_key_stops_working(store):
    _, first = store.api_keys.create("admin", "first", by="ops")
    _, second = store.api_keys.create("agent", "second", by="ops")
    revoked = store.api_keys.revoke(first.id, by="alice")
    assert revoked.revoked_at is not None and revoked.revoked_by == "alice"
    assert store.api_keys.role_of(first.digest) is None
    assert store.api_keys.role_of(second.digest) == "agent"
    assert store.api_keys.revoke(first.id, by="alice").revoked_by == "alice"     # again: nothing written
    assert store.api_keys.revoke(999, by="alice") is None
    assert [b["by"] for _, b in _entries(store, "key.revoked")] == ["alice"]
    assert [k.label for k in store.api_keys.listing()] == ["second", "first"]     # newest first
    verification = store.verify_audit()
    assert verification.ok and verification.rows["api_keys"] == 2


@pytest.mark.parametrize("edit, column", [({"revoked_at": None, "revoked_by": None}, "revoked_at"),
                                          ({"role": "admin"}, "role")])
def test_a_key_edited_with_sql_is_named_by_verify(store, edit, column):
    _, row = store.api_keys.create("agent", "phone team", by="ops")
    store.api_keys.revoke(row.id, by="ops")
    with store.engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == row.id).values(**edit))
    result = store.verify_audit()
    assert not result.ok
    (finding,) = result.findings
    assert finding.table == "api_keys" and finding.key == f"id={row.id}" and column in finding.columns


def test_a_key_inserted_with_sql_is_found(store):
    store.api_keys.create("agent", "real", by="ops")
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO api_keys (digest, label, role, created_at, created_by) "
                          "VALUES ('00', 'sneaky', 'admin', 1, 'x')"))
    assert any(f.table == "api_keys" and "no seal" in f.problem for f in store.verify_audit().findings)


def test_the_console_reads_the_log_newest_first_by_kind_and_subject(store):
    _, a = store.api_keys.create("agent", "a", by="ops")
    _, b = store.api_keys.create("agent", "b", by="ops")
    store.api_keys.revoke(a.id, by="ops")
    with read_transaction(store.engine) as conn:
        rows, more = auditreads.audit_newest(conn, kind="key.", limit=2)
        assert [r.kind for r in rows] == ["key.revoked", "key.created"] and more is not None
        older, last = auditreads.audit_newest(conn, kind="key.", before=more, limit=2)
        assert [(r.kind, r.subject) for r in older] == [("key.created", a.key_id)] and last is None
        by_subject, _ = auditreads.audit_newest(conn, subject=b.key_id)
        assert [r.kind for r in by_subject] == ["key.created"]
        exact, _ = auditreads.audit_newest(conn, kind="key.revoked")
        assert len(exact) == 1
