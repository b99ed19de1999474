"""Guardrails: jurisdiction rules applied after a stage and channel are chosen.

For each account with a step, every channel of the stage is tried in the debtor's
order of preference, and every applicable rule gives the earliest instant it allows
that channel (its kind's `earliest` hook: frequency caps, quiet periods, consent,
cease-communication exceptions, an overdue validation notice; then the `restrict` hook's
contact windows and public holidays, searched together). A channel that is only deferred
by hours (a window) is kept and postponed; one blocked for longer (a cap, a quiet period,
no consent) gives way to the next permitted channel; if no channel is permitted within a
day, the step is suppressed and the account re-evaluated when the first rule lifts. Rules
only ever restrict, so the strictest always wins and no policy can loosen a profile.
Stages a rule bars (a time bar) are removed before escalation (see `time_bar_blocks`), so
a time-barred debt moves on to, e.g., write-off review. Which rule kind does what lives in
`guardrails.kinds`; this module only calls their hooks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arrears.engine.domain.batch import KIND_CODES
from arrears.engine.domain.clock import DAY, FAR, NEVER
from arrears.engine.facts.compute import Facts
from arrears.engine.guardrails import recipients
from arrears.engine.guardrails.jurisdiction import applicable, matches
from arrears.engine.guardrails.kinds import debtor_wishes
from arrears.engine.guardrails.kinds.base import Candidate
from arrears.engine.guardrails.ruletext import CONTENT_BITS
from arrears.engine.guardrails.windows import Instants, Windows, earliest

MAX_DEFER = DAY          # a preferred channel deferred by up to this much is kept


@dataclass
class Guarded:
    """The guardrails' verdict on each account's step."""

    channel: np.ndarray      # chosen channel position in the stage's list, -1 if none permitted
    not_before: np.ndarray   # when the step may go out (FAR if blocked)
    blocked: np.ndarray      # a step exists but no channel is permitted within the horizon
    moved: np.ndarray        # the debtor's first usable channel was not permitted: moved on
    rule_until: dict         # rule id -> per-row instant that rule allows the chosen channel
    first_until: dict        # rule id -> per-row instant for the first usable channel
    content: np.ndarray      # int bitmask of CONTENT_BITS the message must carry
    exempt: dict             # hold id -> steps a rule lets through it (cease: a final notice)
    retry_at: np.ndarray     # for blocked steps: when the first blocking rule lifts (FAR: never)
    base: np.ndarray         # when the step would go out without the guardrails
    first_time: np.ndarray   # when the first usable channel is permitted (FAR: never)
    review: np.ndarray | None = None   # represented, no channel reaches the representative: a task


def rule_masks(profiles: dict, batch, policy) -> list[tuple]:
    """(rule, rows it applies to) for every rule of every profile in force in the batch,
    then the policy's house contact hours (`policy.house`), which apply to every account of
    their debtor types wherever it is."""
    forced = tuple(p for p in policy.compliance.get("profiles", ()) if p != "auto")
    masks = applicable(profiles.values(), batch, policy.compliance, forced)
    # Rules that apply to no account of the batch cost nothing downstream.
    out = [(rule, masks[p.id]) for p in profiles.values() if masks[p.id].any() for rule in p.rules]
    if policy.house:
        masks_by = {}
        for house in policy.house:
            if house.debtor_types not in masks_by:      # a set look-up per account, in C
                wanted = frozenset(house.debtor_types)
                masks_by[house.debtor_types] = np.fromiter(map(wanted.__contains__, batch.debtor_type),
                                                           dtype=bool, count=batch.n)
            if masks_by[house.debtor_types].any():
                out.append((house.rule, masks_by[house.debtor_types]))
    return out


def _on_channels(kind: np.ndarray, rule) -> np.ndarray:
    """Candidates whose channel kind the rule lists (a bit test: cheaper than `np.isin`)."""
    bits = sum(1 << c for c in rule.channel_codes)
    return (kind >= 0) & ((bits >> np.maximum(kind, 0)) & 1 == 1)


def universal_rules(facts: Facts) -> list[tuple]:
    """(rule, rows) of the rules every account gets whatever its jurisdiction: the debtor's own
    wishes, for the accounts that have wishes in force (so no other account's trace lists it)."""
    active = facts.wishes["active"]
    return [(debtor_wishes.universal(), active)] if active.any() else []


def time_bar_blocks(facts: Facts, policy, rules) -> tuple[np.ndarray, list]:
    """(n, K) stages that barred accounts may not take, and (rule, barred rows, since day)
    for every rule that bars stages (a time bar: see the `bar` hook)."""
    blocked = np.zeros((facts.n, len(policy.stages)), dtype=bool)
    bars = []
    for rule, mask in rules:
        if "bar" not in rule.hooks or not mask.any():
            continue
        barred, since = rule.bar(facts, mask)
        for s in policy.stages:
            if s.action in rule.blocked_actions:
                blocked[:, s.index] |= barred
        bars.append((rule, barred, since))
    return blocked, bars


def hold_notes(facts: Facts, rules) -> dict:
    """Hold id -> [(accounts, words for one account)]: the notes rules add to holds' reasons."""
    out = {}
    for rule, mask in rules:
        if "hold_note" in rule.hooks and (note := rule.hold_note(facts, mask)) is not None:
            hold, rows, words = note
            out.setdefault(hold, []).append((rows, words))
    return out


# Hooks a rule needs a candidate's `applies` column for.
_PER_CANDIDATE = frozenset({"earliest", "restrict", "narrow"})


def apply(facts: Facts, policy, steps, rules, base: np.ndarray) -> Guarded:
    """Choose each step's permitted channel and time under every applicable rule.

    Rules act only through their kinds' hooks (`guardrails.kinds.base`); rules that bar
    stages must have been evaluated first (`time_bar_blocks`), so that a step deferred
    into the day its debt becomes barred is caught too.
    """
    n, stages = facts.n, policy.actions       # the ladder's stages, then the event messages
    width = max((len(s.channels) for s in stages), default=0)
    kinds_table = np.full((max(len(stages), 1), max(width, 1)), -1, dtype=np.int64)
    actions = np.array([s.action for s in stages] + [""], dtype=object)
    for s in stages:
        for pos, name in enumerate(s.channels):
            kinds_table[s.index, pos] = KIND_CODES[policy.channels[name]]
    step = steps.step
    has = step >= 0
    stage_action = actions[step]
    action_names = tuple(actions)
    ranks = facts.preference_rank
    if facts.representative["active"].any():     # the debtor's preferences do not order the representative's
        ranks = np.where(facts.representative["active"][:, None], 99, ranks)
    rows = np.arange(n)
    # A channel that failed for the stage waits out its retry time (escalation.failed_channels):
    # until then its kind counts as failed for the step.
    failed_until = steps.failed_until if steps.failed_until is not None else np.full((n, width), NEVER)
    failed = np.zeros(n, dtype=np.int64)
    for pos in range(width):
        kind = np.where(has, kinds_table[np.maximum(step, 0), pos], -1)
        waiting = (kind >= 0) & (failed_until[:, pos] > base)
        failed |= np.where(waiting, np.left_shift(1, np.maximum(kind, 0)), 0)
    per_candidate = [(rule, mask) for rule, mask in rules if rule.hooks & _PER_CANDIDATE]
    starting = [(rule, mask) for rule, mask in rules if "starts" in rule.hooks]
    state_rows = _state_holiday_rows(facts, policy)
    cand_time, cand_key, per_rule = [], [], []
    listed = policy.listed_mask(step, getattr(steps, "variant", None))   # the stage variant's channels
    usable_at, review = recipients.candidates(facts, policy, step, kinds_table[:, :width], failed, listed)
    for pos in range(width):
        kind = np.where(has, kinds_table[np.maximum(step, 0), pos], -1)
        usable = usable_at[pos]
        cand = Candidate(kind, usable, stage_action, step, action_names)
        start = t = np.where(usable, base, FAR)
        times, scoped = {}, []
        win = Windows(n)
        for rule, mask in per_candidate:
            in_scope = _on_channels(kind, rule) if rule.channels and rule.scoped_by_channels else has
            applies = mask & usable & in_scope
            if "earliest" in rule.hooks:
                r = rule.earliest(facts, cand, mask, applies) if applies.any() else np.full(n, NEVER)
                times[rule.id] = r
                t = np.maximum(t, r)
            if "restrict" in rule.hooks:
                rule.restrict(win, applies)
            if "narrow" in rule.hooks:
                rule.narrow(facts, cand, win, applies)
            if rule.hooks & {"restrict", "narrow"}:
                scoped.append((rule, applies))
        if state_rows is not None:
            win.with_state_holidays(state_rows)
        before = t.copy()
        t = np.where(usable & (t < FAR), earliest(facts, win, t), t)
        # A rule that also has an `earliest` hook (the debtor's wishes) keeps the later of its two.
        for rid, res in window_times(facts, cand, scoped, state_rows, start, before, t).items():
            own = times.get(rid, NEVER)
            times[rid] = np.where(res != NEVER, np.maximum(res, own), own)
        t = _starting_rules(facts, starting, cand, t, times)
        cand_time.append(t)
        cand_key.append(np.where(usable, ranks[rows, np.maximum(kind, 0)] * 64 + pos, FAR))
        per_rule.append(times)
    guarded = _choose(n, has, base, cand_time, cand_key, per_rule, facts, rules, kinds_table, step,
                      stage_action)
    guarded.review = review & (guarded.channel >= 0)
    return guarded


def _state_holiday_rows(facts: Facts, policy) -> np.ndarray | None:
    """Accounts whose states' own public holidays the policy closes (`state_holidays`)."""
    prefixes = tuple(policy.compliance.get("state_holidays") or ())
    if not prefixes:
        return None
    return facts.per_jurisdiction(lambda j: bool(j) and any(matches(j, p) for p in prefixes), bool)


def _narrow(facts: Facts, cand: Candidate, rule, win: Windows, applies, state_rows) -> None:
    """Narrow `win` by one rule's windows (its `restrict` and `narrow` hooks)."""
    if "restrict" in rule.hooks:
        rule.restrict(win, applies)
    if "narrow" in rule.hooks:
        rule.narrow(facts, cand, win, applies)
    if state_rows is not None:
        win.with_state_holidays(state_rows)


def window_times(facts: Facts, cand: Candidate, scoped, state_rows, start, before, t) -> dict:
    """Rule id -> per-row instant each window rule (hours, holidays) holds the candidate to.

    `start`: when the candidate would go out without any guardrail; `before`: when the rules
    other than windows allow it; `t`: when all of them do (the windows are searched together).
    A window rule is named only where it took part: where it forbids `start`, `before` or the
    last moment before `t`. The rules forbidding that last moment decide the time and get
    `t`; any other keeps its own end, searched alone, so an explanation never blames hours for
    a wait that a holiday or another rule imposed (NEVER: not involved).
    """
    out = {}
    shut = (t >= FAR) & (before < FAR)      # no window opens within the horizon: all are named
    idx = np.flatnonzero((t > start) & (t < FAR))
    # The three instants as local times, converted once for every rule.
    moments = [Instants(facts, idx, x[idx]) for x in (t - 1, before, start)] if idx.size else []
    moved = t[idx] > before[idx]
    for rule, applies in scoped:
        res = np.where(shut & applies, FAR, NEVER)
        mine = applies[idx]
        if mine.any():
            own = Windows(facts.n, idx)          # this rule's windows alone, for the held rows
            _narrow(facts, cand, rule, own, applies, state_rows)
            at = np.flatnonzero(mine)            # judge only the rows the rule covers
            last, late, early = (np.zeros(idx.size, dtype=bool) for _ in moments)
            for out_, m in zip((last, late, early), moments):
                out_[at] = ~m.allowed(own, at, at)
            decides = moved & last
            res[idx[decides]] = t[idx[decides]]
            alone = ~decides & (late | early)
            if alone.any():
                sel = idx[alone]
                only = np.full(facts.n, FAR)
                only[sel] = np.where(late[alone], before[sel], start[sel])
                res[sel] = np.minimum(earliest(facts, own, only)[sel], t[sel])
        out[rule.id] = res
    return out


def _starting_rules(facts: Facts, rules, cand: Candidate, t, times) -> np.ndarray:
    """Rules that start to bite on a date: judged at the candidate's send time, not at now.

    A step deferred (by a window or a cap) into the day a debt becomes time-barred, or into
    the day a consent rule takes effect, must not go out: the candidate is blocked, and the
    rule's start is recorded so the account is decided again then.
    """
    for rule, mask in rules:
        got = rule.starts(facts, cand, mask & (t < FAR))
        if got is None:
            continue
        rows, at = got
        times.setdefault(rule.id, np.full(facts.n, NEVER))
        hit = rows & (t >= at)
        t = np.where(hit, FAR, t)
        times[rule.id] = np.where(hit, at, times[rule.id])
    return t


def _choose(n, has, base, cand_time, cand_key, per_rule, facts, rules, kinds_table, step, stage_action):
    if not cand_time:
        empty = np.full(n, -1)
        return Guarded(empty, np.full(n, FAR), has, np.zeros(n, bool), {}, {}, np.zeros(n, np.int64),
                       {}, np.full(n, FAR), base, np.full(n, FAR))
    times, keys = np.vstack(cand_time), np.vstack(cand_key)
    first = _first_of(cand_key)
    rows = np.arange(n)
    first_time = times[first, rows]
    soonest_time = np.minimum.reduce(cand_time)
    soonest = _first_of([np.where(t == soonest_time, k, _NO_KEY) for t, k in zip(cand_time, cand_key)])
    keep_first = first_time <= base + MAX_DEFER
    chosen = np.where(keep_first, first, soonest)
    chosen_time = times[chosen, rows]
    # Deferred by more than MAX_DEFER counts as suppressed: re-decide when it lifts, since
    # much can change in days (a payment, a dispute), rather than queue a message now.
    blocked = has & (chosen_time > base + MAX_DEFER)
    channel = np.where(has & ~blocked, chosen, -1)
    # Each rule's instant at the chosen and at the first candidate: one gather from the
    # positions' columns laid end to end, at flat indices computed once for every rule.
    at_chosen, at_first = chosen * n + rows, first * n + rows
    rule_until, first_until = {}, {}
    for rid in per_rule[0]:
        laid = np.concatenate([pr[rid] for pr in per_rule])
        rule_until[rid], first_until[rid] = laid.take(at_chosen), laid.take(at_first)
    kind = np.where(channel >= 0, kinds_table[np.maximum(step, 0), np.maximum(channel, 0)], -1)
    # When a blocked step's first blocking rule lifts: computed for the blocked rows only.
    retry = np.full(n, FAR)
    at = np.flatnonzero(blocked)
    if at.size:
        soonest_lift = np.full(at.size, FAR)
        for pr in per_rule:
            for r in pr.values():
                r = r[at]
                soonest_lift = np.where((r > facts.now) & (r < FAR), np.minimum(soonest_lift, r), soonest_lift)
        retry[at] = np.where(chosen_time[at] < FAR, chosen_time[at], soonest_lift)
    return Guarded(channel=channel, not_before=np.where(blocked, FAR, chosen_time), blocked=blocked,
                   moved=has & ~blocked & (chosen != first) & (keys[first, rows] < FAR),
                   rule_until=rule_until, first_until=first_until, content=_content(facts, rules, kind),
                   exempt=_exempt(facts, rules, stage_action, kind, channel),
                   retry_at=np.where(blocked, retry, FAR), base=base, first_time=first_time)


_NO_KEY = np.iinfo(np.int64).max


def _first_of(columns: list[np.ndarray]) -> np.ndarray:
    """Per row, the position of the smallest of `columns` (the first on a tie): `np.argmin`
    over the stacked columns, a pass per position instead of a strided one per row."""
    best, at = columns[0].copy(), np.zeros(columns[0].shape[0], dtype=np.int64)
    for pos, col in enumerate(columns[1:], start=1):
        at[col < best] = pos
        np.minimum(best, col, out=best)
    return at


def _exempt(facts: Facts, rules, stage_action, kind, channel) -> dict:
    """Hold id -> steps let through it: some rule relaxing that hold applies, and every one
    that applies allows the step (the allowances intersect, so an overlay only narrows)."""
    covered, allowed = {}, {}
    for rule, mask in rules:
        if "exempt" not in rule.hooks:
            continue
        hold = rule.exempts
        covered[hold] = covered.get(hold, np.zeros(facts.n, dtype=bool)) | mask
        allowed[hold] = allowed.get(hold, np.ones(facts.n, dtype=bool)) & (
            ~mask | rule.exempt(facts, stage_action, kind))
    return {hold: covered[hold] & allowed[hold] & (channel >= 0) for hold in covered}


def _content(facts: Facts, rules, kind: np.ndarray) -> np.ndarray:
    """What each message must carry, as CONTENT_BITS."""
    out = np.zeros(facts.n, dtype=np.int64)
    for rule, mask in rules:
        if "content_bits" in rule.hooks:
            out |= np.where(mask, rule.content_bits(facts, kind), 0)
    out |= np.where((kind >= 0) & (facts.first_attempt_at == NEVER), CONTENT_BITS["first_message"], 0)
    return out
