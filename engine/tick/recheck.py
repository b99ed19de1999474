"""The re-check before sending: does the engine, deciding now, still want this contact?

The outbox row was queued by an earlier evaluation. Between then and the send, events
may have arrived (a payment, a promise, a dispute, a cease request, an opt-out) or time
may have moved (a contact window closed). The dispatcher decides the account again at
`now` from the store and compares: the row goes out only if the fresh decision has an
action for the same stage, attempt, channel and episode that may go out now.
"""
from __future__ import annotations

from dataclasses import dataclass

from arrears.engine.tick.columns import PageColumns, summarise


@dataclass(frozen=True)
class Verdict:
    """`send`; `defer` until `until` (same contact, later time); `cancel` or `error` with a reason."""

    kind: str
    reason: str = ""
    until: int | None = None


def recheck(db, row, now_s: int) -> Verdict:
    """Compare the fresh one-account `DecisionBatch` `db` with the outbox `row`."""
    cols: PageColumns = summarise(db)
    if not cols.action_ok[0]:
        return Verdict("cancel", "no contact is due any more: " + _why_not(db))
    stage, attempt, channel = cols.stage[0], int(cols.attempt[0]), cols.channel[0]
    # The step first: an event message (a thank-you) has a trigger, not an episode, as its key.
    if (stage, attempt) != (row.stage, row.attempt):
        return Verdict("cancel", f"the next step is now {stage} attempt {attempt}")
    episode = cols.episode_key(db, 0)
    if episode != row.episode_key:
        return Verdict("cancel", f"a new collection episode started (now {episode or 'none'}, "
                                 f"was {row.episode_key})")
    if channel != row.channel:
        return Verdict("cancel", f"the channel for this step is now {channel}")
    not_before = int(cols.not_before[0])
    if not_before > now_s:
        return Verdict("defer", "the contact may not go out before its new time", not_before)
    return Verdict("send")


def _why_not(db) -> str:
    decision = db.decision(0)
    reasons = [s.reason for s in decision.suppressions]
    if reasons:
        return "; ".join(reasons)
    if decision.total_balance.amount <= 0:
        return "nothing is owed"
    return "no escalation step is due"
