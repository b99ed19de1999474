"""Decisions from stored data: GET /v1/accounts/{account_id}/decision and GET /v1/decisions."""
from __future__ import annotations

from datetime import datetime, timezone

from arrears.api import cursors
from arrears.api.deciding import decide_stored
from arrears.api.decision_json import decision_dict
from arrears.api.openapi.model import ref
from arrears.api.resources.accounts import not_found
from arrears.api.resources.common import AT, CURSOR, INTEGRATOR, LIMIT, POLICY, policy_or_active
from arrears.api.resources.decide import TRACE
from arrears.api.routing import Param, Resource
from arrears.api.serialize import decision_summary
from arrears.engine.domain.batch import Batch
from arrears.engine.store import UnknownAccount, decisionreads, policyvers
from arrears.engine.store.db import read_transaction

resource = Resource("decisions", "Decisions", "What the engine decides, and why.")

TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
FILTERS = (
    Param("stage", TEXT, "Only decisions at this escalation stage (a stage id of the policy)."),
    Param("action", TEXT, "Only decisions whose next action is this action type."),
    Param("channel", TEXT, "Only decisions whose next contact goes through this channel (policy name)."),
    Param("bucket", TEXT, "Only accounts in this aging bucket."),
    Param("account_id", TEXT, "Only this account."),
)
STALE = Param("stale", {"type": "boolean"},
              "`true`: only stale decisions (made under a policy other than the active one, or "
              "before the account last changed: new events or an upsert since); `false`: only "
              "fresh ones. Left out: both.")
SORT = Param("sort", {"enum": list(decisionreads.SORTS), "type": "string", "default": "priority"},
             "`priority` (highest first) or `evaluated_at` (newest first).")


@resource.route("GET", "/v1/accounts/{account_id}/decision", roles=INTEGRATOR,
                summary="Decide for a stored account", operation_id="account_decision",
                description="What the engine would decide for the stored account and history, now "
                            "or as of `at`, under the active policy (or `policy`); while a champion/"
                            "challenger experiment runs, without `policy`, under the account's strategy "
                            "(docs/experiments.md). Nothing is stored. "
                            "`?trace=true` adds `trace`, the step-by-step explanation.",
                query=(AT, POLICY, TRACE),
                responses={200: ("The decision (with its trace if asked for)", ref("Decision"))})
def account_decision(call, account_id):
    """GET /v1/accounts/{account_id}/decision: decide for a stored account."""
    policy = policy_or_active(call.state, call.query["policy"], {"parameter": "policy"})
    try:
        if call.query["policy"] is None:
            policy = _strategy_policy(call.state, account_id, call.query["at"], policy)
        batch, row = decide_stored(call.state, account_id, policy, call.query["at"])
    except UnknownAccount:
        raise not_found(account_id) from None
    return decision_dict(batch, row, call.query["trace"])


def _strategy_policy(state, account_id: str, at, policy):
    """The policy of the stored account's strategy while an experiment runs, else `policy`."""
    now = at or datetime.now(timezone.utc)
    strategies = state.strategies(now)
    if not strategies.live:
        return policy
    account, events = state.store.get_account(account_id)
    arm = strategies.arms_for_batch(state.store, Batch.from_objects([account], [events]), now)[0]
    return strategies.policy_of(arm)


def _valid_key(key) -> bool:
    return (isinstance(key, list) and len(key) == 2 and cursors.is_number(key[0])
            and cursors.is_int(key[1]))


@resource.route("GET", "/v1/decisions", roles=INTEGRATOR, summary="List the latest stored decisions",
                operation_id="list_decisions",
                description="Each account's latest decision as the scheduled tick stored it (empty "
                            "until a tick has run), filtered, sorted by priority or evaluation time, "
                            "a page at a time. Each names the policy version it was made under "
                            "(`policy`). A decision is `stale`, and `stale_reason` says why, when "
                            "another version has been activated since, or the account has changed "
                            "since (events recorded, an upsert), until the next tick decides the "
                            "account again. `stale=true|false` lists only stale or only fresh ones.",
                query=(*FILTERS, STALE, SORT, LIMIT, CURSOR),
                responses={200: ("A page of decisions", ref("DecisionPage"))})
def list_decisions(call):
    """GET /v1/decisions: list the latest stored decisions."""
    q = call.query
    filters = {p.name: q[p.name] for p in (*FILTERS, STALE)}
    with read_transaction(call.state.store.engine) as conn:
        sort = decisionreads.effective_sort(conn, q["sort"])
        kind = f"decisions:{sort}"
        after = cursors.decode(kind, filters, q["cursor"], _valid_key)
        active = policyvers.active_row(conn)
        rows, last = decisionreads.decisions_page(
            conn, filters={p.name: q[p.name] for p in FILTERS}, sort=sort, after=after, limit=q["limit"],
            stale=q["stale"], active_digest=None if active is None else active.digest)
    return {"items": [decision_summary(r, active) for r in rows],
            "next_cursor": cursors.encode(kind, filters, last)}
