"""GET /v1/work-queue: today's contacts on one channel kind, highest priority first, capped.

Source `tick`: once the scheduled tick has stored decisions, the queue is each
account's latest decision whose next contact is on a channel of that kind and may go
out before the end of the day (UTC), for accounts evaluated since their last change
and under the active policy (after an activation, until the next tick decides again).
Source `computed`: before any tick has run, the stored accounts (the first
`work_queue_scan` of them) are decided now, in one batch, and nothing is stored.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np

from arrears.api.openapi.model import ref
from arrears.api.resources.common import AGENT, AT
from arrears.api.routing import Param, Resource
from arrears.api.serialize import time_of
from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.model import CHANNEL_KINDS
from arrears.engine.domain.money import from_minor
from arrears.engine.store import decisionreads, scan
from arrears.engine.store.db import read_transaction

resource = Resource("work_queue", "Work queue", "Prioritised contact lists for human agents.")

# The live table (not a copy): a kind a plugin registers, even after this module was imported,
# is accepted and listed in the OpenAPI document.
CHANNEL = Param("channel", {"type": "string", "enum": CHANNEL_KINDS, "default": "call"},
                "The channel kind (call for the call list), built-in or added by a plugin.")
ASSIGNEE = Param("assignee", {"type": "string", "minLength": 1},
                 "Only the items assigned to this account manager (stages with "
                 "`assign_to: account_manager`).")
UNASSIGNED = Param("unassigned", {"type": "boolean", "default": False},
                   "Only the items no account manager is assigned (the general queue).")
PERSONAL_KINDS = ("call", "task")    # the kinds a person works: only their items have an assignee


def _day_end(at: datetime) -> datetime:
    return datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), timezone.utc)


def _channels(policy, kind: str) -> list[str]:
    return [name for name, k in policy.channels.items() if k == kind]


@resource.route("GET", "/v1/work-queue", roles=AGENT, summary="Today's prioritised contact list",
                operation_id="work_queue", description=__doc__.split("\n", 2)[2],
                query=(CHANNEL, AT, ASSIGNEE, UNASSIGNED), responses={200: ("The list", ref("WorkQueue"))})
def work_queue(call):
    """GET /v1/work-queue: today's prioritised contact list (one manager's, or the general one)."""
    state, kind = call.state, call.query["channel"]
    at = call.query["at"] or datetime.now(timezone.utc).replace(microsecond=0)
    capacity = int(state.settings.work_queue_capacity.get(kind, 0))
    policy = state.policies.active()
    head = {"channel": kind, "date": at.date().isoformat(), "capacity": capacity}
    before = int(_day_end(at).timestamp())
    # Only a call or task is worked by a person, so only they are assigned.
    assigning = policy.assigning_stages if kind in PERSONAL_KINDS else ()
    who, unassigned = call.query["assignee"], bool(call.query["unassigned"])
    if who is not None and (unassigned or not assigning):
        capacity = 0                  # nothing can be assigned to them (and unassigned) at once
    with read_transaction(state.store.engine) as conn:
        if decisionreads.any_decisions(conn):
            rows = (decisionreads.due_contacts(conn, _channels(policy, kind), before, capacity, policy.digest,
                                               assigning, who, unassigned) if capacity else [])
            return {**head, "source": "tick", "evaluated_at": None,
                    "items": [_from_row(r, assigning) for r in rows]}
        nos = scan.acct_nos_after(conn, 0, state.settings.work_queue_scan)
    items = _computed(state, policy, kind, nos, at, before, capacity, (who, unassigned))
    return {**head, "source": "computed", "evaluated_at": rfc3339(at), "items": items}


def _from_row(row, assigning: tuple) -> dict:
    body = json.loads(row.body)
    minor, currency = body.get("balance_minor"), body.get("currency")
    dpd = body.get("days_past_due")
    return {"account_id": row.account_id, "priority": float(max(row.sort_key, 0.0)), "stage": row.stage,
            "action": row.action_type, "channel": row.channel, "attempt": row.attempt,
            "not_before": time_of(row.not_before), "reason": body.get("reason"),
            "balance": None if minor is None or currency is None
            else {"amount": str(from_minor(int(minor), currency)), "currency": currency},
            "days_past_due": dpd if isinstance(dpd, int) and not isinstance(dpd, bool) else None,
            "assignee": (row.account_manager or None) if row.stage in assigning else None}


def _computed(state, policy, kind: str, acct_nos: list, at: datetime, before: int, capacity: int,
              wanted: tuple) -> list:
    if not acct_nos or not capacity:
        return []
    db = decide_batch(state.store.load_batch(np.asarray(acct_nos, dtype=np.int64)), policy, at)
    state.metrics.decided("work_queue", len(db))
    names = set(_channels(policy, kind))
    step, chan = db.steps.step, db.guarded.channel
    rows = [i for i in np.flatnonzero(db.action_ok & (db.not_before < before)).tolist()
            if policy.actions[step[i]].channels[chan[i]] in names]
    who, unassigned = wanted
    if who is not None or unassigned:
        managers = db.facts.b.manager
        assigned = {i: managers[i] or None for i in rows
                    if policy.actions[step[i]].assign_to == "account_manager" and kind in PERSONAL_KINDS}
        rows = [i for i in rows if (assigned.get(i) == who if who is not None else assigned.get(i) is None)]
    rows.sort(key=lambda r: (-float(db.scores[r]), r))
    decisions = [db.decision(i) for i in rows[:capacity]]
    return [{"account_id": d.account_id, "priority": d.priority.score, "stage": d.action.stage,
             "action": d.action.type, "channel": d.action.channel, "attempt": d.action.attempt,
             "not_before": rfc3339(d.action.not_before), "reason": d.action.reason,
             "balance": d.balance.to_json(), "days_past_due": d.days_past_due,
             "assignee": d.action.assignee} for d in decisions]
