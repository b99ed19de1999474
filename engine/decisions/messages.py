"""Event-triggered messages: a thank-you when a payment arrives, an acknowledgement of a promise,
a confirmation of a plan, a reminder a few days before a plan instalment or a promised date.

The policy's `event_messages` (compiled to `CompiledPolicy.messages`) say which. Rules, column-wise:

- *Arrival* triggers (`payment`, `promise_to_pay`, `payment_plan`): the account's latest such event,
  while it is at most `within_days` old (a plan only while it is active). *Date* triggers
  (`instalment_due`: the next uncovered instalment of a plan in good standing; `promise_due`: the
  date of a pending promise): from the local day `days_before` the date until the date.
- Act once: a message is due only if no `contact_attempt` recorded under its id (any outcome) is
  at or after the trigger (the event's instant, or the start of the reminder's first day). Several
  payments before the message goes out get one thank-you. The tick keys the contact by the
  trigger (`trigger_key`), so it is queued once per triggering event.
- A message goes out only where its `when` holds, one of its channels can reach the debtor, and no
  stop state nor manual hold is in force. Pauses (a promise, a plan, a dispute, hardship) stop
  escalation, not these messages: the plan's reminders are sent precisely while it pauses.
- A due message takes the account's step for this evaluation (the first due, in policy order);
  escalation resumes at the next one. It then goes through the same channel choice and every
  guardrail (hours, holidays, frequency caps) as a stage does; if no channel may carry it within
  a day, the step goes back to escalation for this evaluation (`splice`), so a message never
  holds a reminder back.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import KIND_CODES, NO_DAY, day_to_date
from arrears.engine.domain.clock import DAY, FAR, NEVER, from_epoch
from arrears.engine.facts.balances import take

ARRIVALS = {"payment": "payment", "promise_to_pay": "promise_to_pay", "payment_plan": "payment_plan"}
# Reason codes continue escalation.REASONS (see its tail): one per trigger.
REASON_CODE = {"payment": 6, "promise_to_pay": 7, "payment_plan": 8, "instalment_due": 9, "promise_due": 10}
# Stop states and the manual hold keep these messages back; pauses do not.
STOPS = ("deceased", "bankrupt", "cease_communication", "represented", "breathing_space", "hold")


@dataclass
class Due:
    """Per account: the event message due now (index into `policy.messages`, -1: none), its
    trigger (the event's instant, or the date's epoch day for reminders), and when a reminder's
    window next opens (FAR: none ahead)."""

    message: np.ndarray
    trigger: np.ndarray
    next_at: np.ndarray


def stopped(facts) -> np.ndarray:
    """Accounts a stop state or a manual hold keeps every message from."""
    out = np.zeros(facts.n, dtype=bool)
    for key in STOPS:
        out |= facts.states[key][0]
    return out


def _sent_since(facts, message_id: str, rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per account: the latest contact attempt recorded under `message_id` (NEVER if none)."""
    out = np.full(facts.n, NEVER)
    hit = rows[ids == message_id]
    np.maximum.at(out, facts.b.ev_acct[hit], facts.b.ev_at[hit])
    return out


def _reachable(facts, policy, stage) -> np.ndarray:
    out = np.zeros(facts.n, dtype=bool)
    for name in stage.channels:
        out |= (facts.reachable >> KIND_CODES[policy.channels[name]]) & 1 == 1
    return out


def _date_trigger(facts, on: str) -> np.ndarray:
    """The date (epoch day) a date trigger counts down to, NO_DAY where there is none."""
    if on == "instalment_due":
        plan, tol = facts.plan, facts.p.pauses.plan_tolerance_days
        return np.where(plan["good"] & (plan["check_day"] < FAR), plan["check_day"] - tol - 1, NO_DAY)
    pr = facts.promises
    latest = facts.last_row(facts._mask(E["promise_to_pay"]))
    until = take(facts.b.ev_until.astype(np.int64), latest, NO_DAY)
    return np.where(pr["open"], until, NO_DAY)


def due(facts, policy) -> Due:
    """The event message due for every account of the batch."""
    n = facts.n
    out = np.full(n, -1)
    trigger = np.full(n, NEVER)
    next_at = np.full(n, FAR)
    if not policy.messages:
        return Due(out, trigger, next_at)
    b = facts.b
    rows = np.flatnonzero(facts._mask(E["contact_attempt"]))
    ids = b.ev_stage[rows]
    blocked = stopped(facts)
    for i, m in enumerate(policy.messages):
        if m.on in ARRIVALS:
            at = facts.last_at(facts._mask(E[ARRIVALS[m.on]]))
            ok = (at != NEVER) & (at > facts.now - m.within_days * DAY)
            if m.on == "payment_plan":
                ok &= facts.plan["active"]
            since, value = at, at
        else:
            date = _date_trigger(facts, m.on)
            has = date != NO_DAY
            first = np.where(has, date - m.days_before, 0)
            since = np.full(n, FAR)
            if has.any():
                since[has] = facts.midnight(first[has], np.flatnonzero(has))
            ok = has & (facts.today >= first) & (facts.today <= date)
            ahead = has & (facts.today < first)
            next_at = np.where(ahead, np.minimum(next_at, since), next_at)
            value = date
        ok &= _sent_since(facts, m.stage.id, rows, ids) < since
        ok &= ~blocked & _reachable(facts, policy, m.stage) & (out < 0)
        if ok.any():
            ok &= m.stage.when.evaluate(facts)
        out = np.where(ok, i, out)
        trigger = np.where(ok, value, trigger)
    return Due(out, trigger, next_at)


def merge(steps, found: Due, policy, today: np.ndarray):
    """`steps` with each due message as the account's step (index after the ladder's stages):
    attempt 1, its trigger's reason, ready today, no failed channels of its own."""
    mine = found.message >= 0
    if not mine.any():
        return steps
    k = len(policy.stages)
    codes = np.array([REASON_CODE[m.on] for m in policy.messages], dtype=np.int64)
    which = np.maximum(found.message, 0)
    failed = steps.failed_until.copy()
    failed[mine] = NEVER
    return replace(steps, step=np.where(mine, k + which, steps.step),
                   attempt=np.where(mine, 1, steps.attempt),
                   reason=np.where(mine, codes[which], steps.reason),
                   ready_day=np.where(mine, today, steps.ready_day), failed_until=failed,
                   variant=np.where(mine, 0, steps.variant))


def splice(first, second, rows: np.ndarray):
    """`first` (a dataclass of per-account columns: Steps, Guarded) with `second`'s values in
    `rows`; dicts of columns are spliced key by key, anything else is kept from `first`."""
    n = rows.shape[0]

    def pick(a, b):
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
                and a.shape[:1] == (n,):
            return np.where(rows.reshape((n,) + (1,) * (a.ndim - 1)), b, a)
        if isinstance(a, dict) and isinstance(b, dict):
            return {k: pick(v, b[k]) if k in b else v for k, v in a.items()}
        return a
    return replace(first, **{f.name: pick(getattr(first, f.name), getattr(second, f.name))
                             for f in fields(first) if f.init})


def trigger_key(policy, message: int, trigger: int) -> str:
    """The contact's key for act-once (the outbox's episode key): the trigger and its instant
    (ISO 8601 basic, UTC) or date, e.g. `payment@20261124T090000Z`, `instalment_due@2026-12-01`."""
    m = policy.messages[message]
    if m.on in ARRIVALS:
        return f"{m.on}@{from_epoch(trigger).strftime('%Y%m%dT%H%M%SZ')}"
    return f"{m.on}@{day_to_date(trigger).isoformat()}"


def describe(policy, message: int, trigger: int) -> str:
    """The trigger of a message, in words (the trace)."""
    m = policy.messages[message]
    if m.on in ARRIVALS:
        what = {"payment": "a payment arrived", "promise_to_pay": "a promise to pay arrived",
                "payment_plan": "a payment plan was agreed"}[m.on]
        return (f"{what} at {from_epoch(trigger).strftime('%Y-%m-%dT%H:%M:%SZ')} (sent while at most "
                f"{m.within_days} days old, once per event)")
    what = "the next plan instalment" if m.on == "instalment_due" else "the promised date"
    return (f"{what} is {day_to_date(trigger).isoformat()} (reminded from {m.days_before} days "
            "before, once)")
