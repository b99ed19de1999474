"""Liveness for the independent oracle: what SHOULD happen, not only what must not.

`violations()` in tests/oracle.py says no action breaks a rule (safety). This module says
when an action was due and did not come, and that pauses end:

- `missed_step()`: the ladder (tests/oracle_ladder.py, the oracle's own reading of the policy
  document) earns a step whose earliest moment is within a day of `now`; nothing holds the
  account (stop states, a dispute pausing it, an open promise, a plan in good standing,
  hardship, breathing space, a hold, under any reading of the history); and one of the
  stage's channels is one the debtor can be reached on (details on file, not opted out, not
  failed for this stage) that no applicable rule forbids at some instant between the step's
  earliest moment and `now` + 23 hours. Then the decision must have an action.
- `skipped_required()`: an action's stage is never above a required stage that applies, is
  not time-barred and was not attempted in the episode, beyond the current stage.
- `pause_violations()`: a decision is not held by a pause or stop state the oracle finds
  over (its end or a closing event before `now`); a pause's `until` is not after the
  pause's end; and a held decision whose every hold has an end is evaluated again no later
  than the last of those ends.

Approximations, each taken on the side that asks less of the engine, so that a reported
miss is a miss under every reading:
- every reading of same-instant ties (dispute opened/resolved, a state opened and closed, a
  payment at the instant a promise or plan was made, two promises at one instant) is
  evaluated, and a miss is claimed only when all readings earn a permitted step;
- a step is claimed only when its earliest moment is within a day of `now` and a channel is
  permitted by `now` + 23 hours (the engine's horizon is 24 hours from the step's earliest
  moment: an hour is kept for daylight-saving days);
- facts the oracle does not compute (promises_broken once promises exist, plugin facts…)
  make a condition unknown; a step that depends on one is not claimed;
- a resume stage (broken promise, missed instalment) is claimed only when it applies;
- a repeat also waits for the stage's `min_days_since_previous` after the last attempt;
- a pre-due stage does not repeat once the account is past due;
- after a cease-communication request no step is claimed (the final-notice exception);
- a pre-due step is claimed only when a channel is permitted by the end of the due date;
- the overdue validation notice bars calls and texts from the day after the first contact
  event of any outcome + `within_days`, when no notice was ever recorded;
- a channel that failed for the stage at any time (not only in this episode) is not usable;
  a channel opted out and in at the same instant is read as opted out.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from tests.oracle import (KIND_CHECKS, Case, applicable_rules, day_window, limitation_days, local_date,
                          reachable, zone_of)
from tests.oracle_ladder import Conditions, Step, earliest, ladder, next_step, resume_index
from tests.oracle_state import STATES, latest_plan, latest_promise, midnight, money, state

READINGS = (False, True)
HORIZON = timedelta(hours=23)
TIMING_KINDS = ("frequency_cap", "quiet_after_conversation", "contact_window", "public_holidays",
                "consent_required", "time_bar")


# ---- what holds the account ------------------------------------------------------------------------

def holds(account, events, now: datetime, policy_doc: dict, ties: bool) -> dict:
    """{rule id: end instant or None} of every hold in force at `now` under one reading."""
    out = {}
    for rule in STATES:
        st = state(rule, account, events, now, policy_doc, ties)
        if st.in_force:
            out[rule] = st.end
    m = money(account, events, policy_doc, now, ties)
    scope = ((policy_doc.get("pauses") or {}).get("dispute") or {}).get("scope", "invoice")
    if m.disputed_amount > 0 and (scope == "account" or m.balance == 0):
        out["pause.dispute"] = None
    p = latest_promise(account, events, now, policy_doc, ties)
    if p is not None and p.open and m.total > 0:
        out["pause.promise_to_pay"] = p.deadline
    plan = latest_plan(account, events, now, policy_doc, ties)
    if plan is not None and plan.active and plan.good and m.total > 0:
        out["pause.payment_plan"] = plan.check
    return out


def any_hold(account, events, now, policy_doc) -> dict:
    """Holds in force under any reading, each with its latest end (None: no end)."""
    out: dict = {}
    for ties in READINGS:
        for rule, end in holds(account, events, now, policy_doc, ties).items():
            if rule in out and (out[rule] is None or end is None):
                out[rule] = None
            else:
                out[rule] = max(end, out[rule]) if rule in out else end
    return out


# ---- which channels are permitted when ---------------------------------------------------------------

def _opted_out(events, kind: str) -> bool:
    outs = [e.at for e in events if e.type == "channel_opt_out" and e.channel == kind]
    ins = [e.at for e in events if e.type == "channel_opt_in" and e.channel == kind]
    return bool(outs) and (not ins or max(outs) >= max(ins))


def usable_kinds(account, events, policy_doc: dict, stage: dict) -> list[str]:
    """The stage's channel kinds the debtor can be reached on (preference order irrelevant)."""
    chans = policy_doc.get("channels") or {}
    out = []
    for name in stage["channels"]:
        kind = (chans.get(name) or {}).get("kind", name)
        failed = any(e.type == "contact_attempt" and e.outcome == "failed" and e.stage == stage["id"]
                     and e.channel == kind for e in events)
        if reachable(account, kind) and not _opted_out(events, kind) and not failed and kind not in out:
            out.append(kind)
    return out


def _validation_bar(account, events, now, policy_doc, kind: str, t: datetime) -> list[str]:
    if kind not in ("call", "sms") or any(e.type == "validation_notice_sent" for e in events):
        return []
    zone = zone_of(account, policy_doc)
    contacts = [e.at for e in events if e.type in ("contact_attempt", "contact_outcome")]
    out = []
    for rule in applicable_rules(account, policy_doc, "validation_notice"):
        if contacts and local_date(t, zone) > local_date(min(contacts), zone) + timedelta(
                days=int(rule["within_days"])):
            out.append(f"{rule['id']}: validation notice overdue")
    return out


def forbidding(account, events, now, policy_doc, kind: str, what: str, t: datetime) -> list[str]:
    """Every applicable rule that forbids a `what` by `kind` going out at `t`."""
    fake = SimpleNamespace(action=SimpleNamespace(channel_kind=kind, type=what, not_before=t))
    c = Case(account, events, now, fake, policy_doc, frozenset())
    out = []
    for rule in applicable_rules(account, policy_doc):
        if rule["kind"] in TIMING_KINDS:
            out += KIND_CHECKS[rule["kind"]](rule, c)
    return out + _validation_bar(account, events, now, policy_doc, kind, t)


def instants(account, events, policy_doc, lo: datetime, hi: datetime) -> list[datetime]:
    """The moments in [lo, hi] at which some rule may start to allow a channel: `lo`, local
    midnights and window starts in every known zone, and the moments counted contacts age out."""
    zones = [zone_of(account, policy_doc)] + [ZoneInfo(z) for z in account.other_timezones]
    starts = {0}
    windows = applicable_rules(account, policy_doc, "contact_window")
    for rule in windows:
        starts |= {w[0] for w in (day_window(rule, d) for d in range(7)) if w is not None}
    found = {lo}
    for z in zones:
        first = lo.astimezone(z).date()
        for k in range(-1, 3):
            day = first + timedelta(days=k)
            for m in starts:
                found.add(datetime.combine(day, time(m // 60, m % 60), tzinfo=z))
    for rule in applicable_rules(account, policy_doc, "frequency_cap"):
        found |= {e.at + timedelta(days=int(rule["window_days"])) for e in events
                  if e.type in ("contact_attempt", "contact_outcome")}
    return sorted(t for t in found if lo <= t <= hi)


def first_permitted(account, events, now, policy_doc, step: Step, lo: datetime, hi: datetime):
    """(kind, instant) of the first moment in [lo, hi] a usable channel of the step is
    permitted by every applicable rule, or None."""
    kinds = usable_kinds(account, events, policy_doc, step.stage)
    if not kinds:
        return None
    for t in instants(account, events, policy_doc, lo, hi):
        for kind in kinds:
            if not forbidding(account, events, now, policy_doc, kind, step.stage["action"], t):
                return kind, t
    return None


# ---- the checks ---------------------------------------------------------------------------------------

def earned_step(account, events, now: datetime, policy_doc: dict, why: list | None = None):
    """(step, kind, instant) when every reading earns a step that may go out within the
    horizon on a permitted channel and nothing holds the account; else None (and, given a
    list `why`, the reason is appended to it)."""
    why = [] if why is None else why
    events = [e for e in events if e.at <= now]
    held = any_hold(account, events, now, policy_doc)
    if held:
        why.append(f"held: {sorted(held)}")
        return None
    zone = zone_of(account, policy_doc)
    found = None
    for ties in READINGS:
        m = money(account, events, policy_doc, now, ties)
        cond = Conditions(account, events, now, policy_doc, m)
        lad = ladder(account, events, now, policy_doc, m, cond)
        step = next_step(lad, resume_index(account, events, now, policy_doc, lad, ties))
        if step is None or step.unknown:
            why.append("no step" if step is None else f"unknown: {step.unknown}")
            return None
        lo, hi = earliest(step, now, zone), now + HORIZON
        if int(step.stage["days_past_due"]) <= 0 and m.oldest_due is not None:
            hi = min(hi, midnight(m.oldest_due + timedelta(days=1), zone))   # due only until the due date
        if lo > hi:
            why.append(f"{step.stage['id']} not before {lo.isoformat()}")
            return None
        hit = first_permitted(account, events, now, policy_doc, step, lo, hi)
        if hit is None:
            why.append(f"{step.stage['id']}: no channel permitted")
            return None
        found = found or (step, *hit)
    return found


def missed_step(account, events, now: datetime, decision, policy_doc: dict) -> list[str]:
    """A step the ladder earns and nothing holds back, in a decision without an action."""
    if decision.action is not None:
        return []
    found = earned_step(account, events, now, policy_doc)
    if found is None:
        return []
    step, kind, t = found
    held = "; ".join(f"{s.rule}: {s.reason}" for s in getattr(decision, "suppressions", ())) or "none"
    return [f"missed step: {step.stage['id']} ({step.reason}) by {kind} is permitted at {t.isoformat()} "
            f"and nothing holds the account, but the decision has no action (its suppressions: {held})"]


def skipped_required(account, events, now: datetime, decision, policy_doc: dict) -> list[str]:
    """The action's stage is above a required stage not yet done in the episode."""
    a = decision.action
    if a is None:
        return []
    events = [e for e in events if e.at <= now]
    ids = [s["id"] for s in policy_doc["escalation"]["stages"]]
    if a.stage not in ids:
        return []
    zone = zone_of(account, policy_doc)
    claims = []
    for ties in READINGS:
        m = money(account, events, policy_doc, now, ties)
        lad = ladder(account, events, now, policy_doc, m, Conditions(account, events, now, policy_doc, m))
        send_day = local_date(a.not_before, zone)
        barred = set(lad.removed)
        if m.oldest_due is not None:     # a bar that starts by the day it goes out removes too
            for rule in applicable_rules(account, policy_doc, "time_bar"):
                if send_day >= m.oldest_due + timedelta(days=limitation_days(rule, account.jurisdiction)):
                    barred |= {s["id"] for s in lad.stages if s["action"] in rule.get("blocked_actions", ())}
        skipped = [s["id"] for i, s in enumerate(lad.stages)
                   if lad.current < i < ids.index(a.stage) and s.get("required")
                   and lad.applies[i] is True and s["id"] not in barred]
        if not skipped:
            return []
        claims.append(skipped)
    return [f"skipped required stage: {a.stage} goes out before required {claims[0][0]} "
            f"(not attempted in this episode; current stage "
            f"{ids[lad.current] if lad.current >= 0 else 'none'})"]


PAUSES_WITH_ENDS = tuple(STATES) + ("pause.promise_to_pay", "pause.payment_plan")
SLACK = timedelta(minutes=1)


def pause_violations(account, events, now: datetime, decision, policy_doc: dict) -> list[str]:
    """Pauses end: not held by a pause that is over, nor past its end, nor left unevaluated."""
    events = [e for e in events if e.at <= now]
    held = any_hold(account, events, now, policy_doc)
    out = []
    listed = [s for s in decision.suppressions if s.rule in PAUSES_WITH_ENDS]
    for s in listed:
        if s.rule not in held:
            why = _why(account, events, now, policy_doc, s.rule)
            out.append(f"pause over: {s.rule} still holds the account ({s.reason}) but under every "
                       f"reading it is not in force at {now.isoformat()}{why}")
        elif held[s.rule] is not None and (s.until is None or s.until > held[s.rule] + SLACK):
            out.append(f"pause too long: {s.rule} runs until {s.until} but ends at "
                       f"{held[s.rule].isoformat()}")
    if decision.action is None and listed and held and all(end is not None for end in held.values()):
        bound = max(max(held.values()), now + SLACK)
        if decision.next_evaluation_at > bound + SLACK:
            out.append(f"late re-evaluation: held by {sorted(held)}, all over by {bound.isoformat()}, "
                       f"but next evaluation at {decision.next_evaluation_at.isoformat()}")
    return out


def _why(account, events, now, policy_doc, rule) -> str:
    if rule in STATES:
        st = state(rule, account, events, now, policy_doc, True)
        if st.closed_at is not None:
            return f" (closed at {st.closed_at.isoformat()})"
        if st.end is not None:
            return f" (it ended at {st.end.isoformat()})"
    if rule == "pause.promise_to_pay":
        p = latest_promise(account, events, now, policy_doc, True)
        if p is not None:
            return f" (promise deadline {p.deadline.isoformat()}, kept: {p.kept})"
    return ""
