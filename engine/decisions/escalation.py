"""Escalation: which stage comes next for each account, and when it may go out.

Rules (applied column-wise over the batch, looping only over the few stages):
- A stage is *applicable* to an account when it is in one of the stage's `segments` (if
  any) and the stage's `when` holds; it is *due* when the account is at least
  `days_past_due` late — for post-due stages, also past its grace days. Pre-due stages
  (`days_past_due` <= 0) are due only until the due date passes: a "reminder before the
  due date" is never sent for an invoice that is already late.
- Progress is the furthest stage attempted in the current episode (contacts since the
  episode began: `arrears.engine.facts.episodes`). When the invoices that earned the stages
  are paid, the next one starts at the bottom of the ladder with fresh attempt numbers.
- Gradual: at most one step per evaluation. The next step is the furthest due stage
  beyond the current one, except that an applicable `required` stage in between is
  never skipped: it comes first. Missed ticks therefore produce one message, not a burst.
- A broken promise (or a missed plan instalment) resumes at the policy's named stage.
- A channel whose attempt failed is not used for the stage until its `retry_after_hours` have
  passed (`failed_channels`); the stage's other channels are used meanwhile.
- Without a new stage, the current one repeats every `repeat_every_days` until
  `max_attempts`. Every step waits `min_days_since_previous` days after the last stage
  attempt, of this episode or an earlier one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arrears.engine.domain.batch import KIND_CODES
from arrears.engine.domain.clock import FAR, NEVER
from arrears.engine.facts.compute import Facts

NONE = -1


@dataclass
class Steps:
    """Per-account escalation outcome (arrays of length n unless noted)."""

    applicable: np.ndarray      # (n, K) bool
    threshold: np.ndarray       # (n, K) effective days-past-due threshold (grace included)
    due: np.ndarray             # (n, K) bool: applicable, owing and late enough
    last: np.ndarray            # current stage index or -1
    step: np.ndarray            # stage to act on now or later, -1 if none
    attempt: np.ndarray         # attempt number of that step (1 = first)
    reason: np.ndarray          # int code, see REASONS
    ready_day: np.ndarray       # local day from which the step may go out
    grace_days: np.ndarray
    grace_blocked: np.ndarray   # a post-due stage waits only because of grace
    next_day: np.ndarray        # local day at which time alone may produce a step (FAR: never)
    resumed: np.ndarray         # the step was forced by a broken promise or a missed plan
    barred: np.ndarray          # a time-barred stage would otherwise have been due
    blocked: np.ndarray | None = None   # (n, K) stages the law removed for the account
    failed_until: np.ndarray | None = None   # (n, channels): a failed channel waits until (NEVER: not failed)
    variants: np.ndarray | None = None  # (n, K) the stage variant each account gets (0: the stage's own)
    variant: np.ndarray | None = None   # the step's variant (0 for the stage's own and for event messages)
    grace_until: np.ndarray | None = None   # local day from which grace no longer holds the step back


REASONS = ("none", "next stage", "required stage first", "repeat", "resume after broken promise",
           "resume after missed plan instalment",
           # event messages (engine/decisions/messages.py), one per trigger
           "payment received", "promise received", "plan agreed", "instalment due soon", "promised date soon")


def grace_days(facts: Facts, policy) -> np.ndarray:
    """Grace days per account: the largest of the default and its segments' grace, plus the
    grace of each segment the policy says adds up (`adds: true`) that the account is in."""
    out = np.full(facts.n, policy.grace.default_days, dtype=np.int64)
    for segment, days in policy.grace.segments:
        out = np.where(facts.segment_mask(segment), np.maximum(out, days), out)
    for segment, days in policy.grace.added:
        out = out + np.where(facts.segment_mask(segment), days, 0)
    return out


def grace_source(facts: Facts, policy, row: int) -> str:
    """Where account `row`'s grace days come from, in words, as `grace_days` counts them: the
    policy's default or the segment whose grace is the largest, plus each segment that adds up
    (`default 0 + segment vip 14`, `segment business 7`)."""
    g = policy.grace
    base, name = g.default_days, "the default"
    for segment, days in g.segments:
        if facts.segment_mask(segment)[row] and days > base:
            base, name = days, f"segment {segment}"
    parts = [f"{name} {base}"]
    parts += [f"segment {segment} {days} (adds up)" for segment, days in g.added
              if facts.segment_mask(segment)[row]]
    return " + ".join(parts)


def _threshold(days, grace: np.ndarray, shift: bool) -> np.ndarray:
    """A stage's days past due after grace: grace holds post-due stages back until it is over,
    or (`shift_ladder`) moves each of them later by the grace days; a stage at 0 or before the
    due date never moves. `days` is one number or a column (a stage with variants)."""
    if not np.ndim(days):
        if days <= 0:
            return days
        return days + grace if shift else np.maximum(days, grace + 1)
    later = days + grace if shift else np.maximum(days, grace + 1)
    return np.where(days > 0, later, days)


def stage_variants(facts: Facts, policy) -> np.ndarray | None:
    """(n, K) the variant of each stage each account gets: the first whose segments (any) and
    `when` it matches, else 0 (the stage's own form). None when no stage has variants."""
    if not policy.has_variants:
        return None
    out = np.zeros((facts.n, len(policy.stages)), dtype=np.int64)
    for s in policy.stages:
        for v in reversed(s.variants):        # the first that matches wins
            out[:, s.index] = np.where(_matches(facts, v), v.number, out[:, s.index])
    return out


def per_account(policy, variants: np.ndarray | None, attr: str) -> np.ndarray:
    """A stage attribute (days_past_due, max_attempts, …; None counts 0) as each account's variant
    has it: (n, K), or (K,) — the same for every account — when no stage has variants."""
    table = [[getattr(s.form(v), attr) or 0 for v in range(len(s.variants) + 1)] for s in policy.stages]
    if variants is None:
        return np.array([t[0] for t in table] or [0], dtype=np.int64)
    widest = max(len(t) for t in table)
    grid = np.array([t + [0] * (widest - len(t)) for t in table], dtype=np.int64)
    return grid[np.arange(len(table))[None, :], variants]


def _pick(values: np.ndarray, rows: np.ndarray, stage: np.ndarray) -> np.ndarray:
    """Per account, `values` (from `per_account`) of stage `stage`."""
    return values[stage] if values.ndim == 1 else values[rows, stage]


def _matches(facts: Facts, form) -> np.ndarray:
    """Accounts in any of a stage's (or a variant's) `segments`, if it names any, for which its
    `when` holds."""
    ok = form.when.evaluate(facts).copy()
    if form.segments:
        seg = np.zeros(facts.n, dtype=bool)
        for name in form.segments:
            seg |= facts.segment_mask(name)
        ok &= seg
    return ok


_applicable = _matches


def _broken_in_episode(facts: Facts) -> np.ndarray:
    """The latest promise was broken, and broken in the current episode: a promise broken
    before the debt that earned its stages was paid does not resume the next one."""
    pr = facts.promises
    return pr["latest_broken"] & (pr["latest_deadline"] > facts.episode_start_at)


def plan_steps(facts: Facts, policy, blocked: np.ndarray | None = None) -> Steps:
    """Decide the escalation step of every account in the batch.

    `blocked` (accounts x stages) removes stages the law forbids for an account (a legal
    warning on time-barred debt): such a stage is neither taken nor required.
    """
    n, stages = facts.n, policy.stages
    k = len(stages)
    dpd, owes = facts.days_past_due, facts.owes
    grace = grace_days(facts, policy)
    prog = facts.progress
    last = prog["last_stage"]
    variants = stage_variants(facts, policy)
    days = None if variants is None else per_account(policy, variants, "days_past_due")
    applicable = np.zeros((n, k), dtype=bool)
    threshold = np.zeros((n, k), dtype=np.int64)
    raw_due = np.zeros((n, k), dtype=bool)
    unblocked_due = np.zeros((n, k), dtype=bool)
    shift = policy.grace.shift_ladder
    for s in stages:
        applicable[:, s.index] = _applicable(facts, s)
        # Without variants a stage's days are one number: scalar arithmetic, as cheap as can be.
        thr = days[:, s.index] if variants is not None and s.variants else s.days_past_due
        threshold[:, s.index] = _threshold(thr, grace, shift)
        if np.ndim(thr):
            in_window = np.where(thr <= 0, (dpd >= thr) & (dpd <= 0), dpd >= thr)
        else:
            in_window = (dpd >= thr) & (dpd <= 0) if thr <= 0 else dpd >= thr
        raw_due[:, s.index] = owes & applicable[:, s.index] & in_window
        if blocked is not None:
            unblocked_due[:, s.index] = raw_due[:, s.index] & blocked[:, s.index]
            applicable[:, s.index] &= ~blocked[:, s.index]
            raw_due[:, s.index] &= ~blocked[:, s.index]
    due = raw_due & (dpd[:, None] >= threshold)
    ahead = np.arange(k)[None, :] > last[:, None]

    def furthest(mask):
        hit = mask & ahead
        return np.where(hit.any(axis=1), k - 1 - np.argmax(hit[:, ::-1], axis=1), NONE)

    target = furthest(due)
    grace_blocked = (furthest(raw_due) > target)
    reason = np.where(target >= 0, 1, 0)
    resumed = np.zeros(n, dtype=bool)
    for stage_id, code, active in (
            (policy.pauses.promise_resume_stage, 4, _broken_in_episode(facts)
             if policy.pauses.promise_resume_stage else None),
            (policy.pauses.plan_resume_stage, 5, (facts.plan["active"] & ~facts.plan["good"])
             if policy.pauses.plan_resume_stage else None)):
        if active is None:
            continue
        r = policy.stage_index(stage_id)
        force = owes & active & (r > last) & (r > target)
        target = np.where(force, r, target)
        reason = np.where(force, code, reason)
        resumed |= force
    # Required stages between the current one and the target come first.
    required_first = np.full(n, NONE)
    for s in reversed(stages):
        if s.required:
            hit = applicable[:, s.index] & (s.index > last) & (s.index < target)
            required_first = np.where(hit, s.index, required_first)
    reason = np.where(required_first >= 0, 2, reason)
    target = np.where(required_first >= 0, required_first, target)

    attempts, last_at = prog["attempts"], prog["last_at"]
    rows = np.arange(n)
    last_c = np.maximum(last, 0)
    today = facts.today
    last_contact_day = np.where(prog["last_contact_at"] != NEVER,
                                facts.local_day_of(rows, np.maximum(prog["last_contact_at"], 0)),
                                -FAR)
    spacing, max_att, every = (per_account(policy, variants, attr) for attr in
                               ("min_days_since_previous", "max_attempts", "repeat_every_days"))
    ready_new = np.where(prog["last_contact_at"] != NEVER,
                         last_contact_day + _pick(spacing, rows, np.maximum(target, 0)), today)

    # Repeating the current stage.
    done = attempts[rows, last_c]
    last_stage_day = np.where(last >= 0, facts.local_day_of(rows, np.maximum(last_at[rows, last_c], 0)),
                              -FAR)
    every_c = _pick(every, rows, last_c)
    can_repeat = ((last >= 0) & (target < 0) & owes & (every_c > 0)
                  & (done < _pick(max_att, rows, last_c)) & applicable[rows, last_c])
    ready_repeat = last_stage_day + every_c

    step = np.where(target >= 0, target, np.where(can_repeat, last, NONE))
    reason = np.where((target < 0) & can_repeat, 3, reason)
    attempt = np.where(target >= 0, attempts[rows, np.maximum(target, 0)] + 1, done + 1)
    ready_day = np.where(target >= 0, ready_new, ready_repeat)
    ready_day = np.where(step >= 0, ready_day, FAR)

    # When time alone will next produce a step: the next stage's threshold day.
    next_day = np.full(n, FAR)
    oldest = facts.oldest_due
    for s in reversed(stages):
        later = applicable[:, s.index] & (s.index > last) & owes & (dpd < threshold[:, s.index])
        next_day = np.where(later, np.minimum(next_day, oldest + threshold[:, s.index]), next_day)

    barred = (unblocked_due & (np.arange(k)[None, :] > last[:, None])).any(axis=1)
    variant = np.zeros(n, dtype=np.int64) if variants is None else \
        np.where(step >= 0, variants[rows, np.maximum(step, 0)], 0)
    grace_blocked &= step < 0
    # Grace holds the account back until the earliest threshold among the stages it holds back
    # (worked out for those accounts only: a few).
    grace_until = np.full(n, FAR)
    held = np.flatnonzero(grace_blocked)
    if held.size:
        waiting = raw_due[held] & ~due[held] & ahead[held]
        grace_until[held] = facts.oldest_due[held] + np.where(waiting, threshold[held], FAR).min(axis=1)
    return Steps(applicable=applicable, threshold=threshold, due=due, last=last, step=step,
                 attempt=attempt, reason=reason, ready_day=ready_day, grace_days=grace,
                 grace_blocked=grace_blocked, next_day=next_day, resumed=resumed,
                 barred=barred, blocked=blocked, failed_until=failed_channels(facts, policy, step),
                 variants=variants, variant=variant, grace_until=grace_until)


def failed_channels(facts: Facts, policy, step: np.ndarray) -> np.ndarray:
    """(n, widest stage's channel count): until when each channel of the account's step counts as
    failed — its latest failed attempt for that stage in the episode plus the channel's
    `retry_after_hours` — or NEVER where it has not failed. Until then the stage's other
    channels are used; from then on it is tried again."""
    stages = policy.stages
    width = max((len(s.channels) for s in policy.actions), default=0)
    out = np.full((facts.n, width), NEVER)
    has = step >= 0
    if not has.any():
        return out
    rows = np.flatnonzero(has)
    failed_at = facts.progress["failed_at"][rows, step[rows]]          # (rows, kinds)
    for pos in range(width):
        kind = np.array([KIND_CODES[policy.channels[s.channels[pos]]] if pos < len(s.channels) else -1
                         for s in stages], dtype=np.int64)[step[rows]]
        retry = np.array([policy.channel_retry[s.channels[pos]] if pos < len(s.channels) else 0
                          for s in stages], dtype=np.int64)[step[rows]]
        at = np.where(kind >= 0, failed_at[np.arange(rows.size), np.maximum(kind, 0)], NEVER)
        out[rows, pos] = np.where(at != NEVER, at + retry, NEVER)
    return out


def channel_retry_at(facts: Facts, policy, step: np.ndarray, failed_until: np.ndarray,
                     base: np.ndarray, variant: np.ndarray | None = None) -> np.ndarray:
    """Per account: the earliest instant a failed but otherwise reachable channel of the step (of
    its stage variant's channels) may be tried again, when that is after `base` (the step's own
    earliest time); FAR if none."""
    out = np.full(facts.n, FAR)
    listed = policy.listed_mask(step, variant, review=True)
    for pos in range(failed_until.shape[1]):
        kind = np.array([KIND_CODES[policy.channels[s.channels[pos]]] if pos < len(s.channels) else -1
                         for s in policy.actions] or [-1], dtype=np.int64)[np.maximum(step, 0)]
        reachable = ((kind >= 0) & ((facts.reachable >> np.maximum(kind, 0)) & 1 == 1)
                     & ((listed >> pos) & 1 == 1))
        until = failed_until[:, pos]
        waiting = (step >= 0) & reachable & (until != NEVER) & (until > base)
        out = np.where(waiting, np.minimum(out, until), out)
    return out
