"""Invariants that must hold for every input (hypothesis).

1. decide never crashes and is deterministic (same inputs, same bytes), under the default
   policy and under randomly perturbed, schema-valid policies;
2. a required stage is never skipped, simulating a debtor day by day and delivering every
   action that is due; on the way the independent oracle (tests/oracle_liveness.py) judges
   every decision for a missed step, a skipped required stage and a pause that does not end;
3. decide_batch over a batch equals decide per account;
4. next_evaluation_at is always after evaluated_at.
"""
from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from arrears.engine.decisions.core import decide, decide_batch
from arrears.engine.demo import generate
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.model import (
    CHANNEL_KINDS,
    CONTACT_OUTCOMES,
    EVENT_TYPES,
    Account,
    Contact,
    Event,
    Invoice,
)
from arrears.engine.policy.compiler import compile_policy
from arrears.engine.policy.validation import SCHEMA_DIR
from tests.core_factories import default_policy_doc
from tests.oracle_liveness import missed_step, pause_violations, skipped_required
from tests.profiles import examples

pytestmark = pytest.mark.slow

SCHEMA = json.loads((SCHEMA_DIR / "policy.schema.json").read_text(encoding="utf-8"))
DEFAULT_DOC = default_policy_doc()
DEFAULT = compile_policy(copy.deepcopy(DEFAULT_DOC))
DOCS = {DEFAULT.digest: DEFAULT_DOC}     # policy digest -> its document, for the oracle
STAGE_IDS = [s["id"] for s in DEFAULT_DOC["escalation"]["stages"]]
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Pacific/Apia", "America/Santiago",
         "Asia/Kolkata", "Pacific/Chatham", "UTC", None]
EXPONENT = {"EUR": 2, "JPY": 0, "BHD": 3}
T0 = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
T1 = int(datetime(2027, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp())
DAY = 86400
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                print_blob=False)


# ---- strategies: accounts and histories -------------------------------------------------------

def amounts(currency: str):
    exp = EXPONENT[currency]
    return st.one_of(
        st.integers(1, 9).map(lambda k: Decimal(k).scaleb(-exp)),                  # a few minor units
        st.integers(1, 10 ** 8).map(lambda k: Decimal(k).scaleb(-exp)),             # everyday
        st.integers(10 ** 8, 10 ** 10).map(Decimal),                                 # huge
    )


def instants(now: int, back_days=400, ahead_days=10):
    return st.integers(now - back_days * DAY, now + ahead_days * DAY).map(
        lambda t: datetime.fromtimestamp(t, timezone.utc))


@st.composite
def events(draw, now: int, currency: str, invoice_ids: list[str]):
    etype = draw(st.sampled_from(sorted(EVENT_TYPES)))
    today = datetime.fromtimestamp(now, timezone.utc).date()
    days = st.integers(-200, 120).map(lambda k: today + timedelta(days=k))
    fields = {}
    if etype in ("payment", "credit_note", "write_off", "promise_to_pay"):
        fields["amount"] = draw(amounts(currency))
    if etype in ("promise_to_pay",) or (etype in ("hold", "breathing_space", "hardship", "mental_health_crisis_moratorium",
                                              "crisis_treatment_ended") and draw(st.booleans())):
        fields["until"] = draw(days)
    if etype in ("contact_attempt", "contact_outcome", "channel_opt_out", "channel_opt_in"):
        fields["channel"] = draw(st.sampled_from(CHANNEL_KINDS))
    if etype in ("contact_attempt", "contact_outcome"):
        fields["outcome"] = draw(st.sampled_from(CONTACT_OUTCOMES))
        fields["stage"] = draw(st.one_of(st.none(), st.sampled_from(STAGE_IDS + ["retired_stage"])))
    if etype in ("payment", "credit_note", "write_off", "dispute_opened", "dispute_resolved") and invoice_ids:
        fields["invoice_id"] = draw(st.one_of(st.none(), st.sampled_from(invoice_ids + ["ZZZ"])))
    if etype == "payment_plan":
        fields["instalments"] = tuple(sorted(draw(st.lists(st.tuples(days, amounts(currency)),
                                                           min_size=1, max_size=4))))
    return Event(etype, draw(instants(now)), **fields)


@st.composite
def accounts(draw, now: int, ident: str = "A"):
    currency = draw(st.sampled_from(sorted(EXPONENT)))
    today = datetime.fromtimestamp(now, timezone.utc).date()
    n_inv = draw(st.integers(0, 4))
    invoices = tuple(
        Invoice(f"I{k}", draw(st.one_of(st.just(Decimal(0)), amounts(currency))),
                today + timedelta(days=draw(st.integers(-400, 60))))
        for k in range(n_inv))
    has = draw(st.fixed_dictionaries({k: st.booleans() for k in ("email", "phone", "mobile", "address")}))
    contact = Contact(email="e@x.test" if has["email"] else None, phone="+1" if has["phone"] else None,
                      mobile="+2" if has["mobile"] else None, address="1 St" if has["address"] else None,
                      preferred_channels=tuple(draw(st.lists(st.sampled_from(CHANNEL_KINDS), max_size=2))))
    account = Account(
        id=ident, currency=currency, invoices=invoices,
        debtor_type=draw(st.sampled_from(["consumer", "business"])),
        jurisdiction=draw(st.sampled_from([None, "GB-ENG", "US-NY", "FR"])),
        timezone=draw(st.sampled_from(ZONES)),
        language=draw(st.sampled_from([None, "en", "fr", "de", "ja"])),
        tags=frozenset(draw(st.lists(st.sampled_from(["vip", "x"]), max_size=2))),
        risk_score=draw(st.one_of(st.none(), st.floats(0, 1))),
        on_time_ratio=draw(st.one_of(st.none(), st.floats(0, 1))),
        relationship_tier=draw(st.sampled_from([None, "standard", "key", "strategic", "other"])),
        contact=contact,
        account_manager=draw(st.sampled_from([None, "mia"])),
    )
    history = draw(st.lists(events(now, currency, [i.id for i in invoices]), max_size=12))
    return account, history


nows = st.integers(T0, T1)


# ---- strategies: perturbed, schema-valid policies -------------------------------------------------

def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


VALIDATOR = Draft202012Validator(SCHEMA)


@st.composite
def policies(draw):
    doc = copy.deepcopy(DEFAULT_DOC)
    stages = doc["escalation"]["stages"]
    threshold = draw(st.integers(-10, 5))
    for i, stage in enumerate(stages):
        if i:
            threshold += draw(st.integers(0, 40))
        stage["days_past_due"] = threshold           # stages stay in escalation order
        # formal_notice stays required: the legal stages after it need that gate
        stage["required"] = True if stage["id"] == "formal_notice" else draw(st.booleans())
        stage["max_attempts"] = draw(st.integers(1, 4))
        repeat = draw(st.one_of(st.none(), st.integers(1, 14)))
        if repeat is None:
            stage.pop("repeat_every_days", None)
        else:
            stage["repeat_every_days"] = repeat
        stage["min_days_since_previous"] = draw(st.integers(0, 20))
    doc["grace"] = {"default_days": draw(st.integers(0, 10)),
                    "segments": {"vip": draw(st.integers(0, 20)), "business": draw(st.integers(0, 20))},
                    "hardship_extension_days": draw(st.integers(0, 60))}
    factors = doc["priority"]["factors"]
    for name in factors:
        factors[name]["weight"] = draw(st.integers(-20, 50))
    factors["balance"]["weight"] = draw(st.integers(1, 50))    # at least one positive weight
    pauses = doc["pauses"]
    pauses["dispute"]["scope"] = draw(st.sampled_from(["invoice", "account"]))
    pauses["promise_to_pay"].update(tolerance_days=draw(st.integers(0, 5)), max_days=draw(st.integers(1, 60)),
                                    broken_resume_stage=draw(st.sampled_from(STAGE_IDS)))
    pauses["payment_plan"].update(missed_instalment_tolerance_days=draw(st.integers(0, 5)),
                                  resume_stage=draw(st.sampled_from(STAGE_IDS)))
    pauses["manual_hold"]["max_days"] = draw(st.integers(1, 120))
    inc = doc["incentives"]
    inc["early_payment_discount"].update(percent=draw(st.integers(1, 40)), window_days=draw(st.integers(1, 20)))
    inc["settlement"].update(discount_percent=draw(st.integers(0, 40)), floor_percent=draw(st.integers(0, 100)),
                             min_days_past_due=draw(st.integers(0, 200)), valid_days=draw(st.integers(1, 30)))
    doc["evaluation"]["max_interval_days"] = draw(st.integers(1, 30))
    errors = [e.message for e in VALIDATOR.iter_errors(_jsonable(doc))]
    assert errors == [], errors                       # the perturbation itself must stay valid
    policy = compile_policy(copy.deepcopy(doc))
    DOCS[policy.digest] = doc
    return policy


# ---- 1 + 4: never crashes, deterministic, sane -------------------------------------------------

def check_decision(d, policy, now: datetime):
    """Invariants of every single decision."""
    assert d.evaluated_at == now.replace(microsecond=0)
    assert d.next_evaluation_at > d.evaluated_at
    for money in (d.balance, d.total_balance, d.overdue_balance, d.disputed_amount):
        assert money.amount >= 0
    assert d.balance.amount <= d.total_balance.amount
    assert 0 <= d.priority.score <= 100
    rules = {s.rule for s in d.suppressions}
    if d.action is not None:
        stage = next(s for s in policy.stages if s.id == d.action.stage)
        assert d.action.channel in stage.channels
        assert d.action.not_before >= d.evaluated_at
        assert not any(r.startswith(("stop.", "pause.")) for r in rules)
    if any(r in rules for r in ("stop.deceased", "stop.bankruptcy", "stop.cease_communication",
                                "stop.breathing_space")):
        assert d.action is None and d.offers == ()


@settings(FAST, max_examples=examples(60))
@given(now=nows, data=st.data())
def test_decide_is_total_and_deterministic_under_the_default_policy(now, data):
    account, history = data.draw(accounts(now))
    when = datetime.fromtimestamp(now, timezone.utc)
    first = decide(account, history, DEFAULT, when)
    again = decide(account, list(reversed(history)), DEFAULT, when)   # same set of events
    check_decision(first, DEFAULT, when)
    assert first.to_json() == decide(account, history, DEFAULT, when).to_json()
    assert json.loads(first.to_json()) == json.loads(again.to_json()) or _ties(history)


def _ties(history) -> bool:
    """Events at the very same instant may legitimately be ordered as given."""
    ats = [e.at for e in history]
    return len(set(ats)) != len(ats)


@settings(FAST, max_examples=examples(40))
@given(policy=policies(), now=nows, data=st.data())
def test_decide_is_total_and_deterministic_under_perturbed_policies(policy, now, data):
    account, history = data.draw(accounts(now))
    when = datetime.fromtimestamp(now, timezone.utc)
    first = decide(account, history, policy, when)
    check_decision(first, policy, when)
    assert first.to_json() == decide(account, history, policy, when).to_json()


# ---- 2: required stages are never skipped -------------------------------------------------------

# Which accounts each default stage's `when` admits (kept by the perturbed policies too),
# written out independently of the engine's condition compiler.
APPLIES = {
    "pre_due_reminder": lambda bal, biz: bal >= Decimal("50.00"),
    "personal_call": lambda bal, biz: biz or bal >= Decimal("500.00"),
    "formal_notice": lambda bal, biz: bal >= Decimal("50.00"),
    "legal_warning": lambda bal, biz: bal >= Decimal("50.00"),
    "agency_referral": lambda bal, biz: bal >= Decimal("100.00"),
}


@st.composite
def debtors(draw):
    """A debtor with unpaid invoices and no history: the simulation writes the history."""
    currency = draw(st.sampled_from(sorted(EXPONENT)))
    exp = EXPONENT[currency]
    start = draw(st.integers(T0, T1 - 200 * DAY))
    start_day = datetime.fromtimestamp(start, timezone.utc).date()
    invoices = tuple(Invoice(f"I{k}", Decimal(draw(st.integers(1, 10 ** 7))).scaleb(-exp),
                             start_day + timedelta(days=draw(st.integers(-150, 30))))
                     for k in range(draw(st.integers(1, 3))))
    has = draw(st.fixed_dictionaries({k: st.booleans() for k in ("email", "mobile", "address")}))
    contact = Contact(email="e@x.test" if has["email"] else None, mobile="+2" if has["mobile"] else None,
                      address="1 St" if has["address"] or not has["email"] else None,
                      preferred_channels=tuple(draw(st.lists(st.sampled_from(CHANNEL_KINDS), max_size=2))))
    account = Account("S", currency, invoices, debtor_type=draw(st.sampled_from(["consumer", "business"])),
                      timezone=draw(st.sampled_from(ZONES)), tags=frozenset(draw(st.sampled_from([(), ("vip",)]))),
                      contact=contact)
    return account, start - start % 3600


LIVENESS = (missed_step, skipped_required, pause_violations)


def simulate(account, policy, start: int, days: int = 200):
    """Evaluate once a day; deliver every action that is due. Returns the delivered stage ids.

    Every decision is also judged by the oracle's liveness checks against the policy document."""
    history, delivered = [], []
    doc = DOCS[policy.digest]
    for k in range(days):
        now = datetime.fromtimestamp(start + k * DAY, timezone.utc)
        d = decide(account, history, policy, now)
        assert d.next_evaluation_at > d.evaluated_at
        found = [v for check in LIVENESS for v in check(account, history, now, d, doc)]
        assert not found, (k, found, delivered, account)
        if d.action is not None and d.action.not_before <= now:
            history.append(Event("contact_attempt", now, channel=d.action.channel_kind, outcome="sent",
                                 stage=d.action.stage))
            delivered.append((k, d.action.stage))
            if policy is DEFAULT:
                # one step per evaluation: straight after a delivery nothing else is due
                later = now + timedelta(minutes=1)
                again = decide(account, history, policy, later)
                assert again.action is None or again.action.not_before > later, (delivered, again.action)
    return delivered


def check_required_never_skipped(account, policy, delivered):
    balance = sum((i.amount for i in account.invoices), Decimal(0))
    business = account.debtor_type == "business"
    index = {s.id: s.index for s in policy.stages}
    order = [index[s] for _, s in delivered]
    assert order == sorted(order), delivered                     # never backwards
    for stage in policy.stages:
        if not stage.required or not APPLIES.get(stage.id, lambda b, z: True)(balance, business):
            continue
        later = [k for k, s in delivered if index[s] > stage.index]
        if later:
            mine = [k for k, s in delivered if s == stage.id]
            assert mine and mine[0] < later[0], (stage.id, delivered)


@settings(FAST, max_examples=examples(25))
@given(debtor=debtors())
def test_required_stages_are_never_skipped_default_policy(debtor):
    account, start = debtor
    delivered = simulate(account, DEFAULT, start)
    check_required_never_skipped(account, DEFAULT, delivered)


@settings(FAST, max_examples=examples(15))
@given(policy=policies(), debtor=debtors())
def test_required_stages_are_never_skipped_perturbed_policies(policy, debtor):
    account, start = debtor
    delivered = simulate(account, policy, start, days=150)
    check_required_never_skipped(account, policy, delivered)


# ---- 3: a batch decides exactly like one account at a time ----------------------------------------

@settings(FAST, max_examples=examples(30))
@given(now=nows, data=st.data(), perturbed=st.booleans())
def test_decide_batch_equals_decide_per_account(now, data, perturbed):
    policy = data.draw(policies()) if perturbed else DEFAULT
    pairs = [data.draw(accounts(now, f"A{k}")) for k in range(data.draw(st.integers(1, 6)))]
    when = datetime.fromtimestamp(now, timezone.utc)
    batch = decide_batch(Batch.from_objects([a for a, _ in pairs], [h for _, h in pairs]), policy, when)
    assert batch.account_ids == [a.id for a, _ in pairs]
    for (account, history), d in zip(pairs, batch.decisions()):
        check_decision(d, policy, when)
        assert d.to_json() == decide(account, history, policy, when).to_json()


@settings(FAST, max_examples=examples(8))
@given(seed=st.integers(0, 10 ** 6), day=st.integers(0, 3 * 365 - 1), hour=st.integers(0, 23))
def test_decide_batch_equals_decide_on_generated_portfolios(seed, day, hour):
    today = date(2025, 1, 1) + timedelta(days=day)
    accs, hists = generate(25, seed, today)
    when = datetime(today.year, today.month, today.day, hour, tzinfo=timezone.utc)
    batch = decide_batch(Batch.from_objects(accs, hists), DEFAULT, when)
    for account, history, d in zip(accs, hists, batch.decisions()):
        check_decision(d, DEFAULT, when)
        assert d.to_json() == decide(account, history, DEFAULT, when).to_json()
