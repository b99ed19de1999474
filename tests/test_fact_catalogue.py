"""The fact catalogue holds together: every fact in it has a column conditions can test, and a row
in docs/facts.md with its kind (the schema's fact list: tests/test_schema.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from arrears.engine.domain.batch import Batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.facts.catalogue import FACTS
from arrears.engine.facts.compute import Facts
from arrears.engine.policy.conditions import column, compile_condition
from tests.core_factories import NOW, ev, make_account

DOCS = Path(__file__).resolve().parents[1] / "docs" / "facts.md"


@pytest.fixture(scope="module")
def facts(policy):
    """Two accounts, one with a little history, evaluated at NOW."""
    accounts = [make_account(), make_account(id="A2", relationship_tier="strategic", risk_score=0.4)]
    history = [ev("payment", NOW.replace(day=10), amount="100.00"),
               ev("contact_attempt", NOW.replace(day=12), channel="email", outcome="sent")]
    return Facts(Batch.from_objects(accounts, [history, []]), policy, as_epoch(NOW))


@pytest.mark.parametrize("name", list(FACTS))
def test_every_fact_has_a_column_a_condition_can_test(facts, name):
    values, present = column(facts, name, 30, None)
    assert len(values) == facts.n and (present is None or len(present) == facts.n)
    assert (present is not None) == FACTS[name].optional, "optional facts (and only those) may be unknown"
    known = compile_condition({"fact": name, "exists": True}).evaluate(facts)
    assert known.tolist() == ([True] * facts.n if present is None else present.tolist())


def test_every_fact_is_documented_with_its_kind():
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \|", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    documented = {name: kind for name, kind in rows if not name.startswith("x_")}
    assert documented == {name: f.kind for name, f in FACTS.items()}
