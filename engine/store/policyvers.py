"""Policy versions: every policy ever used, by digest, and which one is active.

Written by `record`; read as dicts (`active`, `by_digest`) or as whole rows, a page at a
time, for the API (`page`, `row_by_digest`, `active_row`). Storing and activating are audited (`policy.stored`, `policy.activated`), so the
audit log answers "which policy was live when this decision was made"; each entry seals the
rows it wrote (`arrears.engine.store.seals`). `tampered` tells whether a stored version's
text still matches what was recorded when it was stored.
"""
from __future__ import annotations

import json

from sqlalchemy import Connection, insert, select, update

from arrears.engine.domain.errors import InputError
from arrears.engine.store import audit, due
from arrears.engine.store.codec import sha256
from arrears.engine.store.schema import audit as audit_t
from arrears.engine.store.schema import decisions
from arrears.engine.store.schema import experiments as experiments_t
from arrears.engine.store.schema import policy_versions as pv


def record(conn: Connection, name: str, version: str, digest: str, source: str, activate: bool,
           now: int) -> bool:
    """Store the version once per digest; if `activate`, make it the only active one.

    Returns True if a row was added or the active version changed. Activating another
    version makes every account due, in the same transaction (`due.make_all_due`), so the
    next tick decides the whole portfolio again under it; the audit entry counts them.
    InputError (nothing written) when activating another version while an experiment runs or is
    paused: the active policy is its champion, and changing it midway would mix two champions in
    one arm's results (an experiment's `promote` ends it first, in the same transaction).
    """
    row = conn.execute(select(pv.c.id, pv.c.active).where(pv.c.digest == digest)).one_or_none()
    if activate and not (row is not None and row.active):
        _refuse_during_experiment(conn, name, version)
    changed = False
    if row is None:
        conn.execute(insert(pv), {"name": name, "version": version, "digest": digest, "source": source,
                                  "created_at": now, "activated_at": None, "active": False})
        audit.append(conn, "policy.stored", digest, {"name": name, "version": version,
                                                     "source_sha256": sha256(source)}, now,
                     reseal={"policy_versions": [digest]})
        changed = True
    if activate and not (row is not None and row.active):
        previous = active(conn)
        conn.execute(update(pv).where(pv.c.active.is_(True)).values(active=False))
        conn.execute(update(pv).where(pv.c.digest == digest).values(active=True, activated_at=now))
        redecide = due.make_all_due(conn)
        audit.append(conn, "policy.activated", digest,
                     {"name": name, "version": version, "accounts_made_due": redecide,
                      "previous": None if previous is None else previous["digest"]}, now,
                     reseal={"policy_versions": [digest] + ([] if previous is None else [previous["digest"]])})
        changed = True
    return changed


def _refuse_during_experiment(conn: Connection, name: str, version: str) -> None:
    found = conn.execute(select(experiments_t.c.name, experiments_t.c.status)
                         .where(experiments_t.c.status.in_(("running", "paused")))).first()
    if found is not None:
        raise InputError(f"cannot activate {name} {version}: experiment {found.name!r} is {found.status} "
                         f"with the active policy as its champion; stop it (arrears experiment stop "
                         f"{found.name}) or promote a challenger first")


def tampered(conn: Connection, digest: str, source: str) -> str | None:
    """Why the stored version `digest` must not be used, or None if its text is the one
    recorded: the SHA-256 of `source` must be the `source_sha256` of the `policy.stored`
    audit entry for `digest`. One indexed read (by subject), cheap enough for every tick."""
    body = conn.execute(select(audit_t.c.body).where(audit_t.c.subject == digest, audit_t.c.kind == "policy.stored")
                        .order_by(audit_t.c.seq).limit(1)).scalar_one_or_none()
    if body is None:
        return (f"the stored policy {digest} was never recorded as stored in the audit log: "
                "its row was added or its digest changed outside Arrears")
    if json.loads(body).get("source_sha256") != sha256(source):
        return (f"the stored text of policy {digest} no longer matches the text recorded when it "
                "was stored (it was edited in the database)")
    return None


def active(conn: Connection) -> dict | None:
    """The active version as a dict, or None if no policy was ever activated."""
    row = conn.execute(select(pv.c.name, pv.c.version, pv.c.digest, pv.c.source, pv.c.activated_at)
                       .where(pv.c.active.is_(True))).one_or_none()
    return None if row is None else dict(row._mapping)


def active_digest(conn: Connection) -> str | None:
    """The active version's digest (None if no policy was ever activated): one small read,
    cheap enough for every page of a tick."""
    return conn.execute(select(pv.c.digest).where(pv.c.active.is_(True))).scalar_one_or_none()


def by_digest(conn: Connection, digest: str) -> dict | None:
    """The stored version with this digest (name, version, digest, source), or None."""
    row = conn.execute(select(pv.c.name, pv.c.version, pv.c.digest, pv.c.source)
                       .where(pv.c.digest == digest)).one_or_none()
    return None if row is None else dict(row._mapping)


def source_of_decision(conn: Connection, decision_id: int) -> str | None:
    """The source of the policy version that made decision `decision_id` (None if that
    decision or its version is not stored)."""
    return conn.execute(select(pv.c.source).join(decisions, decisions.c.policy_digest == pv.c.digest)
                        .where(decisions.c.id == decision_id)).scalar_one_or_none()


def page(conn: Connection, after: int | None, limit: int) -> list:
    """Up to `limit` policy version rows, newest first, after the version id `after`."""
    stmt = select(pv)
    if after is not None:
        stmt = stmt.where(pv.c.id < after)
    return conn.execute(stmt.order_by(pv.c.id.desc()).limit(limit)).all()


def row_by_digest(conn: Connection, digest: str):
    """The `policy_versions` row with this digest (every column), or None."""
    return conn.execute(select(pv).where(pv.c.digest == digest)).one_or_none()


def active_row(conn: Connection):
    """The active `policy_versions` row (every column), or None."""
    return conn.execute(select(pv).where(pv.c.active.is_(True))).one_or_none()
