"""Suppressions: which rules hold each account's next step back, column-wise, and why.

`masks(db)` is the one definition of which rule a decision lists for which account; the
tick persists it column-wise and `for_row` words it for one account's `Decision`.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np

from arrears.engine.decisions.escalation import grace_source
from arrears.engine.domain.batch import KIND_CODES, day_to_date
from arrears.engine.domain.clock import FAR, NEVER, from_epoch
from arrears.engine.domain.decision import Suppression, rfc3339
from arrears.engine.guardrails.ruletext import describe


def masks(db) -> list[tuple[str, np.ndarray]]:
    """(rule id, accounts it holds back) for every rule a Decision lists in `suppressions`,
    in the order they are listed (computed once per batch)."""
    if "suppressions" in db.cache:
        return db.cache["suppressions"]
    st, g, now = db.steps, db.guarded, db.now
    out = [(h.rule, h.active) for h in db.holds]
    out.append(("grace", st.grace_blocked))
    out += [(rule.id, barred & st.barred) for rule, barred, _since in db.bars]
    has_step = st.step >= 0
    open_ = has_step & ~db.held         # while a hold is in force, only the hold is listed
    # A rule is listed when it holds the step past the time it would have gone out without
    # any guardrail (spacing and grace included), even if another rule holds it longer.
    base = np.maximum(g.base, now)
    for rule, mask in db.rules:
        if rule.id not in g.rule_until:
            continue
        mine, first = g.rule_until[rule.id], g.first_until[rule.id]
        deferred = (g.channel >= 0) & (mine > base) & (mine != NEVER)
        # A rule that starts to bite on a date blocks a step deferred into that instant, which
        # may be the step's own time: it holds the step even when its start equals the base.
        later = (first >= base) if "starts" in rule.hooks else (first > base)
        moved = (g.moved | g.blocked) & (first != NEVER) & later
        out.append((rule.id, open_ & mask & (deferred | moved)))
    listed = np.zeros(len(db), dtype=bool)
    for _rule, mask in out:
        listed |= mask
    out.append(("channel.unavailable", has_step & (g.channel < 0) & ~listed))
    db.cache["suppressions"] = out
    return out


def _time(t):
    return None if t >= FAR else from_epoch(t)


def for_row(db, row: int) -> tuple[Suppression, ...]:
    """The suppressions of account `row`, each with its plain-words reason and end."""
    holds = {h.rule: h for h in db.holds}
    bars = {rule.id: (rule, since) for rule, _barred, since in db.bars}
    rules = {rule.id: rule for rule, _mask in db.rules}
    st, f = db.steps, db.facts
    out, guard = [], []
    for rule_id, mask in masks(db):
        if not mask[row]:
            continue
        if rule_id in holds:
            h = holds[rule_id]
            out.append(Suppression(rule_id, h.reason(row), _time(h.until[row])))
        elif rule_id == "grace":
            end = st.grace_until[row]
            g = st.grace_days[row]
            source = grace_source(f, db.policy, row)
            why = (f"{g} grace days ({source}) move the ladder later: the next stage falls due then"
                   if db.policy.grace.shift_ladder else f"within {g} grace days ({source}) after the due date")
            out.append(Suppression("grace", why,
                                   from_epoch(f.midnight(end.reshape(1), [row])[0])))
        elif rule_id in bars:
            rule, since = bars[rule_id]
            day = day_to_date(since[row]).isoformat()
            out.append(Suppression(rule_id, f"debt is time-barred since {day}: {describe(rule)}", None))
        elif rule_id == "channel.unavailable":
            out.append(_unavailable(db, row))
        else:
            guard.append(_guard_entry(db, rules[rule_id], row))
    return tuple(out) + _named(guard)


def _guard_entry(db, rule, row: int) -> tuple[str, bool, str, str, datetime | None]:
    """(which channel: "chosen" or "first", decides that channel's time, rule id, reason, until)
    of a guardrail rule that times the step."""
    g, st = db.guarded, db.steps
    chosen = g.channel[row]
    mine, first = int(g.rule_until[rule.id][row]), int(g.first_until[rule.id][row])
    base = max(int(g.base[row]), db.now)
    if chosen >= 0 and mine > base and mine != NEVER:
        return ("chosen", mine == int(g.not_before[row]), rule.id,
                f"deferred: {rule.describe_for(db.facts, row)}", _time(mine))
    stage = db.policy.actions[st.step[row]]
    how = f"moved to {stage.channels[chosen]}" if chosen >= 0 else "no channel permitted"
    decides = first == int(g.first_time[row])
    return "first", decides, rule.id, f"{rule.describe_for(db.facts, row)}; {how}", _time(first)


def _named(guard: list) -> tuple[Suppression, ...]:
    """The guardrail rules that time a step: for the chosen channel (deferred), then for the
    preferred one (moved, or no channel permitted). In each group the rule(s) whose end decides
    that channel's earliest permitted time come first; each of the others names them, since
    its own end comes sooner."""
    out = []
    for group in ("chosen", "first"):
        entries = [e for e in guard if e[0] == group]
        deciding = [rule_id for _g, decides, rule_id, _reason, _until in entries if decides]
        for _g, decides, rule_id, reason, until in sorted(entries, key=lambda e: not e[1]):
            if not decides and deciding:
                reason += f"; the earliest time is set by {', '.join(deciding)}"
            out.append(Suppression(rule_id, reason, until))
    return tuple(out)


def _unavailable(db, row: int) -> Suppression:
    """No channel of the step is usable: each one's reason, and when a failed one is retried."""
    st, f, p = db.steps, db.facts, db.policy
    stage = p.actions[st.step[row]]
    why = []
    for pos in stage.positions(int(st.variant[row])):      # the variant's channels, not the review task
        name = stage.channels[pos]
        kind = KIND_CODES[p.channels[name]]
        until = NEVER if st.failed_until is None else int(st.failed_until[row, pos])
        if not (int(f.recipient_reach[row]) >> kind) & 1:
            why.append(f"{name}: contact details missing or opted out")
        elif until != NEVER and until > db.now:
            why.append(f"{name}: failed, tried again from {rfc3339(from_epoch(until))}")
        else:
            why.append(f"{name}: not permitted")
    retry = FAR if db.channel_retry_at is None else int(db.channel_retry_at[row])
    return Suppression("channel.unavailable", "no usable channel (" + "; ".join(why) + ")", _time(retry))
