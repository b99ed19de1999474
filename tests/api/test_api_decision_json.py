"""The API's decision JSON, written from batch columns, is byte for byte `Decision.to_dict()`."""
from __future__ import annotations

from datetime import timedelta

import pytest

from arrears.api.decision_json import decision_dict
from arrears.api.routing import dumps
from arrears.engine import Batch, decide_batch
from arrears.engine.policy.load import load_policy
from arrears.policies import DEFAULT_POLICY
from tests.api.apikit import NOW
from tests.api.apikit import portfolio as generate

WITHOUT_FEES = DEFAULT_POLICY.read_text().split("\n# Optional late fees")[0] + """
compliance:
  profiles: [auto]
  fdcpa_applies: false
evaluation:
  max_interval_days: 7
"""


@pytest.fixture(scope="module")
def portfolio():
    """300 generated accounts across eight jurisdictions and five zones, with histories."""
    return generate(300, seed=17)


@pytest.mark.parametrize("source", [DEFAULT_POLICY.read_text(), WITHOUT_FEES], ids=["default", "no-fees"])
@pytest.mark.parametrize("days", [0, 45, 400])
def test_every_row_serialises_like_the_engines_decision(portfolio, source, days):
    policy = load_policy(source)
    if source is WITHOUT_FEES:
        assert not (policy.fees.late_fee or policy.fees.interest)
    accounts, histories = portfolio
    batch = decide_batch(Batch.from_objects(accounts, histories), policy, NOW + timedelta(days=days))
    kinds = set()
    for row in range(len(batch)):
        engine = batch.decision(row).to_dict()
        assert dumps(decision_dict(batch, row, trace=True)) == dumps(engine), accounts[row].id
        del engine["trace"]
        assert dumps(decision_dict(batch, row)) == dumps(engine), accounts[row].id
        kinds.update(k for k in ("action", "fees") if engine[k] is not None)
        kinds.update(k for k in ("offers", "suppressions", "segments", "profiles") if engine[k])
    # the comparison covered every optional part of a decision
    assert kinds >= {"action", "offers", "suppressions", "segments", "profiles"}


def test_a_lone_account_and_an_empty_history(portfolio):
    accounts, _ = portfolio
    policy = load_policy(DEFAULT_POLICY)
    batch = decide_batch(Batch.from_objects([accounts[0]], [[]]), policy, NOW)
    assert dumps(decision_dict(batch, 0, trace=True)) == dumps(batch.decision(0).to_dict())
