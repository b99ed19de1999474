"""Guardrails: jurisdiction rules applied after a stage and channel are chosen.

For each account with a step, every channel of the stage is tried in the debtor's
order of preference, and every applicable rule gives the earliest instant it allows
that channel (frequency caps: when the oldest counted contact ages out; quiet periods;
consent; cease-communication exceptions; an overdue validation notice; then contact
windows and public holidays). A channel that is only deferred by hours (a window) is
kept and postponed; one blocked for longer (a cap, a quiet period, no consent) gives
way to the next permitted channel; if no channel is permitted within a day, the step
is suppressed and the account re-evaluated when the first rule lifts. Rules only ever restrict, so the strictest always wins and no policy
can loosen a profile. Time-barred stages are removed before escalation (see
`time_bar_blocks`), so a time-barred debt moves on to, e.g., write-off review.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import KIND_CODES, OUTCOME_CODES
from arrears.engine.domain.clock import DAY, FAR, NEVER
from arrears.engine.facts.compute import Facts
from arrears.engine.guardrails.jurisdiction import applicable, matches
from arrears.engine.guardrails.ruletext import CONTENT_BITS
from arrears.engine.guardrails.windows import Windows, earliest

MAX_DEFER = DAY          # a preferred channel deferred by up to this much is kept
# Outcomes that reached the debtor ("actual contacts"): a refusal did, too.
_CONTACT_OUTCOMES = [OUTCOME_CODES[o] for o in ("sent", "delivered", "voicemail", "conversation",
                                                "refused")]
_TIMING_KINDS = ("frequency_cap", "quiet_after_conversation", "consent_required",
                 "cease_communication", "validation_notice")
DEBTOR_FACING = [KIND_CODES[k] for k in ("email", "sms", "letter", "call")]


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
    cease_exempt: np.ndarray # a cease-communication rule allows this final notice
    retry_at: np.ndarray     # for blocked steps: when the first blocking rule lifts (FAR: never)


def rule_masks(profiles: dict, batch, policy) -> list[tuple]:
    """(rule, rows it applies to) for every rule of every profile in force in the batch."""
    forced = tuple(p for p in policy.compliance.get("profiles", ()) if p != "auto")
    masks = applicable(profiles.values(), batch, policy.compliance, forced)
    # Rules that apply to no account of the batch cost nothing downstream.
    return [(rule, masks[p.id]) for p in profiles.values() if masks[p.id].any() for rule in p.rules]


def limitation_days(rule, jurisdiction: str | None) -> int:
    """The limitation period of a time_bar rule in a jurisdiction, with its narrower overrides."""
    for prefixes, days in rule.overrides:
        if jurisdiction and any(matches(jurisdiction, p) for p in prefixes):
            return days
    return rule.limitation_days


def time_bar_blocks(facts: Facts, policy, rules) -> tuple[np.ndarray, list]:
    """(n, K) stages that time-barred debt may not take, and (rule, barred rows, since day)."""
    blocked = np.zeros((facts.n, len(policy.stages)), dtype=bool)
    bars = []
    for rule, mask in rules:
        if rule.kind != "time_bar" or not mask.any():
            continue
        since = facts.oldest_due + facts.per_jurisdiction(lambda j: limitation_days(rule, j), np.int64)
        barred = mask & facts.owes & (facts.today >= since)
        for s in policy.stages:
            if s.action in rule.blocked_actions:
                blocked[:, s.index] |= barred
        bars.append((rule, barred, since))
    return blocked, bars


def _nth_latest(group: np.ndarray, at: np.ndarray, m: int, ngroups: int,
                presorted: bool = False) -> np.ndarray:
    """Per group, the time of its m-th most recent event (NEVER if it has fewer than m).

    `presorted`: events already ordered by (group, time), as a batch's are by account.
    """
    out = np.full(ngroups, NEVER)
    if m <= 0 or group.size == 0:
        return out
    if presorted:
        g, a = group, at
    else:
        order = np.lexsort((at, group))
        g, a = group[order], at[order]
    counts = np.bincount(g, minlength=ngroups)
    ends = np.cumsum(counts)
    has = counts >= m
    out[has] = a[ends[has] - m]
    return out


def _cap_until(facts: Facts, rule, rows: np.ndarray) -> np.ndarray:
    """Per row: the instant a frequency cap allows one more contact (NEVER: already allowed).

    Only events of accounts in `rows` (where the rule applies) are counted.
    """
    b = facts.b
    kinds = [KIND_CODES[k] for k in rule.channels]
    mask = facts.attempt_mask & np.isin(b.ev_kind, kinds)
    if rule.scope != "debtor":
        mask &= rows[b.ev_acct]
    if rule.counts == "contacts":
        mask &= np.isin(b.ev_outcome, _CONTACT_OUTCOMES)
    if rule.max == 0:
        return np.full(facts.n, FAR)
    if rule.scope == "debtor":
        uniq, code = np.unique(b.debtor.astype(str), return_inverse=True)
        group, ngroups = code[b.ev_acct[mask]], len(uniq)
    else:
        code, group, ngroups = None, b.ev_acct[mask].astype(np.int64), facts.n
    tau = _nth_latest(group, b.ev_at[mask], rule.max, ngroups, presorted=code is None)
    tau = tau if code is None else tau[code]
    return np.where(tau == NEVER, NEVER, tau + rule.window_days * DAY)


def _quiet_until(facts: Facts, rule) -> np.ndarray:
    b = facts.b
    mask = (facts.attempt_mask & np.isin(b.ev_kind, [KIND_CODES[k] for k in rule.channels])
            & (b.ev_outcome == OUTCOME_CODES["conversation"]))
    last = facts.last_at(mask)
    has = last != NEVER
    out = np.full(facts.n, NEVER)
    if has.any():
        rows = np.flatnonzero(has)
        day = facts.local_day_of(rows, last[has])
        out[has] = facts.midnight(day + rule.days, rows)
    return out


def _consented(facts: Facts, kind: str) -> np.ndarray:
    on_kind = facts.b.ev_kind == KIND_CODES[kind]
    return (facts.last_at(facts._mask(E["consent_given"]) & on_kind)
            > facts.last_at(facts._mask(E["consent_withdrawn"]) & on_kind))


class _RuleTimes:
    """Channel-independent per-rule columns, computed once per batch."""

    def __init__(self, facts: Facts, rules):
        self.cache = {}
        self.facts = facts
        self.notice_sent = facts.last_at(facts._mask(E["validation_notice_sent"])) != NEVER
        first = facts.first_attempt_at
        self.first_day = np.where(first == NEVER, FAR,
                                  facts.local_day_of(np.arange(facts.n), np.maximum(first, 0)))

    def get(self, rule, fn, *args):
        if rule.id not in self.cache:
            self.cache[rule.id] = fn(self.facts, rule, *args)
        return self.cache[rule.id]


def _rule_time(rt: _RuleTimes, rule, mask, applies, kind, stage_action) -> np.ndarray:
    """Earliest instant `rule` allows this candidate channel (NEVER: no restriction)."""
    f = rt.facts
    none = np.full(f.n, NEVER)
    if not applies.any():
        return none
    if rule.kind == "frequency_cap":
        return np.where(applies, rt.get(rule, _cap_until, mask), NEVER)
    if rule.kind == "quiet_after_conversation":
        return np.where(applies, rt.get(rule, _quiet_until), NEVER)
    if rule.kind == "consent_required":
        if rule.effective_from is not None:     # in force from the debtor's local date
            applies = applies & (f.today >= _epoch_day(rule.effective_from))
        out = none.copy()
        for name in rule.channels:
            sel = applies & (kind == KIND_CODES[name])
            out[sel & ~_consented(f, name)] = FAR
        return out
    if rule.kind == "cease_communication":
        ceased = f.states["cease_communication"][0]
        ok_kind = np.isin(kind, [KIND_CODES[k] for k in rule.channels])
        ok_action = np.isin(stage_action, list(rule.allowed_actions))
        return np.where(applies & ceased & ~(ok_kind & ok_action), FAR, NEVER)
    if rule.kind == "validation_notice":
        # Overdue: only a written message, which then carries the notice, may go out.
        overdue = ~rt.notice_sent & (f.today > rt.first_day + rule.within_days)
        spoken = np.isin(kind, [KIND_CODES["call"], KIND_CODES["sms"]])
        return np.where(applies & overdue & spoken, FAR, NEVER)
    return none


def _epoch_day(day) -> int:
    from arrears.engine.domain.batch import epoch_day
    return epoch_day(day)


def apply(facts: Facts, policy, steps, rules, base: np.ndarray, bars=()) -> Guarded:
    """Choose each step's permitted channel and time under every applicable rule.

    `bars` are the time-bar rules with the day each account's debt becomes time-barred
    (from `time_bar_blocks`), so a step deferred into that day is caught too.
    """
    n, stages = facts.n, policy.stages
    width = max((len(s.channels) for s in stages), default=0)
    kinds_table = np.full((max(len(stages), 1), max(width, 1)), -1, dtype=np.int64)
    actions = np.array([s.action for s in stages] + [""], dtype=object)
    for s in stages:
        for pos, name in enumerate(s.channels):
            kinds_table[s.index, pos] = KIND_CODES[policy.channels[name]]
    step = steps.step
    has = step >= 0
    stage_action = actions[step]
    ranks = facts.preference_rank
    rows = np.arange(n)
    failed = facts.progress["failed_kinds"][rows, np.maximum(step, 0)] if len(stages) else np.zeros(n, np.int64)
    rt = _RuleTimes(facts, rules)
    cand_time, cand_key, per_rule = [], [], []
    for pos in range(width):
        kind = np.where(has, kinds_table[np.maximum(step, 0), pos], -1)
        usable = (kind >= 0) & ((facts.reachable >> np.maximum(kind, 0)) & 1 == 1) \
            & ((failed >> np.maximum(kind, 0)) & 1 == 0)
        t = np.where(usable, base, FAR)
        times, scoped = {}, []
        win = Windows(n)
        for rule, mask in rules:
            # A cease rule's channels are the ones it still allows, not its scope: it covers all.
            scoped_kinds = rule.channels and rule.kind != "cease_communication"
            in_scope = np.isin(kind, [KIND_CODES[k] for k in rule.channels]) if scoped_kinds else has
            applies = mask & usable & in_scope
            if rule.kind in _TIMING_KINDS:
                r = _rule_time(rt, rule, mask, applies, kind, stage_action)
                times[rule.id] = r
                t = np.maximum(t, r)
            elif rule.kind in ("contact_window", "public_holidays"):
                scoped.append((rule, applies))
                if rule.kind == "contact_window":
                    win.restrict(applies, rule.weekdays, rule.weekends)
                else:
                    win.close_holidays(applies, national=rule.scope == "national")
        before = t.copy()
        t = np.where(usable & (t < FAR), earliest(facts, win, t), t)
        for rule, applies in scoped:
            times[rule.id] = np.where(applies & (t > before), t, NEVER)
        t = _starting_rules(facts, rules, kind, stage_action, usable, t, times, bars)
        cand_time.append(t)
        cand_key.append(np.where(usable, ranks[rows, np.maximum(kind, 0)] * 64 + pos, FAR))
        per_rule.append(times)
    return _choose(n, has, base, cand_time, cand_key, per_rule, facts, rules, kinds_table, step,
                   stage_action)


def _starting_rules(facts: Facts, rules, kind, stage_action, usable, t, times, bars) -> np.ndarray:
    """Rules that start to bite on a date: judged at the candidate's send time, not at now.

    A step deferred (by a window or a cap) into the day a debt becomes time-barred, or into
    the day a consent rule takes effect, must not go out: the candidate is blocked, and the
    rule's start is recorded so the account is decided again then.
    """
    masks = {r.id: m for r, m in rules}
    for rule, barred, since in bars:
        mask = masks[rule.id]
        times.setdefault(rule.id, np.full(facts.n, NEVER))
        starts = np.full(facts.n, FAR)
        sel = mask & usable & (t < FAR) & np.isin(stage_action, list(rule.blocked_actions)) & ~barred
        if sel.any():
            rows = np.flatnonzero(sel)
            starts[rows] = facts.midnight(since[rows], rows)
            hit = sel & (t >= starts)
            t = np.where(hit, FAR, t)
            times[rule.id] = np.where(hit, starts, times[rule.id])
    for rule, mask in rules:
        if rule.kind != "consent_required" or rule.effective_from is None:
            continue
        start_day = _epoch_day(rule.effective_from)
        sel = mask & usable & (t < FAR) & (facts.today < start_day)
        for name in rule.channels:
            pick = sel & (kind == KIND_CODES[name]) & ~_consented(facts, name)
            if pick.any():
                rows = np.flatnonzero(pick)
                starts = np.full(facts.n, FAR)
                starts[rows] = facts.midnight(np.full(rows.size, start_day), rows)
                hit = pick & (t >= starts)
                t = np.where(hit, FAR, t)
                times[rule.id] = np.where(hit, starts, times[rule.id])
    return t


def _choose(n, has, base, cand_time, cand_key, per_rule, facts, rules, kinds_table, step, stage_action):
    if not cand_time:
        empty = np.full(n, -1)
        return Guarded(empty, np.full(n, FAR), has, np.zeros(n, bool), {}, {}, np.zeros(n, np.int64),
                       np.zeros(n, bool), np.full(n, FAR))
    times, keys = np.vstack(cand_time), np.vstack(cand_key)
    first = np.argmin(keys, axis=0)
    rows = np.arange(n)
    first_time = times[first, rows]
    soonest = np.lexsort((keys, times), axis=0)[0]
    keep_first = first_time <= base + MAX_DEFER
    chosen = np.where(keep_first, first, soonest)
    chosen_time = times[chosen, rows]
    # Deferred by more than MAX_DEFER counts as suppressed: re-decide when it lifts, since
    # much can change in days (a payment, a dispute), rather than queue a message now.
    blocked = has & (chosen_time > base + MAX_DEFER)
    channel = np.where(has & ~blocked, chosen, -1)
    rule_until = {rid: np.vstack([pr[rid] for pr in per_rule])[chosen, rows] for rid in per_rule[0]}
    first_until = {rid: np.vstack([pr[rid] for pr in per_rule])[first, rows] for rid in per_rule[0]}
    kind = np.where(channel >= 0, kinds_table[np.maximum(step, 0), np.maximum(channel, 0)], -1)
    content = _content(facts, rules, kind)
    # The universal cease stop yields only where the law expressly permits a final notice:
    # some cease rule applies, and every applicable one allows this action and channel.
    ceased = facts.states["cease_communication"][0]
    covered = np.zeros(n, dtype=bool)
    allowed = np.ones(n, dtype=bool)
    for rule, mask in rules:
        if rule.kind == "cease_communication":
            covered |= mask
            ok = (np.isin(stage_action, list(rule.allowed_actions))
                  & np.isin(kind, [KIND_CODES[k] for k in rule.channels]))
            allowed &= ~mask | ok
    exempt = ceased & covered & allowed & (channel >= 0)
    retry = np.full(n, FAR)
    for pr in per_rule:
        for r in pr.values():
            retry = np.where((r > facts.now) & (r < FAR), np.minimum(retry, r), retry)
    retry = np.where(chosen_time < FAR, chosen_time, retry)
    return Guarded(channel=channel, not_before=np.where(blocked, FAR, chosen_time), blocked=blocked,
                   moved=has & ~blocked & (chosen != first) & (keys[first, rows] < FAR),
                   rule_until=rule_until, first_until=first_until, content=content,
                   cease_exempt=exempt, retry_at=np.where(blocked, retry, FAR))


def _content(facts: Facts, rules, kind: np.ndarray) -> np.ndarray:
    """What each message must carry, as CONTENT_BITS."""
    out = np.zeros(facts.n, dtype=np.int64)
    sent = facts.last_at(facts._mask(E["validation_notice_sent"])) != NEVER
    for rule, mask in rules:
        if rule.kind == "required_content":
            hit = mask & np.isin(kind, [KIND_CODES[k] for k in rule.channels])
            out |= np.where(hit, CONTENT_BITS[rule.content], 0)
        elif rule.kind == "validation_notice":
            written = np.isin(kind, [KIND_CODES["email"], KIND_CODES["letter"]])
            out |= np.where(mask & ~sent & written, CONTENT_BITS["validation_notice"], 0)
    out |= np.where((kind >= 0) & (facts.first_attempt_at == NEVER), CONTENT_BITS["first_message"], 0)
    return out
