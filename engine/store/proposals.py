"""Maker-checker for policy versions: one user proposes a stored version, another approves it.

Proposals live in the audit log itself (`policy.proposed`, `policy.approved`, each naming its
user), so there is no second record to keep in step with it: a version is pending when its
latest `policy.proposed` entry has no later `policy.approved` or `policy.withdrawn` entry.
`approve` checks and activates in one write transaction (activation re-decides: see
`policyvers.record`), so two approvers at once cannot both activate, and nobody approves
their own proposal. A proposal may name a running champion/challenger experiment and the
challenger whose version it is (`experiment`, `arm`: the console's promote); approving it
then promotes the challenger (`experiments.promote`: the experiment ends, the version is
activated), in the same transaction.
"""
from __future__ import annotations

import json

from sqlalchemy import Connection, select

from arrears.engine.domain.errors import InputError
from arrears.engine.store import audit, experiments, policyvers
from arrears.engine.store.schema import audit as audit_t

KINDS = ("policy.proposed", "policy.approved", "policy.withdrawn")


def pending(conn: Connection) -> dict[str, dict]:
    """{digest: {"by": user, "at": epoch, "note": text, "experiment": name or None, "arm": name or
    None}} of the proposals not yet decided."""
    rows = conn.execute(select(audit_t.c.kind, audit_t.c.subject, audit_t.c.at, audit_t.c.body)
                        .where(audit_t.c.kind.in_(KINDS)).order_by(audit_t.c.seq)).all()
    out: dict[str, dict] = {}
    for row in rows:
        if row.kind == "policy.proposed":
            body = json.loads(row.body)
            out[row.subject] = {"by": body.get("by"), "at": row.at, "note": body.get("note", ""),
                                "experiment": body.get("experiment"), "arm": body.get("arm")}
        else:
            out.pop(row.subject, None)
    return out


def propose(conn: Connection, digest: str, by: str, note: str, now: int, *,
            experiment: str | None = None, arm: str | None = None) -> None:
    """Propose the stored version `digest` for activation (audited with `by`); InputError if
    it is not stored or is active already. With `experiment` and `arm`: promoting that
    running experiment's challenger `arm` (whose version `digest` is; the caller checks that)."""
    row = policyvers.row_by_digest(conn, digest)
    if row is None:
        raise InputError(f"no stored policy version has digest {digest!r}", "digest")
    if row.active:
        raise InputError(f"{row.name} {row.version} is the active policy already", "digest")
    body = {"by": by, "name": row.name, "version": row.version, "note": note}
    if experiment is not None:
        current = experiments.get(conn, experiment)
        if current is None or current["status"] != experiments.RUNNING:
            raise InputError(f"experiment {experiment!r} is not running", "experiment")
        body.update(experiment=experiment, arm=arm)
    audit.append(conn, "policy.proposed", digest, body, now)


def approve(conn: Connection, digest: str, by: str, now: int) -> dict:
    """Approve the pending proposal of `digest` as `by` and activate it (which makes every
    account due: the next tick re-decides them); a proposal to promote an experiment's
    challenger ends the experiment as promoted (`experiments.promote`, audited with `by`).
    InputError when nothing is pending for it, or its experiment is no longer running;
    PermissionError when `by` proposed it. Returns the proposal."""
    proposal = pending(conn).get(digest)
    if proposal is None:
        raise InputError(f"policy {digest!r} has no pending proposal", "digest")
    if proposal["by"] == by:
        raise PermissionError(f"{by} proposed this version: another user must approve it")
    row = policyvers.row_by_digest(conn, digest)
    audit.append(conn, "policy.approved", digest, {"by": by, "proposed_by": proposal["by"],
                                                   "name": row.name, "version": row.version}, now)
    if proposal["experiment"] is None:
        policyvers.record(conn, row.name, row.version, digest, row.source, True, now)
        return proposal
    current = experiments.get(conn, proposal["experiment"])
    version = {"name": row.name, "version": row.version, "digest": digest, "source": row.source}
    experiments.promote(conn, proposal["experiment"], proposal["arm"], version, now=now, by=by,
                        body={"digest": current["digest"], "proposed_by": proposal["by"]})
    return proposal


def withdraw(conn: Connection, digest: str, by: str, now: int) -> None:
    """Withdraw the pending proposal of `digest` (audited with `by`); InputError if none."""
    if digest not in pending(conn):
        raise InputError(f"policy {digest!r} has no pending proposal", "digest")
    audit.append(conn, "policy.withdrawn", digest, {"by": by}, now)
