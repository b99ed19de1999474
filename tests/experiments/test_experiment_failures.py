"""An experiment the tick cannot run safely is paused (audited, its status says why, everyone
decided under the champion), never an exception in the tick; activating another policy while
one runs is refused (its champion is the active policy)."""
from __future__ import annotations

import pytest

from arrears.engine.domain.errors import InputError
from arrears.engine.experiments import lifecycle
from arrears.engine.experiments.results import experiment_results
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.engine.tick.runner import run_tick
from arrears.policies import DEFAULT_POLICY
from tests.experiments.expkit import CHALLENGER, spec, write
from tests.tick.tickkit import NOW, load, load_portfolio, rows

pytestmark = pytest.mark.also_postgresql

DEFAULT = DEFAULT_POLICY.read_text(encoding="utf-8")
TAMPER = ("UPDATE policy_versions SET source = replace(source, 'max_attempts: 3', 'max_attempts: 9') "
          "WHERE digest = :digest")


@pytest.fixture
def store(db_url):
    with Store(db_url) as s:
        yield s


def _started(store, tmp_path, **changes):
    accounts, histories = load_portfolio(120, seed=11)
    load(store, accounts, histories)
    champion = load_policy(DEFAULT_POLICY)
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    store.record_policy(champion.name, champion.version, champion.digest, DEFAULT)
    store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
    doc = spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
               start="2026-11-01", end="2027-03-01", **changes)
    doc.pop("eligibility") if "eligibility" not in changes else None
    lifecycle.start(store, write(tmp_path, doc), by="test", now=NOW)
    return champion, challenger, len(accounts)


def _digests(store) -> set:
    return {d for (d,) in rows(store, "SELECT DISTINCT policy_digest FROM decisions")}


def test_a_tampered_challenger_pauses_the_experiment_and_the_champion_decides(store, tmp_path):
    champion, challenger, n = _started(store, tmp_path)
    with store.engine.begin() as conn:
        from sqlalchemy import text
        assert conn.execute(text(TAMPER), {"digest": challenger.digest}).rowcount == 1
    summary = run_tick(store, champion, NOW)                 # does not raise
    assert summary.evaluated == n
    assert _digests(store) == {champion.digest}              # nobody decided by the tampered text
    row = store.experiments.get("sms-first")
    assert row["status"] == "paused"
    assert "challenger 'sms-first'" in row["paused_reason"]
    assert "edited in the database" in row["paused_reason"]
    audited = rows(store, "SELECT kind, body FROM audit WHERE kind = 'experiment.paused'")
    assert len(audited) == 1 and "sms-first" in audited[0][1]
    assert store.experiments.running() is None
    status = experiment_results(store, "sms-first", now=NOW)
    assert status.to_dict()["paused_reason"] == row["paused_reason"]
    assert "paused by the tick" in status.to_text()
    run_tick(store, champion, NOW)                            # a second tick: paused once, no new alarm
    assert len(rows(store, "SELECT seq FROM audit WHERE kind = 'experiment.paused'")) == 1
    with pytest.raises(InputError, match="paused"):
        lifecycle.promote(store, "sms-first", "sms-first", by="test", now=NOW)
    assert lifecycle.stop(store, "sms-first", by="test", now=NOW)["status"] == "stopped"


def test_an_eligibility_the_champion_cannot_evaluate_pauses_rather_than_fails(store, tmp_path):
    """The experiment's eligibility names a segment the policy the tick runs with lacks."""
    _, _, n = _started(store, tmp_path, eligibility={"segment": "high_risk"})
    renamed = load_policy(DEFAULT_POLICY.read_text(encoding="utf-8").replace("high_risk", "risky"),
                          filename="renamed.yaml")
    summary = run_tick(store, renamed, NOW)
    assert summary.evaluated == n and _digests(store) == {renamed.digest}
    row = store.experiments.get("sms-first")
    assert row["status"] == "paused" and "high_risk" in row["paused_reason"]


def test_activating_another_policy_while_it_runs_is_refused(store, tmp_path):
    champion, challenger, _ = _started(store, tmp_path)
    other = DEFAULT_POLICY.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "1.0.1"')
    policy = load_policy(other, filename="other.yaml")
    with pytest.raises(InputError, match="experiment 'sms-first' is running.*experiment stop sms-first"):
        store.record_policy(policy.name, policy.version, policy.digest, other)
    assert store.active_policy()["digest"] == champion.digest
    assert store.policy_version(policy.digest) is None         # nothing was written
    # Storing without activating, and re-activating the champion itself, are allowed.
    store.record_policy(policy.name, policy.version, policy.digest, other, activate=False)
    store.record_policy(champion.name, champion.version, champion.digest, DEFAULT)
    lifecycle.stop(store, "sms-first", by="test", now=NOW)
    store.record_policy(policy.name, policy.version, policy.digest, other)
    assert store.active_policy()["digest"] == policy.digest
