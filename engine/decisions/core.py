"""decide: the pure decision core.

`decide_batch(batch, policy, now)` evaluates a whole batch column-wise and returns a
`DecisionBatch`; per-account `Decision` values (with their trace) are built only when
asked for. `decide(account, events, policy, now)` is the one-account convenience.
No clock reads, no I/O: `now` is an argument, so the same inputs give the same bytes.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np

from arrears.engine.decisions import escalation, holds, messages, offers, priority
from arrears.engine.decisions.result import DecisionBatch
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.clock import DAY, FAR, as_epoch
from arrears.engine.domain.model import Account, Event
from arrears.engine.facts.compute import Facts
from arrears.engine.guardrails import evaluate as guardrails
from arrears.engine.policy.compiler import CompiledPolicy

MIN_RECHECK = 60   # seconds: never schedule the next evaluation sooner than this


def _durations(policy: CompiledPolicy, rules, n: int) -> dict:
    """Per-account lengths of the pauses profiles may lengthen (hardship, breathing space):
    the longest that applies."""
    hardship = -1 if policy.grace.hardship_days is None else policy.grace.hardship_days
    out = {"hardship": np.full(n, hardship, dtype=np.int64),       # -1: until it is ended
           "breathing_space": np.full(n, holds.BREATHING_SPACE_DAYS, dtype=np.int64)}
    for rule, mask in rules:
        if "lengthens" in rule.hooks:
            key, days = rule.lengthens()
            # Only ever lengthen: an open-ended pause (-1) stays open-ended.
            longer = mask & (out[key] >= 0)
            out[key] = np.where(longer, np.maximum(out[key], days), out[key])
    return out


def decide_batch(batch: Batch, policy: CompiledPolicy, now: datetime) -> DecisionBatch:
    """Evaluate every account of `batch` under `policy` at `now`."""
    now_s = as_epoch(now)
    rules = guardrails.rule_masks(policy.profiles, batch, policy)
    if policy.channel_rules:            # a plugin kind's own terms (its consent) bind every account
        everyone = np.ones(batch.n, dtype=bool)
        rules = rules + [(rule, everyone) for rule in policy.channel_rules]
    facts = Facts(batch, policy, now_s, _durations(policy, rules, batch.n))
    rules = rules + guardrails.universal_rules(facts)
    scores, contrib = priority.score(facts, policy)
    blocked, bars = guardrails.time_bar_blocks(facts, policy, rules)
    ladder = escalation.plan_steps(facts, policy, blocked)
    due_messages = messages.due(facts, policy)
    steps = messages.merge(ladder, due_messages, policy, facts.today)
    base = _base(facts, steps, now_s)
    guarded = guardrails.apply(facts, policy, steps, rules, base)
    if steps is not ladder:
        # A message no channel may carry within a day gives the step back to escalation.
        back = guarded.blocked & (steps.step >= len(policy.stages))
        if back.any():
            # Only the rows given back are judged again: the others' steps are left out (-1),
            # so the second pass costs what those few rows cost (each row is judged alone).
            ladder_base = _base(facts, ladder, now_s, back)
            only_back = replace(ladder, step=np.where(back, ladder.step, -1))
            again = guardrails.apply(facts, policy, only_back, rules, ladder_base)
            guarded = messages.splice(guarded, again, back)
            steps, base = messages.splice(steps, ladder, back), np.where(back, ladder_base, base)
            due_messages.message[back] = -1
    retry_failed = escalation.channel_retry_at(facts, policy, steps.step, steps.failed_until, base,
                                                steps.variant)
    hold_list = holds.holds(facts, policy, exempt=guarded.exempt,
                            notes=guardrails.hold_notes(facts, rules))
    offer_cols = offers.compute(facts, policy, _fee_freeze(facts, rules))

    n = facts.n
    any_hold = np.zeros(n, dtype=bool)
    held_until = np.full(n, -FAR)
    for hold in hold_list:
        any_hold |= hold.active
        held_until = np.where(hold.active, np.maximum(held_until, hold.until), held_until)
    held_until = np.where(any_hold, held_until, FAR)
    has_step = steps.step >= 0
    # An event message is held back by the stop states and a manual hold only, not by pauses.
    is_message = steps.step >= len(policy.stages)
    if is_message.any():
        stop = np.zeros(n, dtype=bool)
        for hold in hold_list:
            if hold.rule.startswith("stop.") or hold.rule == "pause.hold":
                stop |= hold.active
        any_hold = np.where(is_message, stop, any_hold)
    action_ok = has_step & ~any_hold & ~guarded.blocked & (guarded.channel >= 0)
    not_before = np.where(action_ok, guarded.not_before, now_s)

    candidates = [
        np.full(n, now_s + policy.max_interval_days * DAY),
        np.where(action_ok, np.where(not_before > now_s, not_before, now_s + DAY), FAR),
        held_until,
        # While held, only the hold's end (or an event) can change anything.
        np.where(any_hold, FAR, _midnights(facts, steps.next_day)),
        _midnights(facts, facts.plan["check_day"]),
        np.where(facts.promises["open"], facts.promises["latest_deadline"], FAR),
        guarded.retry_at,
        # A step kept back only by failed channels is decided again when the first is retried.
        np.where(has_step & ~any_hold & ~action_ok, retry_failed, FAR),
        due_messages.next_at,          # a reminder's first day
        # A stored event dated later than now (a `represented` event from a given day, say)
        # changes the facts when its moment comes: decide again then, not at a time worked
        # out from facts it will have changed.
        _next_event_at(facts),
    ]
    next_eval = np.maximum(np.minimum.reduce(candidates), now_s + MIN_RECHECK)
    return DecisionBatch(policy=policy, facts=facts, now=now_s, scores=scores, contributions=contrib,
                         steps=steps, guarded=guarded, rules=rules, bars=bars, holds=hold_list,
                         offers=offer_cols, held=any_hold, held_until=held_until,
                         action_ok=action_ok, not_before=not_before, next_evaluation=next_eval,
                         channel_retry_at=retry_failed, messages=due_messages)


def _base(facts: Facts, steps, now_s: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Each step's own earliest moment: now, or local midnight of the day spacing allows it
    (`rows`: only for those accounts, the others get now)."""
    later = steps.ready_day > facts.today
    if rows is not None:
        later &= rows
    out = np.full(facts.n, now_s, dtype=np.int64)
    at = np.flatnonzero(later)
    if at.size:
        out[at] = facts.midnight(steps.ready_day[at], at)
    return out


def _fee_freeze(facts: Facts, rules) -> np.ndarray:
    """Accounts whose fees a profile freezes (forbearance while in hardship)."""
    out = np.zeros(facts.n, dtype=bool)
    for rule, mask in rules:
        if "freezes_fees" in rule.hooks and (frozen := rule.freezes_fees(facts)) is not None:
            out |= mask & frozen
    return out


def _next_event_at(facts: Facts) -> np.ndarray:
    """Per account, the earliest stored event dated after now (FAR if none)."""
    out = np.full(facts.n, FAR)
    later = ~facts._valid
    if later.any():
        np.minimum.at(out, facts.b.ev_acct[later], facts.b.ev_at[later])
    return out


def _midnights(facts: Facts, days: np.ndarray) -> np.ndarray:
    """Start of each local day (FAR stays FAR)."""
    out = np.full(facts.n, FAR)
    has = days < FAR
    if has.any():
        out[has] = facts.midnight(days[has], np.flatnonzero(has))
    return out


def decide(account: Account, events: list[Event], policy: CompiledPolicy, now: datetime):
    """Decide for one account: its history `events` evaluated under `policy` at `now`."""
    return decide_batch(Batch.from_objects([account], [list(events)]), policy, now).decision(0)
