"""The oracle's own reading of the escalation ladder (part of the independent oracle).

From docs/policy-guide.md ("How decisions are made", "grace", "Conditions") and docs/facts.md
("Episodes and stage progress"), in plain Python over the policy document: which segments an
account is in, which stages apply and are due, the episode and its current stage, and the
step the ladder earns now (stage, reason, earliest day). Imports nothing from the engine.

Conditions are evaluated three-valued: a fact the oracle does not compute is unknown (None),
and a step that depends on an unknown is not claimed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tests.oracle import applicable_rules, limitation_days, local_date, zone_of
from tests.oracle_state import (
    PAYING,
    Money,
    disputed_invoices,
    latest_plan,
    latest_promise,
    midnight,
    open_amounts,
)

OPS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
    "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
    "between": lambda a, b: b[0] <= a <= b[1],
    "contains": lambda a, b: b in a, "not_contains": lambda a, b: b not in a,
}
MONEY_FACTS = ("balance", "total_balance", "disputed_amount")


def _coerce(fact: str, value):
    if fact in MONEY_FACTS:
        if isinstance(value, list):
            return [Decimal(str(v)) for v in value]
        return Decimal(str(value))
    return value


class Conditions:
    """Evaluates `when` conditions and segments of a policy document for one account."""

    def __init__(self, account, events, now: datetime, policy_doc: dict, m: Money):
        self.doc = policy_doc
        self.memo: dict = {}
        promises = [e for e in events if e.type == "promise_to_pay"]
        self.facts = {
            "balance": m.balance, "total_balance": m.total, "disputed_amount": m.disputed_amount,
            "debtor_type": account.debtor_type, "currency": account.currency,
            "relationship_tier": account.relationship_tier, "tags": set(account.tags),
            "risk_score": account.risk_score, "on_time_ratio": account.on_time_ratio,
            "days_past_due": m.dpd if m.oldest_due else 0,
            "jurisdiction": account.jurisdiction,
            # without any promise, none was broken; with promises the oracle does not count them
            "promises_broken": 0 if not promises else "unknown",
        }

    def fact(self, name: str):
        return self.facts.get(name, "unknown")

    def holds(self, cond) -> bool | None:
        if cond is None:
            return True
        if "all" in cond:
            vals = [self.holds(c) for c in cond["all"]]
            return False if False in vals else (None if None in vals else True)
        if "any" in cond:
            vals = [self.holds(c) for c in cond["any"]]
            return True if True in vals else (None if None in vals else False)
        if "not" in cond:
            v = self.holds(cond["not"])
            return None if v is None else not v
        if "segment" in cond:
            return self.segment(cond["segment"])
        value = self.fact(cond["fact"])
        if value == "unknown":
            return None
        (op, ref), = ((k, v) for k, v in cond.items() if k not in ("fact", "window_days", "channel"))
        if op == "exists":
            return (value is not None) == bool(ref)
        if value is None:
            return False                     # every comparison with a missing value is false
        return bool(OPS[op](value, _coerce(cond["fact"], ref)))

    def segment(self, name: str) -> bool | None:
        if name not in self.memo:
            self.memo[name] = None           # a cycle reads as unknown
            self.memo[name] = self.holds((self.doc.get("segments") or {}).get(name, {}).get("when"))
        return self.memo[name]

    def stage_applies(self, stage: dict) -> bool | None:
        segs = stage.get("segments")
        in_segs = True if not segs else self.holds({"any": [{"segment": s} for s in segs]})
        when = self.holds(stage.get("when"))
        vals = [in_segs, when]
        return False if False in vals else (None if None in vals else True)

    def grace(self) -> int | None:
        g = self.doc.get("grace") or {}
        days = [int(g.get("default_days", 0))]
        for seg, n in (g.get("segments") or {}).items():
            inside = self.segment(seg)
            if inside is None:
                return None
            if inside:
                days.append(int(n))
        return max(days)


@dataclass
class Step:
    """The step the ladder earns: stage index, reason, and the earliest local day it may go out."""

    index: int
    stage: dict
    reason: str
    day: date | None          # None: it may go out now
    unknown: str = ""         # set when the step depends on something the oracle cannot tell


@dataclass
class Ladder:
    """One reading of the ladder for an account at `now`."""

    stages: list
    current: int              # furthest stage attempted in the episode (-1: none)
    attempts: dict            # stage id -> [local days of its attempts in the episode]
    last_any: date | None     # local day of the last stage attempt (in any episode: spacing)
    removed: set              # stage ids a time bar removes (or keeps from repeating)
    applies: list             # per stage: True / False / None
    grace: int | None
    dpd: int
    owes: bool
    start: datetime | None = None   # the instant the episode began (None: nothing open)

    def due(self, i: int) -> bool | None:
        s = self.stages[i]
        if self.applies[i] is False or not self.owes or s["id"] in self.removed:
            return False
        d = int(s["days_past_due"])
        if d <= 0:
            due = d <= self.dpd <= 0
        else:
            if self.grace is None:
                return None
            due = self.dpd >= max(d, self.grace + 1)
        return None if due and self.applies[i] is None else due


def older_in_collection_until(account, events, oldest: date) -> datetime | None:
    """The last instant an invoice due before `oldest` was still being collected (open and not
    disputed), read by replaying the paying and dispute events in time order: contacts up to
    then were about that older debt (docs/facts.md, Episodes and stage progress)."""
    older = [i.id for i in account.invoices if i.due_date < oldest]
    if not older:
        return None
    moving = sorted({e.at for e in events if e.type in PAYING + ("dispute_opened", "dispute_resolved")})
    last = None
    for t in moving:
        before = [e for e in events if e.at < t]
        disputed = disputed_invoices(account, before, False)
        open_ = open_amounts(account, before, disputed)
        if any(open_[i] > 0 and i not in disputed for i in older):
            last = t
    return last


def episode_start(account, events, policy_doc: dict, m: Money) -> datetime | None:
    """The instant the current episode began: the lead day of the oldest unpaid due date, or
    the instant an older invoice stopped being collected, whichever is later (a contact at that
    very instant was decided with the payment or dispute already known: it is the new episode's)."""
    if m.oldest_due is None:
        return None
    zone = zone_of(account, policy_doc)
    earliest = min(0, min(int(s["days_past_due"]) for s in policy_doc["escalation"]["stages"]))
    start = midnight(m.oldest_due + timedelta(days=earliest), zone)
    older = older_in_collection_until(account, events, m.oldest_due)
    return start if older is None else max(start, older)


def ladder(account, events, now: datetime, policy_doc: dict, m: Money, cond: Conditions) -> Ladder:
    zone = zone_of(account, policy_doc)
    stages = policy_doc["escalation"]["stages"]
    ids = [s["id"] for s in stages]
    start = episode_start(account, events, policy_doc, m)
    attempts: dict = {i: [] for i in ids}
    everywhere = []
    for e in events:
        if e.type == "contact_attempt" and e.stage in attempts and e.outcome != "failed":
            everywhere.append(local_date(e.at, zone))
            if start is not None and e.at >= start:
                attempts[e.stage].append(local_date(e.at, zone))
    done = [k for k, i in enumerate(ids) if attempts[i]]
    last_any = max(everywhere, default=None)
    removed = set()
    if m.oldest_due is not None:
        for rule in applicable_rules(account, policy_doc, "time_bar"):
            if m.today >= m.oldest_due + timedelta(days=limitation_days(rule, account.jurisdiction)):
                removed |= {s["id"] for s in stages if s["action"] in rule.get("blocked_actions", ())}
    return Ladder(stages, max(done, default=-1), attempts, last_any, removed,
                  [cond.stage_applies(s) for s in stages], cond.grace(), m.dpd, m.balance > 0, start)


def resume_index(account, events, now, policy_doc, lad: Ladder, ties: bool) -> int | None:
    """Index of the stage escalation resumes at after a broken promise or a missed instalment."""
    pauses = policy_doc.get("pauses") or {}
    ids = [s["id"] for s in lad.stages]
    found = []
    p = latest_promise(account, events, now, policy_doc, ties)
    stage = (pauses.get("promise_to_pay") or {}).get("broken_resume_stage")
    # a promise broken before this episode began does not resume it
    if p is not None and p.broken and stage in ids and (lad.start is None or p.deadline > lad.start):
        found.append(ids.index(stage))
    plan = latest_plan(account, events, now, policy_doc, ties)
    stage = (pauses.get("payment_plan") or {}).get("resume_stage")
    if plan is not None and plan.active and not plan.good and stage in ids:
        found.append(ids.index(stage))
    return max(found) if found else None


def next_step(lad: Ladder, resume: int | None) -> Step | None:
    """The step the ladder earns (policy guide, The escalation rules 1-6), or None."""
    if not lad.owes:
        return None                            # nothing owed: no stage is due, none resumes
    n = len(lad.stages)
    unknown = ""
    cand = None
    for i in range(n - 1, lad.current, -1):
        due = lad.due(i)
        if due is None:
            unknown = f"whether stage {lad.stages[i]['id']} is due"
            break
        if due:
            cand = i
            break
    reason = "next stage"
    if resume is not None and resume > lad.current and resume > (cand if cand is not None else -1):
        if lad.applies[resume] is not True or lad.stages[resume]["id"] in lad.removed:
            # whether a resume stage must apply is not said: claim nothing
            return Step(-1, {}, "", None, f"resume at {lad.stages[resume]['id']}")
        cand, reason = resume, "resume"
    if cand is not None:
        for i in range(lad.current + 1, cand):
            s = lad.stages[i]
            if s.get("required") and s["id"] not in lad.removed:
                if lad.applies[i] is None:
                    unknown = unknown or f"whether required stage {s['id']} applies"
                elif lad.applies[i]:
                    cand, reason = i, "required stage first"
                    break
        s = lad.stages[cand]
        wait = int(s.get("min_days_since_previous", 0))
        day = lad.last_any + timedelta(days=wait) if lad.last_any is not None else None
        return Step(cand, s, reason, day, unknown)
    if unknown or lad.current < 0:
        return None if not unknown else Step(-1, {}, "", None, unknown)
    s = lad.stages[lad.current]
    every = s.get("repeat_every_days")
    own = lad.attempts[s["id"]]
    if (every is None or len(own) >= int(s.get("max_attempts", 1)) or not lad.owes
            or lad.applies[lad.current] is not True or s["id"] in lad.removed
            or (int(s["days_past_due"]) <= 0 < lad.dpd)):
        return None
    # a repeat waits `repeat_every_days` after the stage's own last attempt; the reading
    # that asks less also waits for the spacing after any stage attempt
    day = max(max(own) + timedelta(days=int(every)),
              lad.last_any + timedelta(days=int(s.get("min_days_since_previous", 0))))
    return Step(lad.current, s, "repeat", day)


def earliest(step: Step, now: datetime, zone) -> datetime:
    """The step's earliest moment: now, or local midnight of the day it is allowed."""
    if step.day is None or step.day <= local_date(now, zone):
        return now
    return midnight(step.day, zone)
