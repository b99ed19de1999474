"""The oracle's own reading of an account's state (part of the independent oracle, tests/oracle.py).

Plain Python over the account, its events and the policy document, from the definitions in
docs/facts.md and docs/policy-guide.md: disputes, payment allocation, balance and days past
due, promises, payment plans, and the opening/closing state events (holds, hardship,
breathing space, the stop states). It imports nothing from the engine.

Where the documents leave a case open (two events at the same instant, whether a payment at
the instant a promise was made counts towards it) a function takes a `ties` flag: the callers
evaluate every reading and claim a violation only when all readings agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from tests.oracle import BREATHING_SPACE_DAYS, applicable_rules, local_date, zone_of

PAYING = ("payment", "credit_note", "write_off")
EXPONENTS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant local midnight starts `day` in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone)


def later(a, b, ties: bool) -> bool:
    """`a` is after `b` (an absent `b` is before everything); `ties` reads a tie as after."""
    return a is not None and (b is None or a > b or (ties and a == b))


def minor(currency: str) -> Decimal:
    """One minor unit of the currency."""
    return Decimal(1).scaleb(-EXPONENTS.get(currency, 2))


def round_half_up(value: Decimal, currency: str) -> Decimal:
    return value.quantize(minor(currency), rounding=ROUND_HALF_UP)


def last_at(events, etype: str, **match):
    times = [e.at for e in events if e.type == etype and all(getattr(e, k) == v for k, v in match.items())]
    return max(times) if times else None


# ---- disputes, allocation, balance --------------------------------------------------------------

def disputed_invoices(account, events, ties: bool) -> set[str]:
    """Invoices under an unresolved dispute (docs/facts.md, Disputes)."""
    wide_open = last_at(events, "dispute_opened", invoice_id=None)
    wide_res = last_at(events, "dispute_resolved", invoice_id=None)
    account_wide = later(wide_open, wide_res, ties)
    out = set()
    for inv in account.invoices:
        own_open = last_at(events, "dispute_opened", invoice_id=inv.id)
        own_res = last_at(events, "dispute_resolved", invoice_id=inv.id)
        if account_wide or (later(own_open, own_res, ties) and later(own_open, wide_res, ties)):
            out.add(inv.id)
    return out


def open_amounts(account, events, disputed: set[str]) -> dict[str, Decimal]:
    """Open amount per invoice after payments, credit notes and write-offs (docs/facts.md)."""
    invoices = sorted(account.invoices, key=lambda i: (i.due_date, i.id))
    open_ = {i.id: Decimal(i.amount) for i in invoices}
    pool = Decimal(0)
    for e in events:
        if e.type not in PAYING or e.amount is None:
            continue
        if e.invoice_id in open_:
            paid = min(open_[e.invoice_id], e.amount)
            open_[e.invoice_id] -= paid
            pool += e.amount - paid
        else:
            pool += e.amount
    for want_disputed in (False, True):
        for inv in invoices:
            if (inv.id in disputed) == want_disputed and open_[inv.id] > 0:
                paid = min(open_[inv.id], pool)
                open_[inv.id] -= paid
                pool -= paid
    return open_


@dataclass
class Money:
    """Balances and the due date days past due count from, under one reading."""

    disputed: set
    open: dict
    balance: Decimal            # what is collected (invoice scope: disputed left out)
    total: Decimal
    disputed_amount: Decimal
    oldest_due: date | None     # oldest open undisputed due date (else oldest open), None if nothing open
    today: date

    @property
    def dpd(self) -> int:
        return (self.today - self.oldest_due).days if self.oldest_due else 0


def money(account, events, policy_doc: dict, now: datetime, ties: bool) -> Money:
    zone = zone_of(account, policy_doc)
    disputed = disputed_invoices(account, events, ties)
    open_ = open_amounts(account, events, disputed)
    total = sum(open_.values(), Decimal(0))
    disputed_amount = sum((v for k, v in open_.items() if k in disputed), Decimal(0))
    scope = ((policy_doc.get("pauses") or {}).get("dispute") or {}).get("scope", "invoice")
    balance = total - disputed_amount if scope == "invoice" else total
    due = {i.id: i.due_date for i in account.invoices}
    undisputed = [due[k] for k, v in open_.items() if v > 0 and k not in disputed]
    anyopen = [due[k] for k, v in open_.items() if v > 0]
    oldest = min(undisputed) if undisputed else (min(anyopen) if anyopen else None)
    return Money(disputed, open_, balance, total, disputed_amount, oldest, local_date(now, zone))


# ---- state events: opened by one type, closed by another ------------------------------------------

@dataclass
class State:
    """One opening/closing state under one reading: in force at `now`, and when it ends by itself."""

    rule: str
    in_force: bool
    start: datetime | None = None
    end: datetime | None = None        # the instant it lifts by itself (None: only an event lifts it)
    closed_at: datetime | None = None  # the closing event that ended it, if any


STATES = {   # rule id: (opening, closing)
    "stop.deceased": ("deceased", None),
    "stop.cease_communication": ("cease_communication", None),
    "stop.bankruptcy": ("bankruptcy", "bankruptcy_ended"),
    "stop.represented": ("represented", "representation_ended"),
    "stop.breathing_space": (("breathing_space", "mental_health_crisis_moratorium"), "breathing_space_ended"),
    "pause.hold": ("hold", "hold_released"),
    "pause.hardship": ("hardship", "hardship_ended"),
}


def state_length(rule: str, account, policy_doc: dict) -> tuple[int | None, int | None]:
    """(default days after the start day, cap on an `until`) of a state, from policy and profiles."""
    if rule == "stop.breathing_space":
        days = [BREATHING_SPACE_DAYS] + [int(r["days"]) for r in
                                         applicable_rules(account, policy_doc, "breathing_space")]
        return max(days), None
    if rule == "pause.hold":
        cap = ((policy_doc.get("pauses") or {}).get("manual_hold") or {}).get("max_days")
        return cap, cap
    if rule == "pause.hardship":
        ext = (policy_doc.get("grace") or {}).get("hardship_extension_days")
        if ext is None:
            return None, None
        return max([int(ext)] + [int(r["days"]) for r in
                                 applicable_rules(account, policy_doc, "hardship_pause")]), None
    return None, None


def state(rule: str, account, events, now: datetime, policy_doc: dict, ties: bool) -> State:
    """The state of `rule` at `now` (docs/facts.md, State events), under one reading of ties."""
    opening, closing = STATES[rule]
    openings = opening if isinstance(opening, tuple) else (opening,)
    zone = zone_of(account, policy_doc)
    starts = [e for e in events if e.type in openings]
    if not starts:
        return State(rule, False)
    top = max(e.at for e in starts)
    # the latest opening wins; of two at one instant, a tie reading takes the longer one
    latest = [e for e in starts if e.at == top]
    closed = last_at(events, closing) if closing else None
    if closed is not None and (closed > top or (not ties and closed == top)):
        return State(rule, False, top, closed_at=closed)
    if rule in ("stop.deceased", "stop.cease_communication"):
        return State(rule, True, top)
    days, cap = state_length(rule, account, policy_doc)
    start_day = local_date(top, zone)
    ends = []
    for e in latest:
        last = e.until
        if e.type == "mental_health_crisis_moratorium":
            if last is None:
                last = crisis_last_day(events, e.at, zone, ties)
        elif last is None and days is not None:
            last = start_day + timedelta(days=int(days))
        if last is not None and cap is not None:
            last = min(last, start_day + timedelta(days=int(cap)))
        ends.append(None if last is None else midnight(last + timedelta(days=1), zone))
    end = None if None in ends else (max(ends) if ties else min(ends))
    return State(rule, end is None or now < end, top, end)


def crisis_last_day(events, start: datetime, zone: ZoneInfo, ties: bool) -> date | None:
    """A mental health crisis moratorium without an `until` lasts through the 30th day after
    the day its crisis treatment ended (the first `crisis_treatment_ended` after it: its
    `until`, else its local day); None while no end of treatment is recorded. `ties` (the
    longer reading) leaves out an end of treatment at the instant the moratorium started."""
    treated = sorted((e for e in events if e.type == "crisis_treatment_ended"
                      and (e.at > start or (not ties and e.at == start))), key=lambda e: e.at)
    if not treated:
        return None
    return (treated[0].until or local_date(treated[0].at, zone)) + timedelta(days=30)


def moratorium_spans(account, events, now: datetime, policy_doc: dict, ties: bool) -> list[tuple[date, date]]:
    """Every breathing space and crisis moratorium as (first, last) local days up to today
    (docs/compliance.md): no interest for these days, no late fee for an invoice whose first
    overdue day is one of them. `ties` reads the longer way (an end at a start's instant is
    before it)."""
    zone = zone_of(account, policy_doc)
    today = local_date(now, zone)
    days, _ = state_length("stop.breathing_space", account, policy_doc)
    out = []
    for e in events:
        if e.type not in ("breathing_space", "mental_health_crisis_moratorium") or e.at > now:
            continue
        first = local_date(e.at, zone)
        last = e.until
        if last is None:
            last = (crisis_last_day(events, e.at, zone, ties) if e.type == "mental_health_crisis_moratorium"
                    else first + timedelta(days=int(days)))
        ends = [x.at for x in events if x.type == "breathing_space_ended"
                and (x.at > e.at or (not ties and x.at == e.at))]
        if ends:
            cut = local_date(min(ends), zone) - timedelta(days=1)
            last = cut if last is None else min(last, cut)
        last = today if last is None else min(last, today)
        if last >= first:
            out.append((first, last))
    return out


# ---- promises and plans -------------------------------------------------------------------------------

@dataclass
class Promise:
    at: datetime
    deadline: datetime
    kept: bool
    open: bool
    broken: bool


def latest_promise(account, events, now: datetime, policy_doc: dict, ties: bool) -> Promise | None:
    """The latest promise to pay (docs/facts.md, Promises to pay); `ties` counts a payment at
    the instant the promise was made, and takes the later deadline of two same-instant promises."""
    conf = (policy_doc.get("pauses") or {}).get("promise_to_pay") or {}
    tol, cap = int(conf.get("tolerance_days", 0)), int(conf.get("max_days", 60))
    zone = zone_of(account, policy_doc)
    promises = [e for e in events if e.type == "promise_to_pay"]
    if not promises:
        return None
    top = max(e.at for e in promises)
    cands = []
    for p in (e for e in promises if e.at == top):
        last = min(p.until + timedelta(days=tol), local_date(p.at, zone) + timedelta(days=cap))
        deadline = midnight(last + timedelta(days=1), zone)
        paid = sum((e.amount for e in events if e.type == "payment" and e.amount is not None
                    and (p.at < e.at or (ties and p.at == e.at)) and e.at < deadline and e.at <= now),
                   Decimal(0))
        kept = paid >= p.amount
        cands.append(Promise(p.at, deadline, kept, not kept and now < deadline, not kept and now >= deadline))
    cands.sort(key=lambda c: c.deadline)
    return cands[-1] if ties else cands[0]


@dataclass
class Plan:
    active: bool
    good: bool
    check: datetime | None      # start of the day after the next uncovered instalment + tolerance


def latest_plan(account, events, now: datetime, policy_doc: dict, ties: bool) -> Plan | None:
    """The latest payment plan (docs/facts.md, Payment plans); `ties` counts payments at the
    instant the plan was agreed and reads a cancellation at that instant as before it."""
    conf = (policy_doc.get("pauses") or {}).get("payment_plan") or {}
    tol = int(conf.get("missed_instalment_tolerance_days", 0))
    zone = zone_of(account, policy_doc)
    plans = [e for e in events if e.type == "payment_plan"]
    if not plans:
        return None
    plan = max(plans, key=lambda e: e.at)
    cancelled = last_at(events, "payment_plan_cancelled")
    if cancelled is not None and (cancelled > plan.at or (not ties and cancelled == plan.at)):
        return Plan(False, False, None)
    paid = sum((e.amount for e in events if e.type == "payment" and e.amount is not None
                and (plan.at < e.at or (ties and plan.at == e.at))), Decimal(0))
    total = sum((a for _d, a in plan.instalments), Decimal(0))
    if paid >= total:
        return Plan(False, False, None)
    today = local_date(now, zone)
    covered = paid
    for due, amount in sorted(plan.instalments):
        if covered >= amount:
            covered -= amount
            continue
        check_day = due + timedelta(days=tol)
        if check_day < today:
            return Plan(True, False, None)             # missed
        return Plan(True, True, midnight(check_day + timedelta(days=1), zone))
    return Plan(True, True, None)
