"""POST /v1/decide answers under the account's strategy while an experiment runs."""
from __future__ import annotations

import pytest

from arrears.engine.domain.model import Account
from arrears.engine.experiments import assign, lifecycle, load_experiment
from arrears.engine.policy.load import load_policy
from tests.api.apikit import AT, account, events
from tests.experiments.expkit import CHALLENGER, spec, write


@pytest.fixture
def running(state, tmp_path):
    """An experiment running in the app's store: half the debtors on the SMS-first challenger."""
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    state.store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
    path = write(tmp_path, spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
                                start="2026-11-01", end="2027-03-01"))
    path.write_text(path.read_text().replace("eligibility:\n  fact: days_past_due\n  gte: 1\n", ""))
    lifecycle.start(state.store, path, by="test")
    return load_experiment(path), challenger


def test_each_account_is_decided_under_its_debtors_strategy(api, state, running):
    experiment, challenger = running
    ids = [f"D{i}" for i in range(12)]
    arms = dict(zip(ids, assign.arms(experiment, ids)))
    assert set(arms.values()) == {"champion", "sms-first"}
    expected = {"champion": state.policies.active().digest, "sms-first": challenger.digest}
    for account_id, arm in arms.items():
        body = api.post("/v1/decide", {"account": account(id=account_id), "events": events(), "at": AT}).get_json()
        assert body["policy"]["digest"] == expected[arm], account_id
    batch = api.post("/v1/decide", {"items": [{"account": account(id=i), "events": events()} for i in ids],
                                    "at": AT}).get_json()["decisions"]
    assert [d["account_id"] for d in batch] == ids
    assert [d["policy"]["digest"] for d in batch] == [expected[arms[i]] for i in ids]


def test_a_recorded_strategy_wins_over_the_draw_and_naming_a_policy_overrides(api, state, running):
    experiment, challenger = running
    row = state.store.experiments.get(experiment.name)
    drawn = assign.arms(experiment, ["D0"])[0]
    other = "champion" if drawn == "sms-first" else "sms-first"
    state.store.experiments.record_assignments(row["id"], [("D0", other)])
    expected = {"champion": state.policies.active().digest, "sms-first": challenger.digest}
    body = api.post("/v1/decide", {"account": account(id="D0"), "events": events(), "at": AT}).get_json()
    assert body["policy"]["digest"] == expected[other]
    active = state.policies.active().digest
    named = api.post("/v1/decide", {"account": account(id="D0"), "events": events(), "at": AT, "policy": active})
    assert named.get_json()["policy"]["digest"] == active


def test_a_stored_accounts_decision_is_its_strategys(api, state, running):
    experiment, challenger = running
    ids = [f"S{i}" for i in range(8)]
    state.store.upsert_accounts([Account.from_dict(account(id=i)) for i in ids])
    arms = dict(zip(ids, assign.arms(experiment, ids)))
    expected = {"champion": state.policies.active().digest, "sms-first": challenger.digest}
    for account_id, arm in arms.items():
        body = api.get(f"/v1/accounts/{account_id}/decision?at={AT}", role="integrator").get_json()
        assert body["policy"]["digest"] == expected[arm], account_id
