"""The tick decides each account under its debtor's strategy, column-wise per strategy, and
records each debtor's strategy at its first evaluation; nobody switches while it runs."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import numpy as np
import pytest

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.errors import InputError
from arrears.engine.experiments import assign, lifecycle
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.engine.tick.columns import summarise
from arrears.engine.tick.runner import run_tick
from arrears.policies import DEFAULT_POLICY
from tests.experiments.expkit import CHALLENGER, spec, write
from tests.tick.tickkit import NOW, account, load, load_portfolio, rows


def _setup(store, tmp_path, **changes):
    champion = load_policy(DEFAULT_POLICY)
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    store.record_policy(champion.name, champion.version, champion.digest, DEFAULT_POLICY.read_text(encoding="utf-8"))
    store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
    doc = spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
               start="2026-11-01", end="2027-03-01", **changes)
    doc.pop("eligibility") if "eligibility" not in changes else None
    return champion, challenger, write(tmp_path, doc)


@pytest.fixture
def store(db_url):
    with Store(db_url) as s:
        yield s


def _arms_by_account(store, experiment_id):
    return {acct: arm for acct, _debtor, arm, _at in store.experiments.account_arms(experiment_id)}


@pytest.mark.also_postgresql
def test_each_account_is_decided_under_its_debtors_strategy(store, tmp_path):
    accounts, histories = load_portfolio(300, seed=5)
    load(store, accounts, histories)
    champion, challenger, path = _setup(store, tmp_path)
    row = lifecycle.start(store, path, by="test", now=NOW)
    run_tick(store, champion, NOW)
    arms = _arms_by_account(store, row["id"])
    assert len(arms) == len(accounts)                    # every debtor assigned at its first evaluation
    decided = dict(rows(store, "SELECT acct_no, policy_digest FROM decisions"))
    digests = {"champion": champion.digest, "sms-first": challenger.digest}
    assert decided and all(digests[arms[a]] == d for a, d in decided.items())
    assert {"champion", "sms-first"} <= set(arms.values())
    # The stored keys are what each strategy decides for its accounts, column-wise.
    for arm, policy in (("champion", champion), ("sms-first", challenger)):
        nos = np.asarray(sorted(a for a, x in arms.items() if x == arm), dtype=np.int64)
        expected = summarise(decide_batch(store.load_batch(nos), policy, NOW)).keys
        stored = dict(rows(store, "SELECT acct_no, decision_key FROM accounts"))
        assert [stored[int(n)] for n in nos] == [f"{k}|x{row['id']}:{arm}" for k in expected]
    # Every decision and every contact records the experiment and its debtor's strategy (sealed).
    tagged = rows(store, "SELECT acct_no, experiment_id, strategy FROM decisions")
    assert len(tagged) == len(accounts) and all((e, s) == (row["id"], arms[a]) for a, e, s in tagged)
    contacts = rows(store, "SELECT acct_no, experiment_id, strategy FROM outbox")
    assert contacts and all((e, s) == (row["id"], arms[a]) for a, e, s in contacts)
    assert {s for _, _, s in contacts} == {"champion", "sms-first"}
    assert store.verify_audit().ok and not store.verify_audit().findings
    # All of a debtor's accounts share one strategy.
    by_debtor = defaultdict(set)
    for _acct, debtor, arm, _at in store.experiments.account_arms(row["id"]):
        by_debtor[debtor].add(arm)
    assert all(len(a) == 1 for a in by_debtor.values())


def test_nobody_switches_while_it_runs_even_if_eligibility_changes(store, tmp_path):
    accounts, histories = load_portfolio(200, seed=8)
    load(store, accounts, histories)
    champion, _challenger, path = _setup(store, tmp_path, eligibility={"fact": "days_past_due", "gte": 1})
    row = lifecycle.start(store, path, by="test", now=NOW)
    run_tick(store, champion, NOW)
    first = _arms_by_account(store, row["id"])
    assert "ineligible" in first.values() and "sms-first" in first.values()
    for days in (3, 10, 40):
        run_tick(store, champion, NOW + timedelta(days=days))
        assert _arms_by_account(store, row["id"]) == first
    # Every decision of an account was made under the one strategy it was given.
    per_account = defaultdict(set)
    for acct, digest in rows(store, "SELECT acct_no, policy_digest FROM decisions"):
        per_account[acct].add(digest)
    assert all(len(d) == 1 for d in per_account.values())


def test_the_strategies_match_the_hash_and_the_shares(store, tmp_path):
    accounts, histories = load_portfolio(150, seed=2)
    load(store, accounts, histories)
    champion, _challenger, path = _setup(store, tmp_path)
    row = lifecycle.start(store, path, by="test", now=NOW)
    run_tick(store, champion, NOW)
    from arrears.engine.experiments import load_experiment
    experiment = load_experiment(path)
    recorded = {d: a for _acct, d, a, _at in store.experiments.account_arms(row["id"])}
    debtors = sorted(recorded)
    assert list(assign.arms(experiment, debtors)) == [recorded[d] for d in debtors]


def test_before_the_start_and_after_stopping_the_champion_decides_everyone(store, tmp_path):
    accounts, histories = load_portfolio(60, seed=3)
    load(store, accounts, histories)
    champion, _challenger, path = _setup(store, tmp_path)
    lifecycle.start(store, path, by="test", now=NOW)
    lifecycle.stop(store, "sms-first", by="test", now=NOW)
    run_tick(store, champion, NOW)
    assert {d for (d,) in rows(store, "SELECT DISTINCT policy_digest FROM decisions")} == {champion.digest}
    kinds = [k for (k,) in rows(store, "SELECT kind FROM audit WHERE kind LIKE 'experiment.%' ORDER BY seq")]
    assert kinds == ["experiment.started", "experiment.stopped"]
    with pytest.raises(InputError, match="is not running"):
        lifecycle.stop(store, "sms-first", by="test", now=NOW)


def test_start_refuses_an_unknown_challenger_and_a_second_experiment(store, tmp_path):
    champion, challenger, path = _setup(store, tmp_path)
    unknown = write(tmp_path, spec(challengers=[{"name": "x", "policy": "sha256:" + "1" * 64, "share": 50}]),
                    "unknown.yaml")
    with pytest.raises(InputError, match="no stored policy version sha256:1111"):
        lifecycle.start(store, unknown, by="test", now=NOW)
    lifecycle.start(store, path, by="test", now=NOW)
    other = write(tmp_path, spec(name="other", challengers=[
        {"name": "sms-first", "policy": challenger.digest, "share": 50}]), "other.yaml")
    with pytest.raises(InputError, match="'sms-first' is running"):
        lifecycle.start(store, other, by="test", now=NOW)


def test_promote_activates_the_challenger(store, tmp_path):
    accounts, histories = load_portfolio(40, seed=4)
    load(store, accounts, histories)
    champion, challenger, path = _setup(store, tmp_path)
    lifecycle.start(store, path, by="test", now=NOW)
    run_tick(store, champion, NOW)
    with pytest.raises(InputError, match="not a challenger"):
        lifecycle.promote(store, "sms-first", "champion", by="test", now=NOW)
    row = lifecycle.promote(store, "sms-first", "sms-first", by="ann", now=NOW)
    assert (row["status"], row["promoted"], row["ended_by"]) == ("promoted", "sms-first", "ann")
    assert store.active_policy()["digest"] == challenger.digest
    assert store.due_count(int(NOW.timestamp())) == len(accounts)      # decided again, under it
    kinds = [k for (k,) in rows(store, "SELECT kind FROM audit WHERE kind LIKE 'experiment.%' "
                                       "OR kind = 'policy.activated' ORDER BY seq")]
    assert kinds[-2:] == ["experiment.promoted", "policy.activated"]


@pytest.mark.slow
def test_worker_processes_plan_the_split_pages_as_the_ticking_process_does(tmp_path):
    """Pages planned ahead in a worker (pickled strategies, rows built ahead and merged) store
    the same decisions, under the same policies, as pages planned in the ticking process."""
    accounts, histories = load_portfolio(240, seed=12)
    stored = []
    for workers, name in ((0, "here.db"), (1, "workers.db")):
        with Store(f"sqlite:///{tmp_path / name}") as store:
            load(store, accounts, histories)
            champion, _challenger, path = _setup(store, tmp_path)
            lifecycle.start(store, path, by="test", now=NOW)
            summary = run_tick(store, champion, NOW, workers=workers, batch_size=40)
            assert summary.evaluated == len(accounts)
            stored.append((rows(store, "SELECT a.id, a.decision_key, d.policy_digest FROM accounts a "
                                       "JOIN decisions d ON d.id = a.decision_id ORDER BY a.id"),
                           rows(store, "SELECT a.id, o.stage, o.channel FROM outbox o JOIN accounts a "
                                       "ON a.acct_no = o.acct_no ORDER BY a.id, o.stage")))
    assert stored[0] == stored[1] and len(stored[0][0]) == len(accounts)


def test_the_re_check_before_delivery_uses_the_debtors_strategy(store, tmp_path):
    """The challenger sends SMS first where the champion sends email: re-checked under the
    champion, every challenger contact would be cancelled ("the channel is now email")."""
    from arrears.plugins.dispatch import Dispatcher
    from arrears.plugins.testing import RecordingServer, plugin_manager
    from tests.tick.tickkit import MONDAY, dispatcher_config
    # Six days late (past the grace days), reachable by email and phone: the friendly reminder is due for each.
    accounts = [account(f"R{i:03d}", due="2026-11-17", contact={"email": f"r{i}@example.com",
                                                                 "mobile": "+447700900123"}) for i in range(60)]
    load(store, accounts)
    champion, challenger, path = _setup(store, tmp_path)
    row = lifecycle.start(store, path, by="test", now=NOW)
    with RecordingServer() as server:
        run_tick(store, champion, MONDAY, dispatcher=Dispatcher(plugin_manager(), dispatcher_config(server.url)))
    arms = _arms_by_account(store, row["id"])
    outcome = rows(store, "SELECT o.acct_no, o.status, o.channel, o.last_error FROM outbox o")
    sent = {(arms[a], channel) for a, status, channel, _ in outcome if status == "sent"}
    assert sent == {("champion", "email"), ("sms-first", "sms")}
    assert [status for _a, status, _c, _e in outcome] == ["sent"] * len(accounts)


@pytest.mark.also_postgresql
def test_the_strategy_columns_are_sealed_and_older_rows_keep_their_seals(store, tmp_path):
    accounts, histories = load_portfolio(80, seed=9)
    load(store, accounts, histories)
    champion, _, path = _setup(store, tmp_path)
    run_tick(store, champion, NOW - timedelta(days=30))          # rows sealed without a strategy
    before = rows(store, "SELECT count(*) FROM decisions WHERE strategy IS NULL")[0][0]
    lifecycle.start(store, path, by="test", now=NOW)
    run_tick(store, champion, NOW)
    assert before > 0 and rows(store, "SELECT count(*) FROM decisions WHERE strategy IS NULL")[0][0] == before
    assert store.verify_audit().findings == ()
    with store.engine.begin() as conn:
        from sqlalchemy import text
        conn.execute(text("UPDATE decisions SET strategy = 'champion' WHERE id = "
                          "(SELECT min(id) FROM decisions WHERE strategy = 'sms-first')"))
        conn.execute(text("UPDATE outbox SET strategy = 'sms-first' WHERE id = "
                          "(SELECT min(id) FROM outbox WHERE strategy IS NULL)"))
    found = {(f.table, f.columns) for f in store.verify_audit().findings}
    assert ("decisions", ("strategy",)) in found
    assert any(table == "outbox" for table, _ in found)


EVENING_ONLY = """\
id: acme-evenings
name: ACME's own rules
applies_to:
  jurisdictions: [GB, US, AU, FR, DE]
rules:
  - id: acme.evenings-only
    kind: contact_window
    channels: [call, email, sms]
    weekdays: {start: "18:00", end: "19:00"}
    weekends: closed
    source: ACME collections manual 4.2
"""


def test_challengers_keep_the_company_s_own_profiles_as_the_champion_does(store, tmp_path):
    """A company's own profiles apply to every strategy alike: the tick compiles each challenger
    with the profiles directory the champion was compiled with (it once compiled them with the
    shipped profiles only, so a challenger's debtors were contacted outside the company's hours)."""
    from arrears.engine.experiments.live import Strategies
    from tests.tick.tickkit import MONDAY
    company = tmp_path / "company"
    company.mkdir()
    (company / "acme.yaml").write_text(EVENING_ONLY, encoding="utf-8")
    accounts, histories = load_portfolio(300, seed=5)
    load(store, accounts, histories)
    _champion, challenger, path = _setup(store, tmp_path)
    champion = load_policy(DEFAULT_POLICY, company_profiles=company)
    row = lifecycle.start(store, path, by="test", now=MONDAY, profiles=company)
    strategies = Strategies.load(store, champion, MONDAY)
    held = strategies.challengers["sms-first"]
    assert held.profiles_digest == champion.profiles_digest != challenger.profiles_digest
    run_tick(store, champion, MONDAY)
    arms = _arms_by_account(store, row["id"])
    nos = np.asarray(sorted(a for a, x in arms.items() if x == "sms-first"), dtype=np.int64)
    with_profiles = summarise(decide_batch(store.load_batch(nos), held, MONDAY)).keys
    without = summarise(decide_batch(store.load_batch(nos), challenger, MONDAY)).keys
    stored = dict(rows(store, "SELECT acct_no, decision_key FROM accounts"))
    assert [stored[int(n)] for n in nos] == [f"{k}|x{row['id']}:sms-first" for k in with_profiles]
    assert sum(a != b for a, b in zip(with_profiles, without)) >= 10    # the profile bites
    # No email, text or call is queued for the challenger's debtors outside the company's evenings.
    assert not rows(store, "SELECT id FROM outbox WHERE strategy = 'sms-first' AND channel IN ('email', 'sms', "
                           f"'call') AND (next_attempt_at IS NULL OR next_attempt_at <= {int(MONDAY.timestamp())})")
    assert rows(store, "SELECT id FROM outbox WHERE strategy = 'champion'")    # letters and the like still go
