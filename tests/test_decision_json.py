"""A decision's JSON has one writer (engine/decisions/decision_json.py): the `Decision` asks it, the
API's column path is it, and a Decision keeps no reference to the batch it came from."""
from __future__ import annotations

import dataclasses
import json
import pickle

import pytest

from arrears.engine import Batch, decide, decide_batch
from arrears.engine.decisions.decision_json import Basis, Columns, DecisionForm, Row, decision_dict, to_json
from arrears.engine.decisions.parts import Parts
from arrears.engine.decisions.result import DecisionBatch
from tests.core_factories import NOW, days_ago, ev, make_account

KEYS = ["account_id", "evaluated_at", "policy", "days_past_due", "bucket", "balance", "total_balance",
        "overdue_balance", "disputed_amount", "priority", "segments", "stage", "action", "offers",
        "suppressions", "fees", "profiles", "next_evaluation_at", "trace"]


@pytest.fixture(scope="module")
def batch(policy) -> DecisionBatch:
    """Three accounts: late with a promise, early, and paid up."""
    accounts = [make_account(id="A1", due_date=days_ago(40).isoformat(), tags=["vip"]),
                make_account(id="A2", due_date=days_ago(-5).isoformat(), debtor_type="business"),
                make_account(id="A3", amount="50.00", due_date=days_ago(90).isoformat())]
    histories = [[ev("promise_to_pay", NOW.replace(day=1), amount="100.00", until=days_ago(3))], [],
                 [ev("payment", NOW.replace(day=2), amount="50.00")]]
    return decide_batch(Batch.from_objects(accounts, histories), policy, NOW)


def test_the_decision_and_the_column_path_write_the_same_json(batch):
    columns = Columns(batch)
    for row in range(len(batch)):
        decision = batch.decision(row)
        assert list(decision.to_dict()) == KEYS
        assert decision.to_dict() == decision_dict(batch, row, trace=True, columns=columns)
        without = decision.to_dict()
        del without["trace"]
        assert decision_dict(batch, row) == without
        assert decision.to_json() == to_json(decision.to_dict())
        assert json.loads(decision.to_json()) == decision.to_dict()


def test_one_row_and_all_rows_read_the_same_values(batch):
    every = Columns(batch)
    assert [Columns(batch, row).row(0) for row in range(len(batch))] == [every.row(i) for i in range(len(batch))]
    assert Columns(batch, 1).basis == every.basis


def test_each_call_gives_a_fresh_dict(batch):
    decision = batch.decision(0)
    first = decision.to_dict()
    first["balance"]["amount"] = "0"
    first["trace"].clear()
    assert decision.to_dict()["balance"]["amount"] != "0" and decision.to_dict()["trace"]


def test_a_decision_pickles_without_its_batch(batch):
    decision = batch.decision(0)
    assert isinstance(decision._json_form, DecisionForm)
    copy = pickle.loads(pickle.dumps(decision))
    assert copy == decision and copy.to_json() == decision.to_json()
    form = decision._json_form
    assert (type(form.basis), type(form.row), type(form.parts)) == (Basis, Row, Parts)   # plain values


def test_a_replaced_decision_is_not_the_engines_and_has_no_json(batch):
    decision = batch.decision(0)
    changed = dataclasses.replace(decision, stage=None)
    assert changed.stage is None and changed.account_id == decision.account_id
    with pytest.raises(ValueError, match="no JSON form"):
        changed.to_dict()
    with pytest.raises(ValueError, match="no JSON form"):
        changed.to_json()


def test_a_lone_decide_writes_the_same_json_as_its_batch_row(policy):
    account = make_account(id="B1", due_date=days_ago(20).isoformat())
    lone = decide(account, [], policy, NOW)
    batch = decide_batch(Batch.from_objects([make_account(id="B0"), account], [[], []]), policy, NOW)
    assert lone.to_json() == batch.decision(1).to_json()
