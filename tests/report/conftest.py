"""Fixtures for the report tests: a generated portfolio (arrears.engine.demo) in a real SQLite file,
the shipped policy and a goals file, and the figures the report is drawn from."""
from __future__ import annotations

import pytest

from arrears.engine.policy.load import load_policy
from arrears.policies import DEFAULT_POLICY
from tests.report.reportkit import START, TODAY, write_goals


@pytest.fixture(scope="session")
def policy():
    """The shipped default policy."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    """A directory with `arrears.db` (120 demo accounts up to 31 March 2026) and `goals.yaml`."""
    from arrears.engine.demo import load_demo
    from arrears.engine.store import Store
    root = tmp_path_factory.mktemp("report")
    with Store(f"sqlite:///{root / 'arrears.db'}") as store:
        load_demo(store, TODAY, n=120, seed=11)
    write_goals(root / "goals.yaml")
    return root


@pytest.fixture(scope="session")
def db_url(workdir) -> str:
    return f"sqlite:///{workdir / 'arrears.db'}"


@pytest.fixture(scope="session")
def figures(workdir, db_url, policy):
    """(ReportData, goals report dict) for START..TODAY, as `arrears report` computes them."""
    from arrears.engine.domain.batch import epoch_day
    from arrears.engine.goals import days_to_measure, evaluate_goals, load_goals
    from arrears.engine.kpis import ledger_from_store
    from arrears.engine.report import gather
    from arrears.engine.store import Store
    goalset = load_goals(workdir / "goals.yaml", buckets=policy.bucket_names, segments=tuple(policy.segments))
    with Store(db_url, upgrade=False, create=False) as store:
        ledger = ledger_from_store(store, policy, segment_days=sorted({epoch_day(TODAY),
                                                                       *days_to_measure(goalset, TODAY)}))
    return gather(ledger, policy, START, TODAY), evaluate_goals(goalset, ledger, policy, TODAY).to_dict()
