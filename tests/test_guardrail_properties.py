"""Property-based tests: no decision ever breaks a guardrail of a shipped profile, and no
decision fails to act when it should.

Hypothesis generates accounts across jurisdictions (US-MA, US-NY-NYC, US-CA, US-TX, AU-NSW,
AU-VIC, AU-NT, GB-ENG, GB-SCT, FR, DE, none), their time zones (sometimes a second one),
contact details with gaps, invoices from ten years old to not yet due, dense contact
histories on every channel, conversations, stop states, pauses (promises, holds, hardship,
plans, breathing spaces, many just over), validation notices and consents, and evaluation
instants anywhere in 2025-2027 (DST change days and public holidays included). A quarter of
the cases are "pressured": a due step whose preferred channel one rule holds back (see
TARGETS). Every decision is judged by the independent oracle, which knows nothing of the
engine's vectorised code: safety (`tests/oracle.py`: no action breaks a rule), liveness
(`tests/oracle_liveness.py`: a permitted step is taken, a required one is not skipped,
pauses end) and offers and fees (`tests/oracle_offers.py`). A second property simulates an
account forward, delivering each action when it falls due, and judges every decision on the
way.

Each property counts the cases it ran (module-level `CASES`) and asserts the count; the last
test asserts that every checked rule decided an action's channel or time in some case, per
rule id. Run with `-s` to see the counts.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arrears.engine import Account, Event, decide, load_policy
from tests import oracle
from tests.oracle_liveness import earned_step, forbidding, missed_step, pause_violations, skipped_required
from tests.oracle_offers import offer_fee_violations
from tests.profiles import derandomize, examples

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
UTC = timezone.utc
DAY = 86400

# ---- policies ------------------------------------------------------------------------------------

DEFAULT_TEXT = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
FDCPA_TEXT = DEFAULT_TEXT.replace("fdcpa_applies: false", "fdcpa_applies: true")
assert FDCPA_TEXT != DEFAULT_TEXT


def _aggressive_text() -> str:
    """FDCPA on, every stage repeats daily on every debtor-facing channel: caps must do the work."""
    doc = yaml.safe_load(FDCPA_TEXT)
    for stage in doc["escalation"]["stages"]:
        stage["min_days_since_previous"] = 0
        stage.pop("when", None)
        if stage["action"] in ("reminder", "notice", "call"):
            stage["channels"] = ["call", "sms", "email", "letter"]
            stage["max_attempts"] = 30
            stage["repeat_every_days"] = 1
    doc["metadata"]["name"] = "aggressive"
    # No representation section: its represented debtors are held (stop.represented), while the
    # other two policies route them to the representative or a review task; both get generated.
    doc.pop("representation", None)
    return yaml.safe_dump(doc, sort_keys=False)


POLICY_TEXTS = {"default": DEFAULT_TEXT, "fdcpa": FDCPA_TEXT, "aggressive": _aggressive_text()}
POLICIES = {name: (load_policy(text, filename=f"{name}.yaml"), yaml.safe_load(text))
            for name, text in POLICY_TEXTS.items()}
STAGE_IDS = [s["id"] for s in POLICIES["default"][1]["escalation"]["stages"]]

# ---- counters ------------------------------------------------------------------------------------

CASES: Counter = Counter()        # (test, policy) -> generated cases run
COVERAGE: Counter = Counter()     # what the oracle actually had to check

# ---- strategies ----------------------------------------------------------------------------------

JURISDICTIONS = {
    "US-MA": ("USD", ["America/New_York"]),
    "US-NY-NYC": ("USD", ["America/New_York"]),
    "US-CA": ("USD", ["America/Los_Angeles"]),
    "US-TX": ("USD", ["America/Chicago", "America/Denver"]),
    "AU-NSW": ("AUD", ["Australia/Sydney", "Australia/Broken_Hill"]),
    "AU-VIC": ("AUD", ["Australia/Melbourne"]),
    "AU-NT": ("AUD", ["Australia/Darwin"]),
    "GB-ENG": ("GBP", ["Europe/London"]),
    "GB-SCT": ("GBP", ["Europe/London"]),
    "FR": ("EUR", ["Europe/Paris"]),
    "DE": ("EUR", ["Europe/Berlin"]),
    None: ("EUR", ["Europe/London", "UTC", "Asia/Tokyo", None]),
}
NEARBY = {
    "US": ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
           "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"],
    "AU": ["Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide", "Australia/Perth",
           "Australia/Lord_Howe", "Australia/Darwin", "Pacific/Auckland"],
    "EU": ["Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Berlin", "Europe/Helsinki",
           "Atlantic/Canary", "Asia/Kolkata"],
}
# Days worth probing: DST changes (US, AU, EU), Australia Day, Christmas, Boxing Day,
# Thanksgiving, New Year, Easter Monday, Melbourne Cup, and the NYC consent rule's start.
SPECIAL_DAYS = [date.fromisoformat(d) for d in (
    "2025-03-09 2025-11-02 2026-03-08 2026-11-01 2027-03-14 2027-11-07 "
    "2025-04-06 2025-10-05 2026-04-05 2026-10-04 2027-04-04 2027-10-03 "
    "2025-03-30 2025-10-26 2026-03-29 2026-10-25 2027-03-28 2027-10-31 "
    "2025-01-26 2025-01-27 2026-01-26 2027-01-26 2025-12-25 2026-12-25 2027-12-25 "
    "2025-12-26 2026-12-26 2027-12-27 2025-11-27 2026-11-26 2027-11-25 2026-01-01 2027-01-01 "
    "2025-04-21 2026-04-06 2027-03-29 2025-11-04 2026-11-03 2026-06-08 2026-05-04 2026-08-03 "
    "2026-08-31 2026-09-01").split()]
# US and AU carry most of the rules: draw them more often.
JURISDICTION_DRAW = [j for j in JURISDICTIONS for _ in range(2 if j and j[:2] in ("US", "AU") else 1)]
T0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
T1 = int(datetime(2027, 12, 31, 23, 59, tzinfo=UTC).timestamp())
CONTACT_KINDS = ["call", "call", "sms", "email", "letter", "webhook", "task"]
OUTCOMES = ["queued", "sent", "delivered", "failed", "no_answer", "voicemail", "busy", "conversation",
            "wrong_party", "refused", "returned"]
STOP_KINDS = ["deceased", "bankruptcy", "bankruptcy+", "represented", "represented+",
                      "breathing_space", "breathing_space+", "cease_communication"]
STOPS = [None] * 20 + STOP_KINDS            # about one case in four is in a stop state
RARE_STOPS = [None] * 60 + STOP_KINDS       # simulations: stop states would idle all 30 steps


def _clip(t: int) -> int:
    return min(max(t, T0), T1)


nows = st.one_of(
    st.integers(T0 // 60, T1 // 60).map(lambda m: m * 60),
    st.tuples(st.sampled_from(SPECIAL_DAYS), st.integers(-36 * 60, 36 * 60)).map(
        lambda dm: _clip(int(datetime(dm[0].year, dm[0].month, dm[0].day, tzinfo=UTC).timestamp())
                         + dm[1] * 60)),
)


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


@st.composite
def accounts(draw, now: int) -> dict:
    juris = draw(st.sampled_from(JURISDICTION_DRAW))
    currency, zones = JURISDICTIONS[juris]
    tz = draw(st.sampled_from(zones))
    region = (juris or "EU").split("-")[0]
    others = draw(st.one_of(
        st.just([]), st.just([]),
        st.lists(st.sampled_from(NEARBY.get(region, NEARBY["EU"])), max_size=2),
        st.lists(st.sampled_from(sum(NEARBY.values(), [])), max_size=1)))
    contact = {k: v for k, v in (("email", "d@example.com"), ("phone", "+15550100"),
                                 ("mobile", "+15550101"), ("address", "1 Main St"))
               if draw(st.integers(0, 4)) > 0}
    contact["preferred_channels"] = draw(st.one_of(st.just([]), st.lists(
        st.sampled_from(["email", "sms", "letter", "call"]), unique=True, max_size=4)))
    today = datetime.fromtimestamp(now, UTC).date()
    recent = st.integers(-30, 120)
    ages = st.one_of(recent, recent, recent, st.integers(-30, 3650),
                     st.sampled_from([1095, 1825, 2190]).flatmap(lambda d: st.integers(d - 20, d + 20)))
    invoices = [{"id": f"I{i}", "amount": draw(st.sampled_from(["20.00", "80.00", "350.00", "900.00",
                                                                 "4999.99", "25000.00"])),
                 "due_date": (today - timedelta(days=draw(ages))).isoformat()}
                for i in range(draw(st.integers(1, 3)))]
    data = {"id": "A1", "currency": currency, "jurisdiction": juris, "timezone": tz,
            "debtor_type": draw(st.sampled_from(["consumer", "consumer", "business"])),
            "contact": contact, "invoices": invoices}
    if others:
        data["other_timezones"] = others
    if draw(st.booleans()):
        data["debtor_id"] = "D1"
    for key, values in (("risk_score", [0.1, 0.5, 0.9]), ("on_time_ratio", [0.5, 0.99]),
                        ("relationship_tier", ["standard", "key"])):
        if draw(st.booleans()):
            data[key] = draw(st.sampled_from(values))
    return data


@st.composite
def histories(draw, now: int, invoice_ids: list[str], stops=STOPS) -> list[dict]:
    evs = []
    # How far the escalation got: contacts are tagged with stages up to that one.
    progress = draw(st.integers(0, len(STAGE_IDS)))
    stage = st.one_of(st.none(), st.sampled_from(STAGE_IDS[:progress])) if progress else st.none()
    # Contacts over the last 40 days (often concentrated in the last week or so).
    span = draw(st.sampled_from([8, 15, 40])) * DAY
    for _ in range(draw(st.integers(0, 20))):
        kind = draw(st.sampled_from(["contact_attempt", "contact_attempt", "contact_outcome"]))
        evs.append({"type": kind, "at": now - draw(st.integers(0, span)),
                    "channel": draw(st.sampled_from(CONTACT_KINDS)), "outcome": draw(st.sampled_from(OUTCOMES)),
                    "stage": draw(stage)})
    # A burst of calls in the last week: up to ~15, so the call caps bite; sometimes all of
    # them about to age out of the 7-day window, so a cap lifts within hours.
    lo, hi = draw(st.sampled_from([(0, 7 * DAY), (0, 7 * DAY), (6 * DAY, 7 * DAY), (5 * DAY, 7 * DAY + 7200)]))
    for _ in range(draw(st.sampled_from([0, 0, 2, 3, 7, 8, 15]))):
        kind = draw(st.sampled_from(["contact_attempt", "contact_outcome"]))
        evs.append({"type": kind, "at": now - draw(st.integers(lo, hi)), "channel": draw(st.sampled_from(
                        ["call", "call", "call", "sms"])),
                    "outcome": draw(st.sampled_from(["no_answer", "voicemail", "busy", "conversation",
                                                     "no_answer", "queued"])),
                    "stage": draw(stage)})
    stop = draw(st.sampled_from(stops))
    if stop:
        name = stop.rstrip("+")
        start = now - draw(st.integers(0, 120 * DAY))
        evs.append({"type": name, "at": start})
        if stop.endswith("+"):
            end = {"bankruptcy": "bankruptcy_ended", "represented": "representation_ended",
                   "breathing_space": "breathing_space_ended"}[name]
            evs.append({"type": end, "at": draw(st.integers(start + 60, now))} if start + 60 <= now
                       else {"type": end, "at": now})
    for _ in range(draw(st.integers(0, 4))):
        etype = draw(st.sampled_from(["validation_notice_sent", "consent_given", "consent_given",
                                      "consent_given", "consent_withdrawn", "channel_opt_out",
                                      "channel_opt_in", "dispute_opened", "dispute_resolved", "payment",
                                      "payment", "note", "note"]))
        e = {"type": etype, "at": now - draw(st.integers(0, 120 * DAY))}
        if etype.startswith("consent"):
            e["channel"] = draw(st.sampled_from(["email", "sms"]))
        elif etype.startswith("channel_opt"):
            e["channel"] = draw(st.sampled_from(["email", "sms", "call", "letter"]))
        elif etype.startswith("dispute"):
            e["invoice_id"] = draw(st.one_of(st.none(), st.sampled_from(invoice_ids)))
        elif etype == "payment":
            e["amount"] = draw(st.sampled_from(["10.00", "80.00", "900.00"]))
            e["invoice_id"] = draw(st.one_of(st.none(), st.sampled_from(invoice_ids)))
        evs.append(e)
    if draw(st.integers(0, 2)) > 0:     # US collectors send one (else Reg F bars calls after 5 days)
        evs.append({"type": "validation_notice_sent", "at": now - draw(st.integers(0, 60 * DAY))})
    evs += draw(pauses(now))
    return sorted(evs, key=lambda e: e["at"])


PAUSE_KINDS = [None] * 6 + ["promise_to_pay", "promise_to_pay", "hold", "hardship", "payment_plan",
                            "breathing_space"]


@st.composite
def pauses(draw, now: int) -> list[dict]:
    """Sometimes a pause: a promise, hold, hardship, plan or breathing space begun up to 100
    days ago, often with an end date or a closing event, so that many have just ended."""
    kind = draw(st.sampled_from(PAUSE_KINDS))
    if kind is None:
        return []
    start = now - draw(st.integers(0, 100 * DAY))
    day = datetime.fromtimestamp(start, UTC).date()
    e = {"type": kind, "at": start}
    length = draw(st.integers(-2, 70))
    if kind == "promise_to_pay":
        e.update(amount=draw(st.sampled_from(["50.00", "900.00"])),
                 until=(day + timedelta(days=length)).isoformat())
    elif kind == "payment_plan":
        e["instalments"] = [{"due_date": (day + timedelta(days=length + 30 * k)).isoformat(),
                             "amount": "100.00"} for k in range(3)]
    elif draw(st.booleans()):
        e["until"] = (day + timedelta(days=length)).isoformat()
    out = [e]
    if kind == "breathing_space" and draw(st.booleans()):       # a repeat within 12 months, or not
        out.append({"type": "breathing_space", "at": start - draw(st.integers(60, 500)) * DAY})
    closing = {"hold": "hold_released", "hardship": "hardship_ended",
               "payment_plan": "payment_plan_cancelled", "breathing_space": "breathing_space_ended",
               "promise_to_pay": "payment"}[kind]
    if draw(st.integers(0, 3)) == 0 and start < now:
        out.append({"type": closing, "at": draw(st.integers(start + 1, now))})
        if closing == "payment":
            out[-1]["amount"] = "900.00"
    return out


@st.composite
def scenarios(draw, stops=STOPS) -> SimpleNamespace:
    if draw(st.integers(0, 3)) == 0:
        return draw(pressured())
    now = draw(nows)
    acc = draw(accounts(now))
    evs = draw(histories(now, [i["id"] for i in acc["invoices"]], stops))
    return SimpleNamespace(now=now, account=acc, events=evs)


# ---- pressured scenarios: a due step whose preferred channel a rule holds back --------------------------
#
# Each target makes one rule decide the action's channel or time: the debtor prefers a channel
# the rule covers, a stage with that channel is due, and the rule holds it back by a little
# (deferred: a window opening, a cap lifting within hours, a holiday ending) or by a lot (moved
# to another channel: a cap full for days, a quiet period, no consent).

AU_HOLIDAYS = [date.fromisoformat(d) for d in (
    "2025-01-01 2025-04-18 2025-04-21 2025-04-25 2026-01-01 2026-01-26 2026-04-03 2026-04-06 "
    "2027-01-01 2027-01-26 2027-03-26 2027-03-29").split()]

# target: (jurisdictions, preferred channels, local hours of `now`, stage, what holds it back);
# a time bar holds back the legal stages, and the write-off review goes out instead.
TARGETS = {
    "us-regf.call-7-in-7": (["US-CA", "US-TX"], ["call"], (10, 15), "call", "calls-7"),
    "us-regf.call-after-conversation": (["US-CA", "US-TX"], ["call"], (10, 15), "call", "conversation"),
    "us-regf.inconvenient-time": (["US-CA", "US-TX"], ["email"], (4, 8), "reminder", None),
    "us-ma.calls-2-in-7": (["US-MA"], ["sms"], (10, 15), "reminder", "calls-2"),
    "us-ma.hours": (["US-MA"], ["sms"], (4, 8), "reminder", None),
    "us-nyc.contacts-3-in-7": (["US-NY-NYC"], ["letter"], (10, 15), "reminder", "letters-3"),
    "us-nyc.electronic-consent": (["US-NY-NYC"], ["email"], (10, 15), "reminder", None),
    "us-nyc.hours": (["US-NY-NYC"], ["sms"], (4, 8), "reminder", None),
    "au.contacts-3-per-week": (["AU-NSW", "AU-VIC"], ["letter"], (10, 15), "reminder", "letters-3"),
    "au.contacts-10-per-month": (["AU-NSW", "AU-NT"], ["letter"], (10, 15), "reminder", "letters-10"),
    "au.phone-hours": (["AU-VIC", "AU-NT"], ["sms"], (4, 7), "reminder", None),
    "au.email-hours": (["AU-NSW", "AU-VIC"], ["email"], (4, 7), "reminder", None),
    "au.public-holidays": (["AU-NSW", "AU-VIC", "AU-NT"], ["letter"], (10, 15), "reminder", "holiday"),
    "uk.reasonable-hours": (["GB-ENG", "GB-SCT"], ["email", "sms"], (4, 8), "reminder", None),
    "uk.time-barred": (["GB-ENG", "GB-SCT"], [], (10, 15), "write_off", None),
    "au.time-barred": (["AU-NSW", "AU-NT"], [], (10, 15), "write_off", None),
    "us-fdcpa.time-barred": (["US-CA", "US-TX"], [], (10, 15), "write_off", None),
    "us-limitations.time-barred": (["US-MA", "US-NY-NYC"], [], (10, 15), "write_off", None),
}


def _at_local(day: date, minute: int, tz: str) -> int:
    return int(datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ZoneInfo(tz)).timestamp())


PRESSURES = {"calls-7": (7, 7, "call"), "calls-2": (2, 7, "call"), "letters-3": (3, 7, "letter"),
             "letters-10": (10, 31, "letter")}   # counted contacts, their window (days), channel


def pressure_case(target: str, juris: str, day: date, minute: int, dpd: int, lift_hours: int,
                  spread: list[float], quiet_days: int) -> SimpleNamespace:
    """One pressured case: `now` at `minute` past local midnight of `day`; the invoice `dpd`
    days past due; the rule's pressure lifts `lift_hours` after `now` (its counted contacts
    placed by `spread`, fractions of the window); a conversation `quiet_days` ago."""
    _j, preferred, _hours, stage, pressure = TARGETS[target]
    currency, zones = JURISDICTIONS[juris]
    tz = zones[0]
    now = _at_local(day, minute, tz)
    account = {"id": "A1", "currency": currency, "jurisdiction": juris, "timezone": tz,
               "debtor_type": "consumer",
               "contact": {"email": "d@example.com", "phone": "+15550100", "mobile": "+15550101",
                           "address": "1 Main St", "preferred_channels": preferred},
               "invoices": [{"id": "I0", "amount": "900.00",
                             "due_date": (day - timedelta(days=dpd)).isoformat()}]}
    evs = [{"type": "validation_notice_sent", "at": now - 20 * DAY}]
    if stage == "call":          # two firm reminders done: the personal call is next
        evs += [{"type": "contact_attempt", "at": now - k * DAY, "channel": "letter", "outcome": "sent",
                 "stage": "firm_reminder"} for k in (9, 8)]
    elif stage == "write_off":   # the formal notice done: the legal stages are barred, write-off is next
        evs.append({"type": "contact_attempt", "at": now - (31 + quiet_days) * DAY, "channel": "letter",
                    "outcome": "sent", "stage": "formal_notice"})
    if pressure in PRESSURES:
        n, window, kind = PRESSURES[pressure]
        oldest = now - window * DAY + lift_hours * 3600
        latest = now - 8 * DAY if pressure == "letters-10" else now - 3600
        times = [oldest] + [int(oldest + f * (latest - oldest)) for f in spread[:n - 1]]
        outcome = "no_answer" if kind == "call" else "sent"
        evs += [{"type": "contact_attempt", "at": t, "channel": kind, "outcome": outcome} for t in times]
    elif pressure == "conversation":
        evs.append({"type": "contact_outcome", "at": now - quiet_days * DAY, "channel": "call",
                    "outcome": "conversation"})
    return SimpleNamespace(now=now, account=account, events=sorted(evs, key=lambda e: e["at"]))


STAGE_DPD = {"reminder": (5, 13), "call": (31, 40), "write_off": (2300, 2400)}


@st.composite
def pressured(draw) -> SimpleNamespace:
    target = draw(st.sampled_from(sorted(TARGETS)))
    jurisdictions, _preferred, (h0, h1), stage, pressure = TARGETS[target]
    if pressure == "holiday":
        day = draw(st.sampled_from(AU_HOLIDAYS))
    elif target == "us-nyc.electronic-consent":
        day = date(2026, 9, 1) + timedelta(days=draw(st.integers(0, 480)))
    else:
        day = date(2025, 1, 2) + timedelta(days=draw(st.integers(0, 1080)))
    # a little (deferred: lifts in 1-5 hours) or a lot (moved: lifts in 2-6 days)
    hours = st.sampled_from([1, 2, 3, 5]) if draw(st.booleans()) else st.sampled_from([48, 96, 144])
    return pressure_case(target, draw(st.sampled_from(jurisdictions)), day,
                         draw(st.integers(h0 * 60, h1 * 60 - 1)), draw(st.integers(*STAGE_DPD[stage])),
                         draw(hours), draw(st.lists(st.floats(0, 1), min_size=9, max_size=9)),
                         draw(st.integers(1, 5)))


# Every target once held back a little and once a lot, in each of its jurisdictions, as
# explicit examples: the coverage assertion then does not hang on the search's luck.
SPREAD = [0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0]
PINNED = [pressure_case(target, juris, AU_HOLIDAYS[k] if TARGETS[target][4] == "holiday" else
                        date(2026, 9, 14) + timedelta(days=k), TARGETS[target][2][0] * 60 + 30,
                        STAGE_DPD[TARGETS[target][3]][0] + k, lift, SPREAD, k + 2)
          for target in sorted(TARGETS) for k, juris in enumerate(TARGETS[target][0]) for lift in (2, 96)]
# and a breathing space in England begun 200 days after the previous one began (flagged)
_NOW = _at_local(date(2026, 9, 14), 600, "Europe/London")
PINNED.append(SimpleNamespace(now=_NOW, account={
    "id": "A1", "currency": "GBP", "jurisdiction": "GB-ENG", "timezone": "Europe/London",
    "contact": {"address": "1 Main St"},
    "invoices": [{"id": "I0", "amount": "900.00", "due_date": "2026-06-01"}]},
    events=[{"type": "breathing_space", "at": _NOW - 200 * DAY},
            {"type": "breathing_space", "at": _NOW - 10 * DAY}]))
# and each hold, begun two days ago on an account whose friendly reminder is due
_HOLDS = {"deceased": {}, "bankruptcy": {}, "represented": {}, "breathing_space": {},
          "cease_communication": {}, "hold": {}, "hardship": {}, "dispute_opened": {},
          "promise_to_pay": {"amount": "900.00", "until": "2026-09-30"},
          "payment_plan": {"instalments": [{"due_date": "2026-10-01", "amount": "900.00"}]}}
PINNED += [SimpleNamespace(now=_NOW, account={**PINNED[-1].account, "jurisdiction": None}, events=[
    {"type": "contact_attempt", "at": _NOW - 20 * DAY, "channel": "letter", "outcome": "sent",
     "stage": "friendly_reminder"}, {"type": etype, "at": _NOW - 2 * DAY, **fields}])
    for etype, fields in _HOLDS.items()]


# ---- running and checking --------------------------------------------------------------------------

def build(acc: dict, evs: list[dict]):
    account = Account.from_dict(acc)
    events = [Event.from_dict({k: (_iso(v) if k == "at" else v) for k, v in e.items() if v is not None})
              for e in evs]
    return account, events


def reproducer(acc, evs, now) -> str:
    shown = [{k: (_iso(v) if k == "at" else v) for k, v in e.items() if v is not None} for e in evs]
    return f"account={acc!r}\nevents={shown!r}\nnow={_iso(now)!r}"


RULE_KINDS = {r["id"]: r["kind"] for p in oracle.profiles() for r in p["rules"]}


def tally(account, events, now, decision, policy_doc) -> None:
    """Record which rules decided the action (coverage, not checks).

    A rule *decided the action* when the decision has an action and names the rule in a
    suppression that deferred it ("deferred: ...") or moved it off the preferred channel
    ("...; moved to <channel>"), and the oracle agrees that the rule forbids a contact by
    that channel (deferred) or another one (moved) just before `not_before` or at `now`;
    a time bar decided it when the action came with the bar's suppression (a stage removed).
    """
    COVERAGE["decisions"] += 1
    a = decision.action
    nowdt = datetime.fromtimestamp(now, UTC)
    if a is None:
        COVERAGE["no action"] += 1
    else:
        COVERAGE[f"action by {a.channel_kind}"] += 1
        if a.not_before > nowdt:
            COVERAGE["action deferred"] += 1
        # an action the oracle would have demanded: without it, a "missed step"
        if earned_step(account, events, nowdt, policy_doc) is not None:
            COVERAGE["action owed (liveness)"] += 1
    for line in decision.trace:
        if line.outcome == "check notice":
            COVERAGE[f"noticed: {line.step.removeprefix('check ')}"] += 1
    for s in decision.suppressions:
        if s.rule.startswith(("stop.", "pause.")):
            COVERAGE[f"held: {s.rule}"] += 1
        if a is None or s.rule not in RULE_KINDS:
            continue
        if RULE_KINDS[s.rule] == "time_bar":
            COVERAGE[f"decided the action: {s.rule}"] += 1
            continue
        moved = "; moved to " in s.reason
        if not (moved or s.reason.startswith("deferred:")):
            continue
        kinds = [k for k in oracle.DEBTOR_FACING if k != a.channel_kind] if moved else [a.channel_kind]
        probes = (nowdt, a.not_before - timedelta(minutes=1))
        if any(v.startswith(s.rule + ":") for k in kinds for t in probes if t >= nowdt
               for v in forbidding(account, events, nowdt, policy_doc, k, a.type, t)):
            COVERAGE[f"decided the action: {s.rule}"] += 1
            COVERAGE[f"{'moved' if moved else 'deferred'} by {s.rule}"] += 1


def _fake(kind: str, at: datetime, type_: str = "call") -> SimpleNamespace:
    """A decision-like object with one action (for the oracle's sanity tests and probes)."""
    return SimpleNamespace(action=SimpleNamespace(channel_kind=kind, type=type_, not_before=at.astimezone(UTC)))


# Engine bugs the oracle found have their own regression properties below. The main
# properties leave exactly these checks out, so they keep guarding everything else.
KNOWN_BUGS = frozenset()   # all three found by these properties are fixed


JUDGES = (oracle.violations, missed_step, skipped_required, pause_violations, offer_fee_violations)


def judge(account, events, now: datetime, decision, policy_doc: dict, skip=KNOWN_BUGS) -> list[str]:
    """Everything the oracle finds wrong with a decision: safety (no action breaks a rule),
    liveness (a permitted step is taken, a required one not skipped, pauses end), offers, fees."""
    return (oracle.violations(account, events, now, decision, policy_doc, skip=skip)
            + [v for f in JUDGES[1:] for v in f(account, events, now, decision, policy_doc)])


def check(account, events, now: int, decision, pname: str, acc: dict, evs: list[dict],
          skip=KNOWN_BUGS) -> None:
    policy_doc = POLICIES[pname][1]
    tally(account, events, now, decision, policy_doc)
    found = judge(account, events, datetime.fromtimestamp(now, UTC), decision, policy_doc, skip=skip)
    assert not found, (f"policy {pname}: {decision.action}\n" + "\n".join(found) + "\n"
                       + reproducer(acc, evs, now))


# derandomize (the ci profile): the same cases every run, so the coverage assertion (every rule
# binds in some case) cannot flake; the regression properties still search around their examples.
# The deep profile draws new cases, ten times as many.
FAST = dict(deadline=None, print_blob=True, derandomize=derandomize(), database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                   HealthCheck.filter_too_much])


def _single(pname: str, max_examples: int):
    policy = POLICIES[pname][0]

    @settings(max_examples=max_examples, **FAST)
    @given(case=scenarios())
    def prop(case):
        CASES[("single", pname)] += 1
        account, events = build(case.account, case.events)
        d = decide(account, events, policy, datetime.fromtimestamp(case.now, UTC))
        check(account, events, case.now, d, pname, case.account, case.events)
    for case in PINNED:
        prop = example(case=case)(prop)
    return prop


SINGLE_EXAMPLES = {p: examples(n) for p, n in {"default": 400, "fdcpa": 600, "aggressive": 800}.items()}


@pytest.mark.parametrize("pname", list(POLICIES))
def test_no_decision_violates_a_guardrail(pname):
    before = CASES[("single", pname)]
    _single(pname, SINGLE_EXAMPLES[pname])()
    ran = CASES[("single", pname)] - before
    print(f"\n[single/{pname}] {ran} generated cases")
    assert ran >= SINGLE_EXAMPLES[pname]


def _deliver(action, at: int, call_outcome: str = "no_answer") -> list[dict]:
    """The contact a channel reports once it has carried out the action."""
    if action.channel_kind == "call":
        return [{"type": "contact_attempt", "at": at, "channel": "call", "outcome": "queued",
                 "stage": action.stage},
                {"type": "contact_outcome", "at": at, "channel": "call", "outcome": call_outcome}]
    return [{"type": "contact_attempt", "at": at, "channel": action.channel_kind, "outcome": "sent",
             "stage": action.stage}]


STEPS = 30


def _forward(pname: str, max_examples: int):
    policy = POLICIES[pname][0]

    @settings(max_examples=max_examples, **FAST)
    @given(case=scenarios(RARE_STOPS),
           gaps=st.lists(st.one_of(st.integers(60, 3 * 3600), st.integers(60, 36 * 3600)),
                         min_size=STEPS, max_size=STEPS),
           outcomes=st.lists(st.sampled_from(["no_answer"] * 4 + ["voicemail", "conversation"]),
                             min_size=STEPS, max_size=STEPS))
    def prop(case, gaps, outcomes):
        CASES[("forward", pname)] += 1
        acc, evs, t = case.account, list(case.events), case.now
        for step in range(STEPS):
            account, events = build(acc, evs)
            d = decide(account, events, policy, datetime.fromtimestamp(t, UTC))
            CASES[("forward steps", pname)] += 1
            check(account, events, t, d, pname, acc, evs)
            if d.action is None:
                t = max(int(d.next_evaluation_at.timestamp()), t + 60)
                continue
            nb = int(d.action.not_before.timestamp())
            if nb > t:
                t = nb                       # come back when it may go out
                continue
            COVERAGE["forward deliveries"] += 1
            evs = evs + _deliver(d.action, t, outcomes[step])
            t += gaps[step]
    return prop


FORWARD_EXAMPLES = {p: examples(n) for p, n in {"default": 25, "fdcpa": 40, "aggressive": 60}.items()}


@pytest.mark.parametrize("pname", list(POLICIES))
def test_simulated_forward_never_violates_a_guardrail(pname):
    before = CASES[("forward", pname)], CASES[("forward steps", pname)]
    _forward(pname, FORWARD_EXAMPLES[pname])()
    ran = CASES[("forward", pname)] - before[0]
    steps = CASES[("forward steps", pname)] - before[1]
    print(f"\n[forward/{pname}] {ran} generated cases, {steps} decisions checked")
    assert ran >= FORWARD_EXAMPLES[pname]
    assert steps >= ran * STEPS


# ---- regressions: the bugs these properties found, each from its minimal counterexample ---------------
#
# Each property runs the full oracle, starting from the minimal counterexample the search
# found (an explicit example), then searches around it.

def _at(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


TIME_BAR_COUNTEREXAMPLE = SimpleNamespace(
    # Melbourne consumer; the only invoice fell due 2019-01-18, so with the 2190-day AU
    # limitation period the debt is time-barred from 2025-01-16 (local). The formal notice went
    # out on 2025-01-02; legal_warning needs 14 days since the previous contact, i.e. 2025-01-16.
    now=_at("2025-01-06T10:00:00+11:00"),
    account={"id": "A1", "currency": "AUD", "jurisdiction": "AU-VIC", "timezone": "Australia/Melbourne",
             "contact": {"address": "1 Main St"},
             "invoices": [{"id": "I1", "amount": "900.00", "due_date": "2019-01-18"}]},
    events=[{"type": "contact_attempt", "at": _at("2025-01-02T10:00:00+11:00"), "channel": "letter",
             "outcome": "sent", "stage": "formal_notice"}])

CONSENT_COUNTEREXAMPLE = SimpleNamespace(
    # NYC consumer reachable by email only, no consent. On 2026-08-29 the NYC consent rule
    # (in force from 2026-09-01) is not yet in force, so the engine schedules the repeat of the
    # friendly reminder (every 7 days) by email for 2026-09-04, when it is.
    now=_at("2026-08-29T10:00:00-04:00"),
    account={"id": "A1", "currency": "USD", "jurisdiction": "US-NY-NYC", "timezone": "America/New_York",
             "contact": {"email": "d@example.com"},
             "invoices": [{"id": "I1", "amount": "900.00", "due_date": "2026-08-20"}]},
    events=[{"type": "contact_attempt", "at": _at("2026-08-28T10:00:00-04:00"), "channel": "email",
             "outcome": "sent", "stage": "friendly_reminder"}])


HOLIDAY_COUNTEREXAMPLE = SimpleNamespace(
    # Sydney consumer reachable by letter only. Australia Day 2025 fell on a Sunday; the
    # public holiday was Monday 27 January in every state. The friendly reminder goes out that day.
    now=_at("2025-01-27T10:00:00+11:00"),
    account={"id": "A1", "currency": "AUD", "jurisdiction": "AU-NSW", "timezone": "Australia/Sydney",
             "contact": {"address": "1 Main St"},
             "invoices": [{"id": "I1", "amount": "900.00", "due_date": "2025-01-20"}]},
    events=[])


def _bug_property(bug: str, counterexample, max_examples: int):
    policy = POLICIES["default"][0]

    @settings(max_examples=max_examples, **FAST)
    @given(case=scenarios())
    @example(case=counterexample)
    def prop(case):
        CASES[(bug, "default")] += 1
        account, events = build(case.account, case.events)
        d = decide(account, events, policy, datetime.fromtimestamp(case.now, UTC))
        check(account, events, case.now, d, "default", case.account, case.events, skip=KNOWN_BUGS - {bug})
    return prop


def test_no_legal_step_is_scheduled_for_a_time_barred_day():
    _bug_property("time_bar_at_send", TIME_BAR_COUNTEREXAMPLE, examples(200))()


def test_no_contact_on_a_national_holiday_observed_on_a_substitute_day():
    _bug_property("holiday_observed", HOLIDAY_COUNTEREXAMPLE, examples(200))()


def test_no_electronic_contact_is_scheduled_without_consent_once_required():
    _bug_property("consent_at_send", CONSENT_COUNTEREXAMPLE, examples(200))()


# ---- the oracle itself must catch violations --------------------------------------------------------

NY = ZoneInfo("America/New_York")


def _us(juris="US-CA", tz="America/New_York", **extra):
    data = {"id": "A1", "currency": "USD", "jurisdiction": juris, "timezone": tz, "debtor_type": "consumer",
            "contact": {"email": "d@example.com", "phone": "+15550100", "mobile": "+15550101",
                        "address": "1 Main St"},
            "invoices": [{"id": "I1", "amount": "900.00", "due_date": "2026-05-01"}]}
    data.update(extra)
    return Account.from_dict(data)


def _e(type_, at: datetime, **fields):
    return Event.from_dict({"type": type_, "at": at.astimezone(UTC).isoformat(), **fields})


FDCPA_DOC = POLICIES["fdcpa"][1]
DEFAULT_DOC = POLICIES["default"][1]


def test_oracle_flags_a_call_at_0759_new_york():
    at = datetime(2026, 11, 24, 7, 59, tzinfo=NY)
    found = oracle.violations(_us(), [], at - timedelta(hours=1), _fake("call", at), FDCPA_DOC)
    assert any(v.startswith("us-regf.inconvenient-time") for v in found), found
    # one minute later it is fine
    ok = at + timedelta(minutes=1)
    assert oracle.violations(_us(), [], at - timedelta(hours=1), _fake("call", ok), FDCPA_DOC) == []
    # and 21:00 itself is too late
    late = datetime(2026, 11, 24, 21, 0, tzinfo=NY)
    assert oracle.violations(_us(), [], at, _fake("call", late), FDCPA_DOC)


def test_oracle_flags_every_kind_of_violation():
    """One hand-made violation per check, each caught with its rule id."""
    now = datetime(2026, 11, 24, 12, 0, tzinfo=NY)
    ok = now + timedelta(minutes=5)
    calls = [_e("contact_outcome", now - timedelta(hours=10 * i + 1), channel="call", outcome="no_answer")
             for i in range(7)]
    cases = {
        "us-regf.call-7-in-7": (_us(), calls, _fake("call", ok), FDCPA_DOC),
        "us-regf.call-after-conversation": (
            _us(), [_e("contact_outcome", now - timedelta(days=6), channel="call", outcome="conversation")],
            _fake("call", ok), FDCPA_DOC),
        "us-ma.calls-2-in-7": (_us("US-MA"), calls[:2], _fake("sms", ok), DEFAULT_DOC),
        "us-nyc.contacts-3-in-7": (
            _us("US-NY-NYC"), [_e("contact_attempt", now - timedelta(days=i + 1), channel="letter",
                                  outcome="sent") for i in range(3)], _fake("letter", ok), DEFAULT_DOC),
        "us-nyc.electronic-consent": (_us("US-NY-NYC"), [], _fake("email", ok), DEFAULT_DOC),
        "us-regf.inconvenient-time": (_us(other_timezones=["America/Los_Angeles"]), [],
                                      _fake("call", datetime(2026, 11, 24, 10, 30, tzinfo=NY)), FDCPA_DOC),
        "au.public-holidays": (
            _us("AU-NSW", "Australia/Sydney"), [],
            _fake("letter", datetime(2027, 1, 26, 10, 0, tzinfo=ZoneInfo("Australia/Sydney"))), DEFAULT_DOC),
        "au.contacts-3-per-week": (
            _us("AU-VIC", "Australia/Melbourne"),
            [_e("contact_attempt", now - timedelta(days=i + 1), channel="email", outcome="delivered")
             for i in range(3)], _fake("letter", ok), DEFAULT_DOC),
        "stop.deceased": (_us(), [_e("deceased", now - timedelta(days=1))], _fake("letter", ok), DEFAULT_DOC),
        "stop.bankruptcy": (_us(), [_e("bankruptcy", now - timedelta(days=1))], _fake("letter", ok),
                            DEFAULT_DOC),
        "stop.represented": (_us(), [_e("represented", now - timedelta(days=1))], _fake("letter", ok),
                             DEFAULT_DOC),
        "stop.breathing_space": (_us("GB-ENG", "Europe/London"),
                                 [_e("breathing_space", now - timedelta(days=59))],
                                 _fake("letter", ok + timedelta(days=0)), DEFAULT_DOC),
        "stop.cease_communication": (_us(), [_e("cease_communication", now - timedelta(days=1))],
                                     _fake("letter", ok, "notice"), FDCPA_DOC),
        "opt_out": (_us(), [_e("channel_opt_out", now - timedelta(days=1), channel="letter")],
                    _fake("letter", ok), DEFAULT_DOC),
        "us-fdcpa.time-barred": (
            _us(invoices=[{"id": "I1", "amount": "900.00", "due_date": "2023-11-24"}]), [],
            _fake("letter", ok, "legal_warning"), FDCPA_DOC),
        "au.time-barred": (
            _us("AU-NT", "Australia/Darwin", invoices=[{"id": "I1", "amount": "9.00", "due_date": "2023-11-01"}]),
            [], _fake("task", ok, "refer_to_agency"), DEFAULT_DOC),
        "uk.time-barred": (
            _us("GB-SCT", "Europe/London", invoices=[{"id": "I1", "amount": "9.00", "due_date": "2021-11-01"}]),
            [], _fake("letter", ok, "legal_warning"), DEFAULT_DOC),
    }
    for rule, (account, events, decision, doc) in cases.items():
        found = oracle.violations(account, events, now, decision, doc)
        assert any(v.startswith(rule + ":") for v in found), (rule, found)
    # public holidays by scope: national on its date, national as the state observes it, state-only
    assert oracle.holiday_kind("AU-NSW", date(2026, 1, 26), "national") == "national"
    assert oracle.holiday_kind("AU-NSW", date(2025, 1, 27), "national") == "observed"
    assert oracle.holiday_kind("AU-VIC", date(2026, 11, 3), "national") is None          # Melbourne Cup
    assert oracle.holiday_kind("AU-VIC", date(2026, 11, 3), "subdivision") == "state"
    assert oracle.holiday_kind("AU-NT", date(2026, 8, 4), "national") is None
    found = oracle.violations(_us("AU-NSW", "Australia/Sydney"), [], datetime(2025, 1, 26, 20, 0, tzinfo=UTC),
                              _fake("letter", datetime(2025, 1, 27, 10, 0, tzinfo=ZoneInfo("Australia/Sydney"))),
                              DEFAULT_DOC)
    assert any(v.startswith("au.public-holidays:") for v in found), found
    # and the permitted counterparts pass
    assert oracle.violations(_us(), calls[:6], now, _fake("call", ok), FDCPA_DOC) == []
    assert oracle.violations(_us(), [_e("cease_communication", now - timedelta(days=1))], now,
                             _fake("letter", ok, "legal_warning"), FDCPA_DOC) == []
    assert oracle.violations(_us("GB-ENG", "Europe/London"), [_e("breathing_space", now - timedelta(days=70))],
                             now, _fake("letter", ok), DEFAULT_DOC) == []
    assert oracle.violations(_us("US-NY-NYC"), [_e("consent_given", now - timedelta(days=3), channel="email")],
                             now, _fake("email", ok), DEFAULT_DOC) == []
    assert oracle.violations(_us("AU-NSW", "Australia/Sydney"), [],
                             datetime(2027, 1, 25, 9, 0, tzinfo=UTC),
                             _fake("letter", datetime(2027, 1, 27, 10, 0, tzinfo=ZoneInfo("Australia/Sydney"))),
                             DEFAULT_DOC) == []


# ---- how many cases ran, and did they make every rule bind? -----------------------------------------

# The kinds the oracle checks are those with a check function in its KIND_CHECKS table.
# A checked rule must decide an action's channel or time in some generated case, except the
# kinds below, which by design never let an action through.
CHECKED_KINDS = tuple(k for k, check_ in oracle.KIND_CHECKS.items() if callable(check_))
NEVER_ON_AN_ACTION = {"breathing_space_repeat": "noticed"}
RULE_IDS = [r["id"] for p in oracle.profiles() for r in p["rules"]
            if r["kind"] in CHECKED_KINDS and r["kind"] not in NEVER_ON_AN_ACTION]
STOP_IDS = ["stop.deceased", "stop.bankruptcy", "stop.represented", "stop.breathing_space",
            "stop.cease_communication", "pause.hold", "pause.hardship", "pause.promise_to_pay",
            "pause.payment_plan", "pause.dispute"]
PROPERTY_RUNS = [(t, p) for t in ("single", "forward") for p in POLICIES]


def test_generated_cases_ran_and_made_every_rule_bind():
    """Runs last: the case counts; every checked rule decided an action's channel or time in some
    generated case (per rule id, counted on the action's channel); every hold held some case."""
    if not all(CASES[k] for k in PROPERTY_RUNS):
        pytest.skip("coverage is measured over the whole module's properties")
    total = sum(CASES[k] for k in PROPERTY_RUNS)
    print("\n[guardrail properties] generated cases:",
          {f"{t}/{p}": CASES[(t, p)] for t, p in PROPERTY_RUNS},
          f"total {total}; decisions checked {COVERAGE['decisions']}")
    for key in sorted(COVERAGE):
        print(f"  {COVERAGE[key]:6d}  {key}")
    assert total >= sum(SINGLE_EXAMPLES.values()) + sum(FORWARD_EXAMPLES.values())
    assert COVERAGE["decisions"] >= total
    # liveness has teeth: a good share of the actions were owed (an engine that never acts fails)
    assert COVERAGE["action owed (liveness)"] >= COVERAGE["decisions"] // 10
    missing = [rid for rid in RULE_IDS if not COVERAGE[f"decided the action: {rid}"]]
    assert not missing, f"no generated case had these rules decide an action's channel or time: {missing}"
    missing = [rid for rid in STOP_IDS if not COVERAGE[f"held: {rid}"]]
    assert not missing, f"no generated case was held by: {missing}"
    missing = [r["id"] for p in oracle.profiles() for r in p["rules"] if r["kind"] in NEVER_ON_AN_ACTION
               and not COVERAGE[f"{NEVER_ON_AN_ACTION[r['kind']]}: {r['id']}"]]
    assert not missing, f"no generated case made these rules speak: {missing}"
