"""An independent oracle for the compliance guardrails (used by the property tests).

Given an account, its events, the evaluation instant `now`, the policy document and a
decision, `violations()` lists every rule the decision's action breaks. It shares no code
with the engine: it reads the jurisdiction profiles straight from `policies/profiles/*.yaml`
with `yaml.safe_load`, converts times with `zoneinfo`, asks the `holidays` package directly,
and walks the event history in plain Python, one event at a time.

The contact the decision schedules is checked at the instant it may go out,
`t = action.not_before`:

- stop states (every jurisdiction): nothing at all while the debtor is deceased, bankrupt
  (no later `bankruptcy_ended`), represented (no later `representation_ended`) or within 60
  days of a breathing space that has not ended (the last three end after an `until` date
  on their opening event, too); after a cease-communication request only
  what an applicable profile's `cease_communication` rule allows (action and channel);
- never a channel kind the debtor opted out of, nor one we hold no details for;
- time bar: no action a `time_bar` rule blocks once the local date reaches the oldest
  unpaid undisputed due date plus the rule's limitation period (overrides included); checked
  on the local date at `now` ("today") and on the local date at `t`;
- for a debtor-facing kind (email, sms, letter, call), every applicable rule on that kind:
  contact windows (local time at `t` in the account's zone and in every `other_timezones`
  zone within [start, end) of the weekday or weekend window of that zone's local date),
  public holidays (local date at `t` in the account's zone and every `other_timezones` zone: with `scope: national` the
  country's holidays, on their date or on the day the debtor's state observes them; else
  also the subdivision's own, e.g. AU-NSW), frequency caps (counted events in (t - window, t] must be < max: the
  action itself is the next one), the quiet period after a conversation, and written
  consent for electronic contact once a consent rule is in force (local date at `t`).

Checks of what a decision says, with or without an action: in England and Wales, a breathing
space begun within 12 months of the end of the previous one is named, with both dates, on its
rule's trace line and in the breathing-space suppression, and never lets an action through.

Each rule kind has its check in `KIND_CHECKS` (or the reason it needs none); the kinds
must be exactly those the engine registers, so a new kind cannot go unchecked unnoticed.

Where the history is ambiguous (a dispute opened account-wide and resolved for one invoice,
two events at the same instant) the oracle takes the reading that allows more, so a
violation it reports is a violation under every reading.

This module is the safety half. The liveness half (a permitted step is taken, a required one
is not skipped, pauses end) is tests/oracle_liveness.py, on the oracle's own reading of the
ladder (tests/oracle_ladder.py) and of the account's state (tests/oracle_state.py); offers
and fees are tests/oracle_offers.py. None of them imports the engine.
"""
from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE_DIR = ROOT / "policies" / "profiles"
DEBTOR_FACING = ("email", "sms", "letter", "call")
NOT_ATTEMPTS = ("queued", "failed")
# A refused call reached the debtor, who answered: a contact for caps such as Australia's.
REACHED = ("sent", "delivered", "voicemail", "conversation", "refused")
BREATHING_SPACE_DAYS = 60


# ---- profiles ----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def profiles() -> tuple[dict, ...]:
    """Every shipped profile document, as plain YAML data."""
    return tuple(yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(PROFILE_DIR.glob("*.yaml")))


def prefix_match(jurisdiction: str, prefix: str) -> bool:
    return jurisdiction == prefix or jurisdiction.startswith(prefix + "-")


def house_profile(account, policy_doc: dict) -> dict | None:
    """The policy's house contact hours (`compliance.contact_hours`) that cover the account's
    debtor type, as a profile of contact_window and national public_holidays rules."""
    rules = []
    for entry in (policy_doc.get("compliance") or {}).get("contact_hours") or ():
        if account.debtor_type not in (entry.get("debtor_types") or ("consumer", "business")):
            continue
        rid = "house." + entry["id"]
        rules.append({"id": rid, "kind": "contact_window", "channels": entry["channels"],
                      "weekdays": entry["weekdays"], "weekends": entry["saturday"],
                      "saturday": entry["saturday"], "sunday": entry["sunday"]})
        if entry.get("holidays", "closed") == "closed":
            rules.append({"id": rid + "-holidays", "kind": "public_holidays", "channels": entry["channels"],
                          "scope": "national"})
    return {"id": "house", "rules": rules} if rules else None


def day_window(rule: dict, weekday: int) -> tuple[int, int] | None:
    """A contact_window rule's (start, end) minutes on a weekday (Monday 0); None if closed."""
    key = "weekdays" if weekday < 5 else ("saturday" if weekday == 5 else "sunday")
    window = rule.get(key) if key in rule else rule["weekends"]
    if window == "closed":
        return None
    return minutes(window["start"]), minutes(window["end"])


def applicable_profiles(account, policy_doc: dict) -> list[dict]:
    """Profiles that apply to the account under the policy's compliance settings, then the
    policy's own house contact hours."""
    comp = policy_doc.get("compliance") or {}
    forced = [p for p in comp.get("profiles") or () if p != "auto"]
    out = []
    for prof in profiles():
        if prof["id"] in forced:
            out.append(prof)
            continue
        applies = prof["applies_to"]
        if applies.get("setting") and not comp.get(applies["setting"], False):
            continue
        if applies.get("debtor_types") and account.debtor_type not in applies["debtor_types"]:
            continue
        j = account.jurisdiction
        if j and any(prefix_match(j, p) for p in applies["jurisdictions"]):
            out.append(prof)
    house = house_profile(account, policy_doc)
    return out + ([house] if house else [])


def applicable_rules(account, policy_doc: dict, kind: str | None = None) -> list[dict]:
    """Rules of the applicable profiles, of rule kind `kind` if given."""
    return [r for p in applicable_profiles(account, policy_doc) for r in p["rules"]
            if kind is None or r["kind"] == kind]


# ---- time ------------------------------------------------------------------------------------

def zone_of(account, policy_doc: dict) -> ZoneInfo:
    return ZoneInfo(account.timezone or policy_doc["metadata"]["default_timezone"])


def local_date(t: datetime, zone: ZoneInfo) -> date:
    return t.astimezone(zone).date()


def minutes(text: str) -> int:
    h, m = str(text).split(":")
    return int(h) * 60 + int(m)


@functools.lru_cache(maxsize=None)
def _calendar(country: str, subdiv: str | None, year: int) -> dict:
    """{date: name} of the public holidays of a country (and subdivision) in one year."""
    try:
        cal = holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError:          # country or subdivision unknown to the package
        if subdiv is None:
            return {}
        cal = holidays.country_holidays(country, years=year)
    return dict(cal)


def holiday_kind(jurisdiction: str | None, day: date, scope: str | None = None) -> str | None:
    """Why `day` is closed by a public_holidays rule of this scope, or None.

    "national": a national holiday on its own date; "observed": a national holiday as the
    debtor's state observes it on another day (Australia Day 2025 fell on a Sunday and every
    state's holiday was Monday 27 January); "state": a holiday of the subdivision only, which
    closes the day unless the rule's scope is national.
    """
    if not jurisdiction:
        return None
    parts = jurisdiction.split("-")
    country, subdiv = parts[0], (parts[1] if len(parts) > 1 else None)
    national = _calendar(country, None, day.year)
    if day in national:
        return "national"
    name = _calendar(country, subdiv, day.year).get(day) if subdiv else None
    if name is None:
        return None
    names = {n.strip() for v in national.values() for n in v.split(";")}
    if any(n.replace("(observed)", "").strip() in names for n in name.split(";")):
        return "observed"
    return None if scope == "national" else "state"


def is_public_holiday(jurisdiction: str | None, day: date, scope: str | None = None) -> bool:
    return holiday_kind(jurisdiction, day, scope) is not None


# ---- history ---------------------------------------------------------------------------------

def _last(events, etype: str, channel: str | None = None):
    times = [e.at for e in events if e.type == etype and (channel is None or e.channel == channel)]
    return max(times) if times else None


def in_force_since(events, start: str, end: str | None):
    """Start of the latest `start` event if no `end` event came at or after it, else None."""
    s = _last(events, start)
    if s is None:
        return None
    e = _last(events, end) if end else None
    return s if e is None or e < s else None


def until_passed(events, start: str, day: date) -> bool:
    """The latest `start` event (any of several at its instant) carries an `until` date
    before `day`: the state it opened is over by `day` (bankruptcy, representation and
    breathing space end after their `until` date, docs/compliance.md)."""
    s = _last(events, start)
    return s is not None and any(e.until is not None and day > e.until
                                 for e in events if e.type == start and e.at == s)


def is_attempt(e) -> bool:
    """A real attempt on the debtor: its own contact_attempt, or an agent's call outcome."""
    if e.outcome is None or e.outcome in NOT_ATTEMPTS:
        return False
    return e.type == "contact_attempt" or (e.type == "contact_outcome" and e.channel == "call")


def said_last(events, on: str, off: str, channel: str) -> bool:
    """The latest of `on`/`off` on this channel is `on` (an `off` at the same instant wins)."""
    a, b = _last(events, on, channel), _last(events, off, channel)
    return a is not None and (b is None or a > b)


def reachable(account, kind: str) -> bool:
    c = account.contact
    return {"email": bool(c.email), "sms": bool(c.mobile), "call": bool(c.phone or c.mobile),
            "letter": bool(c.address)}.get(kind, True)


def _disputed(events, invoice_id: str) -> bool:
    """Disputed under any reading of the dispute history (the lenient side for the time bar)."""
    own = [e for e in events if e.type in ("dispute_opened", "dispute_resolved") and e.invoice_id == invoice_id]
    wide = [e for e in events if e.type in ("dispute_opened", "dispute_resolved") and e.invoice_id is None]
    def latest_is_open(evs):
        if not evs:
            return False
        top = max(e.at for e in evs)
        return any(e.type == "dispute_opened" and e.at == top for e in evs)
    own_r = [e for e in own if e.type == "dispute_resolved"] + [e for e in wide if e.type == "dispute_resolved"]
    own_o = [e for e in own if e.type == "dispute_opened"]
    engine_like = (bool(own_o) and (not own_r or max(e.at for e in own_o) > max(e.at for e in own_r)))
    return latest_is_open(own + wide) or latest_is_open(wide) or engine_like


def oldest_unpaid_undisputed_due(account, events) -> date | None:
    """Due date of the oldest invoice still open and undisputed after payments.

    Payments naming an invoice go to it (any excess joins the pool); the pool pays
    undisputed invoices oldest first, then disputed ones.
    """
    invoices = sorted(account.invoices, key=lambda i: (i.due_date, i.id))
    open_ = {i.id: Decimal(i.amount) for i in invoices}
    pool = Decimal(0)
    for e in events:
        if e.type not in ("payment", "credit_note", "write_off"):
            continue
        if e.invoice_id in open_:
            paid = min(open_[e.invoice_id], e.amount)
            open_[e.invoice_id] -= paid
            pool += e.amount - paid
        elif e.invoice_id is None:
            pool += e.amount
    disputed = {i.id: _disputed(events, i.id) for i in invoices}
    for want in (False, True):
        for inv in invoices:
            if disputed[inv.id] == want and open_[inv.id] > 0:
                paid = min(open_[inv.id], pool)
                open_[inv.id] -= paid
                pool -= paid
    due = [i.due_date for i in invoices if open_[i.id] > 0 and not disputed[i.id]]
    return min(due) if due else None


# ---- the checks --------------------------------------------------------------------------------

def limitation_days(rule: dict, jurisdiction: str | None) -> int:
    days, best = int(rule["limitation_days"]), -1
    for override in rule.get("overrides") or ():
        for prefix in override["jurisdictions"]:
            if jurisdiction and prefix_match(jurisdiction, prefix) and len(prefix) > best:
                days, best = int(override["limitation_days"]), len(prefix)
    return days


def cap_count(events, rule: dict, t: datetime, reached=REACHED) -> int:
    """Counted events of a frequency cap in (t - window, t]."""
    lo = t - timedelta(days=int(rule["window_days"]))
    n = 0
    for e in events:
        if not is_attempt(e) or e.channel not in rule["channels"] or not (lo < e.at <= t):
            continue
        if rule.get("counts", "attempts") == "contacts" and e.outcome not in reached:
            continue
        n += 1
    return n


@dataclass
class Case:
    """What one check looks at: the account, its history up to `now`, and the action at `t`."""

    account: object
    events: list
    now: datetime
    decision: object
    policy_doc: dict
    skip: frozenset | set

    @property
    def t(self) -> datetime:
        return self.decision.action.not_before

    @property
    def kind(self) -> str:
        return self.decision.action.channel_kind

    @property
    def what(self) -> str:
        return self.decision.action.type

    @functools.cached_property
    def zone(self) -> ZoneInfo:
        return zone_of(self.account, self.policy_doc)

    @functools.cached_property
    def oldest(self) -> date | None:
        return oldest_unpaid_undisputed_due(self.account, self.events)


def on_contacts(check):
    """A check of a rule on contacts: only debtor-facing channels, and only those it lists."""
    @functools.wraps(check)
    def wrapped(rule: dict, c: Case) -> list[str]:
        if c.decision.action is None or c.kind not in DEBTOR_FACING:
            return []
        if rule.get("channels") and c.kind not in rule["channels"]:
            return []
        return check(rule, c)
    return wrapped


def check_time_bar(rule: dict, c: Case) -> list[str]:
    """No blocked action on debt past the period, on the local date at now or at `t`."""
    if c.decision.action is None or c.oldest is None or c.what not in rule.get("blocked_actions", ()):
        return []
    since = c.oldest + timedelta(days=limitation_days(rule, c.account.jurisdiction))
    for label, day in (("today", local_date(c.now, c.zone)), ("at not_before", local_date(c.t, c.zone))):
        if label == "at not_before" and "time_bar_at_send" in c.skip:
            continue
        if day >= since:
            return [f"{rule['id']}: {c.what} on debt time-barred since {since} ({label} is {day}, "
                    f"oldest unpaid due date {c.oldest})"]
    return []


@on_contacts
def check_contact_window(rule: dict, c: Case) -> list[str]:
    """Local time at `t` inside the window in the account's zone and every other known zone."""
    out = []
    for z in dict.fromkeys([c.zone, *(ZoneInfo(n) for n in c.account.other_timezones)]):
        loc = c.t.astimezone(z)
        window = day_window(rule, loc.weekday())
        m = loc.hour * 60 + loc.minute
        if window is None or not window[0] <= m < window[1]:
            out.append(f"{rule['id']}: {c.kind} at {loc.isoformat()} ({z.key}) outside {window} "
                       "(minutes; None: closed)")
    return out


@on_contacts
def check_public_holidays(rule: dict, c: Case) -> list[str]:
    """Not on a public holiday of the rule's scope, on the local date at `t` in the account's
    zone and in every `other_timezones` zone (docs/compliance.md: "The day is the debtor's local
    date, in the account's timezone and every other_timezones zone")."""
    scope = rule.get("scope")
    states = (c.policy_doc.get("compliance") or {}).get("state_holidays") or ()
    if c.account.jurisdiction and any(prefix_match(c.account.jurisdiction, p) for p in states):
        scope = "subdivision"          # the policy closes the state's own holidays as well
    for z in dict.fromkeys([c.zone, *(ZoneInfo(n) for n in c.account.other_timezones)]):
        day = local_date(c.t, z)
        why = holiday_kind(c.account.jurisdiction, day, scope)
        if why and not (why == "observed" and "holiday_observed" in c.skip):
            return [f"{rule['id']}: {c.kind} on {day}, a public holiday ({why}) in {c.account.jurisdiction}"]
    return []


@on_contacts
def check_frequency_cap(rule: dict, c: Case) -> list[str]:
    """Fewer than `max` counted events in (t - window, t]: the action is the next one."""
    n = cap_count(c.events, rule, c.t)
    if n >= int(rule["max"]):
        return [f"{rule['id']}: {c.kind} at {c.t.isoformat()} would be contact {n + 1} in "
                f"{rule['window_days']} days (max {rule['max']})"]
    return []


@on_contacts
def check_quiet_after_conversation(rule: dict, c: Case) -> list[str]:
    """Not before the local date `days` after any conversation on the rule's channels."""
    for e in c.events:
        if is_attempt(e) and e.outcome == "conversation" and e.channel in rule["channels"]:
            first_ok = local_date(e.at, c.zone) + timedelta(days=int(rule["days"]))
            if local_date(c.t, c.zone) < first_ok:
                return [f"{rule['id']}: {c.kind} on {local_date(c.t, c.zone)} after a conversation on "
                        f"{local_date(e.at, c.zone)} (allowed from {first_ok})"]
    return []


@on_contacts
def check_consent_required(rule: dict, c: Case) -> list[str]:
    """Once in force (local date at `t`), the channel only with consent given last."""
    eff = rule.get("effective_from")
    eff = date.fromisoformat(eff) if isinstance(eff, str) else eff
    in_force_now = eff is None or local_date(c.now, c.zone) >= eff
    if "consent_at_send" in c.skip and not in_force_now:
        return []
    if (eff is None or local_date(c.t, c.zone) >= eff) and not said_last(
            c.events, "consent_given", "consent_withdrawn", c.kind):
        return [f"{rule['id']}: {c.kind} on {local_date(c.t, c.zone)} without written consent"
                + ("" if in_force_now else f" (rule in force from {eff})")]
    return []


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, or that month's last day if it has none."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def breathing_space_repeat(account, events, now: datetime, policy_doc: dict, rule: dict):
    """(latest start, previous start, previous last day) when the breathing space in force
    began within `months` months of the end of the previous one; else None. Only standard
    breathing spaces count: a mental health crisis moratorium has no such limit.

    A breathing space lasts through its `until` date, else the 60th day after its start day
    (longer if an applicable breathing_space rule says so), and ends the day before a
    `breathing_space_ended` recorded after it. Same-instant events keep their recorded order.
    """
    zone = zone_of(account, policy_doc)
    ordered = sorted(((e.at, i, e) for i, e in enumerate(events) if e.at <= now), key=lambda x: x[:2])
    starts = [(at, i, e) for at, i, e in ordered if e.type == "breathing_space"]
    if len(starts) < 2:
        return None
    days = max([BREATHING_SPACE_DAYS] + [int(r["days"]) for r in
                                         applicable_rules(account, policy_doc, "breathing_space")])
    latest, previous = starts[-1], starts[-2]
    if any((at, i) > latest[:2] for at, i, e in ordered if e.type == "mental_health_crisis_moratorium"):
        return None                                   # a crisis moratorium (no limit) came after it
    ends = [(at, i) for at, i, e in ordered if e.type == "breathing_space_ended"]
    if any(at >= latest[0] for at, _i in ends):
        return None                                   # the latest one was ended (even at its instant)
    start_day = local_date(latest[0], zone)
    if local_date(now, zone) > (latest[2].until or start_day + timedelta(days=days)):
        return None                                   # the latest one is over
    prev_day = local_date(previous[0], zone)
    last_day = previous[2].until or prev_day + timedelta(days=days)
    between = [at for at, i in ends if previous[:2] < (at, i) < latest[:2]]
    if between:
        last_day = min(last_day, local_date(min(between), zone) - timedelta(days=1))
    if start_day > add_months(last_day, int(rule["months"])):
        return None
    return start_day, prev_day, last_day


def check_breathing_space_repeat(rule: dict, c: Case) -> list[str]:
    """The rule's trace line and the breathing-space suppression name a repeat (with its dates)
    exactly when there is one, and a repeat never lets an action through."""
    trace = getattr(c.decision, "trace", None)
    if trace is None:                                 # a probe, not a decision
        return []
    found = breathing_space_repeat(c.account, c.events, c.now, c.policy_doc, rule)
    line = next((t for t in trace if t.step == f"check {rule['id']}"), None)
    out = []
    if line is None:
        return [f"{rule['id']}: no trace line"]
    if found is None:
        if line.outcome != "clear":
            out.append(f"{rule['id']}: reads {line.outcome!r} without a repeat")
        return out
    dates = [d.isoformat() for d in found]
    if line.outcome != "check notice" or not all(d in line.detail for d in dates):
        out.append(f"{rule['id']}: reads {line.outcome!r} {line.detail!r}; expected a repeat {dates}")
    held = [s.reason for s in c.decision.suppressions if s.rule == "stop.breathing_space"]
    if not held or not all(d in held[0] for d in dates):
        out.append(f"{rule['id']}: the breathing-space suppression does not name the repeat {dates}")
    if c.decision.action is not None:
        out.append(f"{rule['id']}: a repeated breathing space let an action through")
    return out


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def wishes_in_force(events, day: date) -> dict | None:
    """The latest contact_preference event's wishes (as the API took them) if its `until` has
    not passed by local `day`; the engine's reading: the latest event replaces earlier ones."""
    prefs = [e for e in events if e.type == "contact_preference"]
    if not prefs:
        return None
    last = max(prefs, key=lambda e: e.at)
    if last.until is not None and day > last.until:
        return None
    return last.wishes.to_dict()


def check_debtor_wishes(rule: dict, c: Case) -> list[str]:
    """Universal: a debtor-facing action at `t` within the welcome hours and days, on a wished
    channel kind, and no call or SMS on a weekday before the working day ends; not while
    represented (the contact then goes to the representative)."""
    if c.decision.action is None or c.kind not in DEBTOR_FACING:
        return []
    if in_force_since(c.events, "represented", "representation_ended") is not None:
        return []
    w = wishes_in_force(c.events, local_date(c.now, c.zone))
    if not w:
        return []
    loc, out = c.t.astimezone(c.zone), []
    m = loc.hour * 60 + loc.minute
    if "hours" in w and not minutes(w["hours"]["start"]) <= m < minutes(w["hours"]["end"]):
        out.append(f"debtor.wishes: {c.kind} at {loc.isoformat()} outside the welcome hours {w['hours']}")
    if "days" in w and _WEEKDAYS[loc.weekday()] not in w["days"]:
        out.append(f"debtor.wishes: {c.kind} on a {_WEEKDAYS[loc.weekday()]}, not among {w['days']}")
    if "channels" in w and c.kind not in w["channels"]:
        out.append(f"debtor.wishes: {c.kind}, not among the wished channels {w['channels']}")
    if w.get("no_contact_at_work") and c.kind in ("call", "sms") and loc.weekday() < 5 \
            and m < minutes(w["working_hours"]["end"]):
        out.append(f"debtor.wishes: {c.kind} at {loc.isoformat()}, before the working day ends")
    return out


# How this oracle checks each rule kind the engine knows: a function of (rule, Case)
# returning violations, or why no check of the decision's action is needed. Every kind
# in the engine's registry must have an entry (tests/test_rule_kinds.py), so a new kind
# cannot arrive without an independent check or a stated reason.
KIND_CHECKS = {
    "frequency_cap": check_frequency_cap,
    "quiet_after_conversation": check_quiet_after_conversation,
    "contact_window": check_contact_window,
    "public_holidays": check_public_holidays,
    "consent_required": check_consent_required,
    "time_bar": check_time_bar,
    "represented": "checked as the universal stop.represented, which applies in every jurisdiction",
    "cease_communication": ("checked with the universal stop.cease_communication: only what an "
                            "applicable cease rule allows (action and channel)"),
    "breathing_space": "checked as the universal stop.breathing_space (60 days, the shipped figure)",
    "hardship_pause": "lengthens a pause of the policy's own; the oracle checks legal limits only",
    "validation_notice": ("content flags and the overdue bar on calls: scenario tests "
                          "(tests/test_guardrails.py)"),
    "required_content": "a content flag on the message, not a limit on the action: scenario tests",
    "statutory_compensation": "reported in the trace only; restricts nothing",
    "statutory_interest": "reported in the trace only; restricts nothing",
    "payment_terms": "reported in the trace only; restricts nothing",
    "breathing_space_repeat": check_breathing_space_repeat,
    "debtor_wishes": check_debtor_wishes,
}


def violations(account, events, now: datetime, decision, policy_doc: dict,
               skip: frozenset | set = frozenset()) -> list[str]:
    """Every rule the decision breaks, as `rule id: reason` strings ([] if none): its action
    (if it has one) against every limit, and, for kinds that explain, what it says.

    `skip` names checks to leave out (a known engine bug tested on its own):
    `time_bar_at_send`: the time bar on the local date at `not_before` (not only at `now`);
    `consent_at_send`: a consent rule that comes into force between `now` and `not_before`;
    `holiday_observed`: a national holiday on the day the debtor's state observes it.
    """
    events = [e for e in events if e.at <= now]
    c = Case(account, events, now, decision, policy_doc, skip)
    out = []
    if decision.action is not None:
        out += _action_violations(c)
    # The debtor's own wishes bind every account, whatever its profiles.
    out += check_debtor_wishes({"id": "debtor.wishes"}, c)
    # The profiles' rules, each by its kind's check.
    for rule in applicable_rules(account, policy_doc):
        if rule["kind"] == "debtor_wishes":
            continue           # checked above, once
        check = KIND_CHECKS[rule["kind"]]
        if callable(check):
            out += check(rule, c)
    return out


def _action_violations(c: Case) -> list[str]:
    """The universal stop states, opt-outs and reachability, for the decision's action."""
    account, events, now, policy_doc = c.account, c.events, c.now, c.policy_doc
    t, kind, what, zone = c.t, c.kind, c.what, c.zone
    out = []
    if t < now:
        out.append(f"oracle.not_before: {t} is before the evaluation instant {now}")

    # Stop states.
    if _last(events, "deceased") is not None:
        out.append("stop.deceased: an action for a deceased debtor")
    day_t = local_date(t, zone)
    if in_force_since(events, "bankruptcy", "bankruptcy_ended") is not None and not until_passed(
            events, "bankruptcy", day_t):
        out.append("stop.bankruptcy: an action during bankruptcy")
    represented = in_force_since(events, "represented", "representation_ended") is not None and \
        not until_passed(events, "represented", day_t)
    if represented:
        out += _represented_violations(c)
    # The latest moratorium of either kind is the one in force (same instant: neither is checked).
    last_std, last_mh = _last(events, "breathing_space"), _last(events, "mental_health_crisis_moratorium")
    bs = in_force_since(events, "breathing_space", "breathing_space_ended")
    if last_mh is not None and (last_std is None or last_std <= last_mh):
        bs = None
    if bs is not None and not until_passed(events, "breathing_space", day_t):
        elapsed = (local_date(t, zone) - local_date(bs, zone)).days
        if elapsed < BREATHING_SPACE_DAYS or local_date(now, zone) <= local_date(bs, zone) + timedelta(
                days=BREATHING_SPACE_DAYS - 1):
            out.append(f"stop.breathing_space: action at day {elapsed + 1} of a breathing space "
                       f"that started {bs.isoformat()}")
    mh = in_force_since(events, "mental_health_crisis_moratorium", "breathing_space_ended")
    if mh is not None and (last_std is None or last_std < mh) and not until_passed(
            events, "mental_health_crisis_moratorium", day_t):
        # it lasts while the crisis treatment does, and 30 days after the day it ended
        treated = sorted((e for e in events if e.type == "crisis_treatment_ended" and e.at >= mh),
                         key=lambda e: e.at)
        last_day = None
        if treated and all(e.until is None for e in events
                           if e.type == "mental_health_crisis_moratorium" and e.at == mh):
            last_day = (treated[0].until or local_date(treated[0].at, zone)) + timedelta(days=30)
        if last_day is None or day_t <= last_day:
            out.append(f"stop.breathing_space: action during a mental health crisis moratorium that "
                       f"started {mh.isoformat()}")
    if _last(events, "cease_communication") is not None:
        allowed = any(what in r.get("allowed_actions", ()) and kind in r.get("channels", ())
                      for r in applicable_rules(account, policy_doc, "cease_communication"))
        if not allowed:
            out.append(f"stop.cease_communication: {what} by {kind} after a request to stop communicating")
    if represented:
        return out          # the debtor's own opt-outs and addresses play no part
    if said_last(events, "channel_opt_out", "channel_opt_in", kind):
        out.append(f"opt_out: {kind} after the debtor opted out of it")
    if not reachable(account, kind):
        out.append(f"unreachable: {kind} without the contact details for it")
    return out


def _represented_violations(c: Case) -> list[str]:
    """While represented: only internal channels, or, when the policy routes representation, the
    representative (named on the latest represented event) on a channel kind their details reach."""
    kind, action = c.kind, c.decision.action
    if kind in ("webhook", "task"):
        return []
    if "representation" not in c.policy_doc:
        return ["stop.represented: direct action while the debtor is represented"]
    last = max((e for e in c.events if e.type == "represented"), key=lambda e: e.at)
    rep = last.representative.to_dict() if last.representative is not None else {}
    kinds = {k for k, field in (("email", "email"), ("call", "phone"), ("letter", "address")) if rep.get(field)}
    recipient = getattr(action, "recipient", None) or {}
    if recipient.get("role") != "representative" or recipient.get("representative") != rep:
        return [f"stop.represented: {kind} not addressed to the representative {rep or '(none named)'}"]
    if kind not in kinds:
        return [f"stop.represented: {kind}, which the representative's details ({sorted(kinds)}) do not reach"]
    return []


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
