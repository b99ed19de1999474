"""Activating a policy re-decides the whole portfolio at the next tick, under it.

Activation (through the store, as `POST /v1/policies` and `--activate-policy` do) makes
every account due in one UPDATE and forgets the stored decision keys, so the next tick
writes a decision under the new policy for every account, even one whose step did not
change; a tick that was running when the policy changed stops before its next page write.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from arrears.engine.policy.load import load_policy
from arrears.engine.tick import run_tick
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import TickSettings
from arrears.policies import DEFAULT_POLICY
from tests.tick.tickkit import NOW, load, rows

pytestmark = pytest.mark.also_postgresql

SOURCE = DEFAULT_POLICY.read_text(encoding="utf-8")
# A candidate that decides the same steps for these accounts: only the digest differs.
V2 = SOURCE.replace('version: "1.0.0"', 'version: "2.0.0"')


@pytest.fixture
def v1(policy, store):
    store.record_policy(policy.name, policy.version, policy.digest, SOURCE)
    return policy


@pytest.fixture(scope="module")
def v2():
    return load_policy(V2, filename="v2.yaml")


def latest(store) -> dict:
    """{acct_no: policy digest of the account's latest decision}."""
    return dict(rows(store, "SELECT a.acct_no, d.policy_digest FROM accounts a "
                            "JOIN decisions d ON d.id = a.decision_id"))


def test_activation_makes_every_account_due_and_the_next_tick_redecides_under_it(store, portfolio, v1, v2):
    accounts, histories = portfolio
    load(store, accounts, histories)
    first = run_tick(store, v1, NOW, workers=0)
    assert first.evaluated == len(accounts)
    later = NOW + timedelta(minutes=5)
    assert run_tick(store, v1, later, workers=0).evaluated == 0       # nothing changed: nothing due
    assert set(latest(store).values()) == {v1.digest}

    assert store.record_policy(v2.name, v2.version, v2.digest, V2)    # activate, as the API does
    assert store.due_count(int(later.timestamp())) == len(accounts)
    entry = rows(store, "SELECT body FROM audit WHERE kind = 'policy.activated' ORDER BY seq DESC")[0]
    assert json.loads(entry[0])["accounts_made_due"] == len(accounts)

    summary = run_tick(store, v2, later, workers=0)
    assert summary.evaluated == len(accounts)
    # Every account's latest decision is now v2's, though v2 decides the same steps as v1.
    assert summary.decisions_written == len(accounts)
    assert set(latest(store).values()) == {v2.digest}
    assert run_tick(store, v2, later + timedelta(minutes=5), workers=0).evaluated == 0


def test_reactivating_the_active_version_changes_nothing(store, portfolio, v1):
    accounts, histories = portfolio
    load(store, accounts, histories)
    run_tick(store, v1, NOW, workers=0)
    assert not store.record_policy(v1.name, v1.version, v1.digest, SOURCE)
    assert store.due_count(int(NOW.timestamp()) + 60) == 0


def test_a_tick_running_when_another_policy_is_activated_stops_before_its_next_page(store, portfolio, v1, v2):
    accounts, histories = portfolio
    load(store, accounts, histories)
    activated = []

    def activate_after_first_page(phase, done, total):
        if phase == "evaluate" and not activated:
            activated.append(done)
            store.record_policy(v2.name, v2.version, v2.digest, V2)

    summary = run_tick(store, v1, NOW, workers=0, batch_size=40, progress=activate_after_first_page)
    assert activated == [40] and summary.evaluated == 40
    assert "was activated during the tick" in summary.skipped_reason
    # Nothing of the old policy is left looking current: every account is due again.
    assert store.due_count(int(NOW.timestamp())) == len(accounts)
    assert run_tick(store, v2, NOW, workers=0).evaluated == len(accounts)
    assert set(latest(store).values()) == {v2.digest}


def test_activate_policy_on_the_command_line_redecides_at_the_next_tick(store, portfolio, v1, db_url,
                                                                       tmp_path):
    accounts, histories = portfolio
    load(store, accounts, histories)
    run_tick(store, v1, NOW, workers=0)
    path = tmp_path / "v2.yaml"
    path.write_text(V2, encoding="utf-8")
    settings = TickSettings(database_url=db_url, policy_path=path)
    runtime = Runtime(settings, dispatch=False, activate_policy=True)
    try:
        _, summary = runtime.run(NOW + timedelta(minutes=5), "cli")
    finally:
        runtime.close()
    assert summary.evaluated == len(accounts)
    assert set(latest(store).values()) == {runtime.policy.digest} != {v1.digest}
