"""Compiled conditions: operators per fact kind, exact money, missing facts, nesting, explain()."""
from __future__ import annotations

from datetime import datetime, time, timezone

import pytest

from arrears.engine.domain.batch import Batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.facts.compute import Facts
from arrears.engine.policy.conditions import compile_condition
from tests.core_factories import NOW, days_ago, ev, make_account


def at(day, hour=10):
    return datetime.combine(day, time(hour), timezone.utc)


def facts_of(policy, accounts, histories=None, now=NOW) -> Facts:
    histories = histories if histories is not None else [[] for _ in accounts]
    return Facts(Batch.from_objects(accounts, histories), policy, as_epoch(now))


def holds(policy, spec, account=None, history=(), now=NOW) -> bool:
    f = facts_of(policy, [account or make_account()], [list(history)], now)
    return bool(compile_condition(spec).evaluate(f)[0])


# The default account: consumer, EUR 1000.00 due 2026-11-01 (21 days past due on 2026-11-22),
# London, reachable on every channel kind; now is Sunday 15:00 local.
RICH = dict(jurisdiction="US-MA", language="fr", tags=["vip", "retail"], risk_score=0.3,
            on_time_ratio=0.9, relationship_tier="key")

TABLE = [
    # INT
    ({"fact": "days_past_due", "eq": 21}, {}, True),
    ({"fact": "days_past_due", "ne": 21}, {}, False),
    ({"fact": "days_past_due", "lt": 21}, {}, False),
    ({"fact": "days_past_due", "lte": 21}, {}, True),
    ({"fact": "days_past_due", "gt": 20}, {}, True),
    ({"fact": "days_past_due", "gte": 22}, {}, False),
    ({"fact": "days_past_due", "in": [1, 21, 40]}, {}, True),
    ({"fact": "days_past_due", "not_in": [1, 21, 40]}, {}, False),
    ({"fact": "days_past_due", "between": [21, 30]}, {}, True),       # inclusive
    ({"fact": "days_past_due", "between": [1, 21]}, {}, True),
    ({"fact": "days_past_due", "between": [22, 30]}, {}, False),
    ({"fact": "open_invoices", "eq": 1}, {}, True),
    ({"fact": "overdue_invoices", "gte": 1}, {}, True),
    ({"fact": "local_hour", "eq": 15}, {}, True),
    ({"fact": "local_hour", "eq": 16}, {"timezone": "Europe/Berlin"}, True),
    ({"fact": "local_weekday", "eq": 7}, {}, True),                  # Sunday
    ({"fact": "local_weekday", "eq": 1}, {"timezone": "Pacific/Kiritimati"}, True),   # already Monday
    # NUMBER
    ({"fact": "risk_score", "lt": 0.31}, RICH, True),
    ({"fact": "risk_score", "gte": 0.3}, RICH, True),
    ({"fact": "risk_score", "gt": 0.3}, RICH, False),
    ({"fact": "on_time_ratio", "between": [0.9, 1]}, RICH, True),
    ({"fact": "on_time_ratio", "ne": 0.9}, RICH, False),
    # MONEY
    ({"fact": "balance", "eq": "1000"}, {}, True),
    ({"fact": "balance", "eq": "1000.001"}, {}, False),
    ({"fact": "balance", "ne": "1000.001"}, {}, True),
    ({"fact": "balance", "gte": "1000.00"}, {}, True),
    ({"fact": "balance", "gt": "999.999"}, {}, True),
    ({"fact": "balance", "lt": "1000.001"}, {}, True),
    ({"fact": "balance", "lte": "999.999"}, {}, False),
    ({"fact": "balance", "between": ["500", "1000"]}, {}, True),
    ({"fact": "total_balance", "eq": "1000"}, {}, True),
    ({"fact": "overdue_balance", "gt": "0"}, {}, True),
    ({"fact": "disputed_amount", "eq": "0"}, {}, True),
    # STRING
    ({"fact": "debtor_type", "eq": "consumer"}, {}, True),
    ({"fact": "debtor_type", "ne": "consumer"}, {"debtor_type": "business"}, True),
    ({"fact": "currency", "in": ["JPY", "EUR"]}, {}, True),
    ({"fact": "language", "eq": "en"}, {}, True),                    # the policy default
    ({"fact": "language", "eq": "fr"}, RICH, True),
    ({"fact": "jurisdiction", "eq": "US-MA"}, RICH, True),
    ({"fact": "country", "eq": "US"}, RICH, True),
    ({"fact": "country", "not_in": ["GB", "FR"]}, RICH, True),
    ({"fact": "relationship_tier", "in": ["strategic", "key"]}, RICH, True),
    ({"fact": "bucket", "eq": "1-30"}, {}, True),
    ({"fact": "bucket", "eq": "current"}, {"due_date": "2026-11-30"}, True),
    ({"fact": "bucket", "eq": "90+"}, {"due_date": "2026-08-01"}, True),
    # SET
    ({"fact": "tags", "contains": "vip"}, RICH, True),
    ({"fact": "tags", "not_contains": "vip"}, RICH, False),
    ({"fact": "tags", "contains": "vip"}, {}, False),
    ({"fact": "reachable", "contains": "letter"}, {}, True),
    ({"fact": "reachable", "contains": "letter"}, {"contact": {"email": "e"}}, False),
    ({"fact": "opted_out", "not_contains": "sms"}, {}, True),
    # BOOL
    ({"fact": "dispute_open", "eq": False}, {}, True),
    ({"fact": "bankrupt", "ne": True}, {}, True),
    ({"fact": "plan_active", "eq": True}, {}, False),
    # missing optional facts: every comparison is false, even ne / not_in
    ({"fact": "risk_score", "lt": 0.5}, {}, False),
    ({"fact": "risk_score", "gte": 0.5}, {}, False),
    ({"fact": "risk_score", "ne": 0.5}, {}, False),
    ({"fact": "on_time_ratio", "between": [0, 1]}, {}, False),
    ({"fact": "jurisdiction", "ne": "GB"}, {}, False),
    ({"fact": "country", "not_in": ["GB"]}, {}, False),
    ({"fact": "relationship_tier", "not_in": ["key"]}, {}, False),
    ({"fact": "days_since_last_payment", "gte": 0}, {}, False),
    ({"fact": "days_since_last_contact", "lte": 10000}, {}, False),
    ({"fact": "last_stage", "ne": "friendly_reminder"}, {}, False),
    # exists
    ({"fact": "risk_score", "exists": True}, {}, False),
    ({"fact": "risk_score", "exists": False}, {}, True),
    ({"fact": "risk_score", "exists": True}, RICH, True),
    ({"fact": "jurisdiction", "exists": False}, RICH, False),
    ({"fact": "balance", "exists": True}, {}, True),                  # always known
    # account_manager: who manages the account, unknown when none is named
    ({"fact": "account_manager", "exists": True}, {"account_manager": "Priya Shah"}, True),
    ({"fact": "account_manager", "exists": False}, {}, True),
    ({"fact": "account_manager", "eq": "Priya Shah"}, {"account_manager": "Priya Shah"}, True),
    ({"fact": "account_manager", "in": ["Sam Lee", "Ana Diaz"]}, {"account_manager": "Priya Shah"}, False),
    ({"fact": "account_manager", "ne": "Sam Lee"}, {}, False),
    # nesting
    ({"all": [{"fact": "days_past_due", "gt": 1}, {"fact": "balance", "gt": "1"}]}, {}, True),
    ({"all": [{"fact": "days_past_due", "gt": 1}, {"fact": "balance", "gt": "1000"}]}, {}, False),
    ({"any": [{"fact": "days_past_due", "gt": 100}, {"fact": "balance", "gt": "1"}]}, {}, True),
    ({"any": [{"fact": "days_past_due", "gt": 100}, {"fact": "balance", "gt": "1000"}]}, {}, False),
    ({"not": {"fact": "risk_score", "gte": 0.5}}, {}, True),              # unknown -> not false
    ({"not": {"any": [{"fact": "tags", "contains": "vip"},
                      {"all": [{"fact": "days_past_due", "gte": 21},
                               {"not": {"fact": "debtor_type", "eq": "business"}}]}]}}, {}, False),
    ({"all": []}, {}, True),
    ({"any": []}, {}, False),
    # segments of the default policy
    ({"segment": "consumer"}, {}, True),
    ({"segment": "business"}, {}, False),
    ({"segment": "small_balance"}, {"amount": "49.99"}, True),
    ({"segment": "small_balance"}, {"amount": "50.00"}, False),
    ({"segment": "vip"}, {"tags": ["vip"]}, True),
    ({"segment": "vip"}, {"relationship_tier": "strategic"}, True),
    ({"segment": "vip"}, {"relationship_tier": "standard"}, False),
    ({"segment": "high_risk"}, {"risk_score": 0.7}, True),
    ({"segment": "punctual"}, {"on_time_ratio": 0.95}, True),
    ({"segment": "punctual"}, {"on_time_ratio": 0.95, "risk_score": 0.8}, False),   # segment in segment
    ({"segment": "punctual"}, {}, False),
]


@pytest.mark.parametrize("spec, account, expected", TABLE, ids=[str(i) for i in range(len(TABLE))])
def test_condition_table(policy, spec, account, expected):
    assert holds(policy, spec, make_account(**account)) is expected


@pytest.mark.parametrize("spec, history, expected", [
    ({"fact": "payments", "eq": 2}, "pay", True),
    ({"fact": "payments", "window_days": 5, "eq": 1}, "pay", True),
    ({"fact": "paid_amount", "eq": "30.00"}, "pay", True),
    ({"fact": "paid_amount", "window_days": 5, "eq": "10.00"}, "pay", True),
    ({"fact": "days_since_last_payment", "eq": 2}, "pay", True),
    ({"fact": "contacts", "window_days": 7, "eq": 2}, "contact", True),
    ({"fact": "contacts", "window_days": 7, "channel": "sms", "eq": 1}, "contact", True),
    ({"fact": "contacts", "channel": "letter", "eq": 1}, "contact", True),
    ({"fact": "conversations", "eq": 1}, "contact", True),
    ({"fact": "days_since_last_contact", "eq": 1}, "contact", True),
    ({"fact": "last_stage", "eq": "friendly_reminder"}, "contact", True),
    ({"fact": "last_stage", "exists": True}, "contact", True),
    ({"fact": "opted_out", "contains": "sms"}, "optout", True),
    ({"fact": "reachable", "contains": "sms"}, "optout", False),
    ({"fact": "promises_broken", "window_days": 365, "eq": 1}, "broken", True),
    ({"fact": "promise_open", "eq": False}, "broken", True),
    ({"fact": "hardship", "eq": True}, "hardship", True),
    ({"fact": "on_hold", "eq": True}, "hold", True),
])
def test_history_facts(policy, spec, history, expected):
    histories = {
        "pay": [ev("payment", at(days_ago(20)), amount="20.00"), ev("payment", at(days_ago(2)), amount="10.00")],
        "contact": [ev("contact_attempt", at(days_ago(20)), channel="letter", outcome="sent",
                       stage="friendly_reminder"),
                    ev("contact_attempt", at(days_ago(3)), channel="sms", outcome="delivered",
                       stage="friendly_reminder"),
                    ev("contact_attempt", at(days_ago(1)), channel="call", outcome="conversation")],
        "optout": [ev("channel_opt_out", at(days_ago(3)), channel="sms")],
        "broken": [ev("promise_to_pay", at(days_ago(20)), amount="100", until=str(days_ago(10)))],
        "hardship": [ev("hardship", at(days_ago(3)))],
        "hold": [ev("hold", at(days_ago(3)))],
    }[history]
    assert holds(policy, spec, make_account(due_date=days_ago(60)), histories) is expected


# ---- money across currencies with different minor units ----------------------------------------

def three_currencies():
    """EUR 50.00, JPY 50, BHD 50.000 (5000, 50 and 50000 minor units)."""
    return [make_account(id="E", currency="EUR", amount="50.00"),
            make_account(id="J", currency="JPY", amount="50"),
            make_account(id="B", currency="BHD", amount="50.000")]


@pytest.mark.parametrize("spec, expected", [
    ({"fact": "balance", "eq": "50"}, [True, True, True]),
    ({"fact": "balance", "lt": "50.00"}, [False, False, False]),
    ({"fact": "balance", "lte": "50"}, [True, True, True]),
    ({"fact": "balance", "gt": "49.999"}, [True, True, True]),
    ({"fact": "balance", "gt": "49.99"}, [True, True, True]),
    ({"fact": "balance", "lt": "50.001"}, [True, True, True]),
    # thresholds finer than the minor unit never match eq, and bound exactly
    ({"fact": "balance", "eq": "50.0001"}, [False, False, False]),
    ({"fact": "balance", "ne": "50.0001"}, [True, True, True]),
    ({"fact": "balance", "gte": "50.0001"}, [False, False, False]),
    ({"fact": "balance", "lte": "49.9999"}, [False, False, False]),
    ({"fact": "balance", "between": ["49.5", "50"]}, [True, True, True]),
    ({"fact": "balance", "between": ["50.0005", "51"]}, [False, False, False]),
])
def test_money_is_compared_exactly_per_currency(policy, spec, expected):
    f = facts_of(policy, three_currencies())
    assert compile_condition(spec).evaluate(f).tolist() == expected


@pytest.mark.parametrize("currency, amount, threshold, op, expected", [
    ("JPY", "49", "49.5", "lt", True),
    ("JPY", "50", "49.5", "lt", False),
    ("JPY", "50", "49.5", "gt", True),
    ("JPY", "49", "49.5", "gte", False),
    ("BHD", "0.001", "0.0005", "gt", True),
    ("BHD", "0.001", "0.001", "eq", True),
    ("BHD", "0.001", "0.0015", "lte", True),
    ("BHD", "0.002", "0.0015", "lte", False),
    ("EUR", "0.01", "0.005", "gte", True),
    ("EUR", "0.01", "0.015", "gte", False),
])
def test_money_rounding_edges(policy, currency, amount, threshold, op, expected):
    acc = make_account(currency=currency, amount=amount)
    assert holds(policy, {"fact": "balance", op: threshold}, acc) is expected


# ---- explain -------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, account, fragments", [
    ({"fact": "balance", "lt": "50.00"}, {"currency": "JPY", "amount": "1400"}, ["balance < 50.00", "no", "is 1400"]),
    ({"fact": "balance", "gte": "1"}, {"currency": "BHD", "amount": "2.5"}, ["yes", "is 2.500"]),
    ({"fact": "balance", "gte": "1"}, {"amount": "2.5"}, ["is 2.50"]),
    ({"fact": "days_past_due", "between": [1, 30]}, {}, ["between 1 and 30", "yes", "is 21"]),
    ({"fact": "risk_score", "gte": 0.7}, {}, ["no", "is unknown"]),
    ({"fact": "risk_score", "gte": 0.7}, {"risk_score": 0.75}, ["yes", "is 0.75"]),
    ({"fact": "tags", "contains": "vip"}, {"tags": ["b", "a"]}, ["no", "is a,b"]),
    ({"fact": "reachable", "contains": "sms"}, {"contact": {"email": "e"}}, ["no", "email"]),
    ({"fact": "debtor_type", "eq": "business"}, {}, ["no", "is consumer"]),
    ({"fact": "account_manager", "exists": True}, {"account_manager": "Priya Shah"},
     ["account_manager is known", "yes", "is Priya Shah"]),
    ({"fact": "contacts", "window_days": 14, "channel": "sms", "lt": 3}, {}, ["last 14 days", "sms", "is 0"]),
    ({"not": {"segment": "small_balance"}}, {"amount": "10"}, ["not [segment small_balance (yes)]"]),
    ({"any": [{"fact": "days_past_due", "gt": 100}, {"fact": "balance", "gt": "1"}]}, {},
     ["any of (", "is 21", "is 1000.00"]),
])
def test_explain_mentions_the_actual_value(policy, spec, account, fragments):
    node = compile_condition(spec)
    f = facts_of(policy, [make_account(**account)])
    text = node.explain(f, 0)
    for fragment in fragments:
        assert fragment in text, text


def test_explain_agrees_with_evaluate_for_each_row(policy):
    node = compile_condition({"fact": "balance", "gte": "50.00"})
    accounts = [make_account(id=str(k), amount=a) for k, a in enumerate(["49.99", "50", "50.01"])]
    f = facts_of(policy, accounts)
    assert node.evaluate(f).tolist() == [False, True, True]
    assert [node.explain(f, k).split(": ")[1][:3] for k in range(3)] == ["no ", "yes", "yes"]
