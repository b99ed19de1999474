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

CHANNEL = Param("channel", {"type": "string", "enum": list(CHANNEL_KINDS), "default": "call"},
                "The channel kind (call for the call list).")


def _day_end(at: datetime) -> datetime:
    return datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), timezone.utc)


def _channels(policy, kind: str) -> list[str]:
    return [name for name, k in policy.channels.items() if k == kind]


@resource.route("GET", "/v1/work-queue", roles=AGENT, summary="Today's prioritised contact list",
                operation_id="work_queue", description=__doc__.split("\n", 2)[2],
                query=(CHANNEL, AT), responses={200: ("The list", ref("WorkQueue"))})
def work_queue(call):
    """GET /v1/work-queue: today's prioritised contact list."""
    state, kind = call.state, call.query["channel"]
    at = call.query["at"] or datetime.now(timezone.utc).replace(microsecond=0)
    capacity = int(state.settings.work_queue_capacity.get(kind, 0))
    policy = state.policies.active()
    head = {"channel": kind, "date": at.date().isoformat(), "capacity": capacity}
    before = int(_day_end(at).timestamp())
    with read_transaction(state.store.engine) as conn:
        if decisionreads.any_decisions(conn):
            rows = (decisionreads.due_contacts(conn, _channels(policy, kind), before, capacity, policy.digest)
                    if capacity else [])
            return {**head, "source": "tick", "evaluated_at": None, "items": [_from_row(r) for r in rows]}
        nos = scan.acct_nos_after(conn, 0, state.settings.work_queue_scan)
    items = _computed(state, policy, kind, nos, at, before, capacity)
    return {**head, "source": "computed", "evaluated_at": rfc3339(at), "items": items}


def _from_row(row) -> dict:
    body = json.loads(row.body)
    minor, currency = body.get("balance_minor"), body.get("currency")
    dpd = body.get("days_past_due")
    return {"account_id": row.account_id, "priority": float(max(row.sort_key, 0.0)), "stage": row.stage,
            "action": row.action_type, "channel": row.channel, "attempt": row.attempt,
            "not_before": time_of(row.not_before), "reason": body.get("reason"),
            "balance": None if minor is None or currency is None
            else {"amount": str(from_minor(int(minor), currency)), "currency": currency},
            "days_past_due": dpd if isinstance(dpd, int) and not isinstance(dpd, bool) else None}


def _computed(state, policy, kind: str, acct_nos: list, at: datetime, before: int, capacity: int) -> list:
    if not acct_nos or not capacity:
        return []
    db = decide_batch(state.store.load_batch(np.asarray(acct_nos, dtype=np.int64)), policy, at)
    state.metrics.decided("work_queue", len(db))
    names = set(_channels(policy, kind))
    step, chan = db.steps.step, db.guarded.channel
    rows = [i for i in np.flatnonzero(db.action_ok & (db.not_before < before)).tolist()
            if policy.stages[step[i]].channels[chan[i]] in names]
    rows.sort(key=lambda r: (-float(db.scores[r]), r))
    decisions = [db.decision(i) for i in rows[:capacity]]
    return [{"account_id": d.account_id, "priority": d.priority.score, "stage": d.action.stage,
             "action": d.action.type, "channel": d.action.channel, "attempt": d.action.attempt,
             "not_before": rfc3339(d.action.not_before), "reason": d.action.reason,
             "balance": d.balance.to_json(), "days_past_due": d.days_past_due} for d in decisions]
