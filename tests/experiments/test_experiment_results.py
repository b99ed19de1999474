"""Results: per-strategy KPIs against a hand-computed portfolio, the tests and the verdict; and
an end-to-end run in which a challenger with a known better rule wins."""
from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from arrears.engine.domain.model import Event
from arrears.engine.experiments import lifecycle, stats
from arrears.engine.experiments.results import experiment_results
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.engine.tick.runner import run_tick
from arrears.policies import DEFAULT_POLICY
from tests.experiments.expkit import CHALLENGER, spec, write
from tests.tick.tickkit import account, load, rows

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


@pytest.fixture
def store(db_url):
    with Store(db_url) as s:
        yield s


def _start(store, tmp_path, challenger_text=CHALLENGER, **changes):
    champion = load_policy(DEFAULT_POLICY)
    challenger = load_policy(challenger_text, filename="challenger.yaml")
    store.record_policy(champion.name, champion.version, champion.digest, DEFAULT_POLICY.read_text(encoding="utf-8"),
                        now=START)
    store.record_policy(challenger.name, challenger.version, challenger.digest, challenger_text, activate=False,
                        now=START)
    doc = spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
               start="2026-11-01", end="2027-03-01", **changes)
    doc.pop("eligibility")
    return champion, challenger, lifecycle.start(store, write(tmp_path, doc), by="test", now=START)


def _pay(store, account_id: str, amount: str, day: int) -> None:
    store.append_events([(account_id, Event.from_dict({"type": "payment", "amount": amount,
                                                       "at": f"2026-11-{day:02d}T10:00:00Z"}), None)], now=NOW)


@pytest.mark.also_postgresql
def test_per_strategy_kpis_and_tests_match_a_hand_computed_portfolio(store, tmp_path):
    # Nine debtors owing 100.00 each since 1 October; four per strategy, one ineligible.
    ids = [f"D{i}" for i in range(1, 10)]
    load(store, [account(i, amount="100.00", due="2026-10-01") for i in ids], now=START)
    _champion, _challenger, row = _start(store, tmp_path)
    arms = {"D1": "champion", "D2": "champion", "D3": "champion", "D4": "champion",
            "D5": "sms-first", "D6": "sms-first", "D7": "sms-first", "D8": "sms-first", "D9": "ineligible"}
    store.experiments.record_assignments(row["id"], sorted(arms.items()), now=START)
    for account_id, amount in (("D1", "100.00"), ("D2", "50.00"), ("D5", "100.00"), ("D6", "100.00"),
                               ("D7", "30.00"), ("D9", "100.00")):
        _pay(store, account_id, amount, 10)
    store.append_events([("D6", Event.from_dict({"type": "dispute_opened", "at": "2026-11-12T10:00:00Z"}), None)],
                        now=NOW)
    result = experiment_results(store, "sms-first", now=NOW).to_dict()
    # By hand: cured 1 of 4 and 2 of 4; recovered 150 and 230 of 400 past due.
    assert result["kpis"]["champion"]["cure_rate"] == "25.00"
    assert result["kpis"]["sms-first"]["cure_rate"] == "50.00"
    assert result["kpis"]["champion"]["recovery_rate"] == "37.50"
    assert result["kpis"]["sms-first"]["recovery_rate"] == "57.50"
    assert result["debtors"] == {"champion": 4, "sms-first": 4, "ineligible": 1}
    expected = stats.two_proportions(1, 4, 2, 4).to_dict()
    assert result["primary"]["sms-first"] == expected and expected["difference"] == 0.25
    assert result["sample_ratio"]["chi_square"] == 0 and not result["sample_ratio"]["mismatch"]
    disputes = result["guardrails"]["sms-first"]["disputes"]
    assert (disputes["champion"], disputes["challenger"]) == (0, 0.25)
    assert "no significant difference on cure rate yet" in result["verdict"]
    assert result["period"] == {"from": "2026-11-01", "to": "2026-11-22"}
    assert result["series"] == [{"from": "2026-11-01", "to": "2026-11-22",
                                 "values": {"champion": "25.00", "sms-first": "50.00"}}]


def _four_per_strategy(store, tmp_path) -> None:
    """D1-D4 assigned to the champion, D5-D8 to sms-first, each owing 100.00 since 1 October."""
    ids = [f"D{i}" for i in range(1, 9)]
    load(store, [account(i, amount="100.00", due="2026-10-01") for i in ids], now=START)
    _start(store, tmp_path)
    row = store.experiments.get("sms-first")
    arms = {f"D{i}": ("champion" if i <= 4 else "sms-first") for i in range(1, 9)}
    store.experiments.record_assignments(row["id"], sorted(arms.items()), now=START)


@pytest.mark.also_postgresql
def test_a_stopped_experiment_s_results_run_to_its_stop_not_to_today(store, tmp_path):
    # Four debtors per strategy owing 100.00 each; the experiment is stopped on 15 November at
    # 09:00 and read on the 22nd: what happened after the stop is the champion's, not the test's.
    _four_per_strategy(store, tmp_path)
    for account_id, amount, day in (("D1", "100.00", 10), ("D2", "100.00", 20), ("D5", "100.00", 10),
                                    ("D6", "100.00", 18), ("D7", "30.00", 12)):
        _pay(store, account_id, amount, day)
    store.append_events([("D6", Event.from_dict({"type": "dispute_opened", "at": "2026-11-14T10:00:00Z"}), None),
                         ("D7", Event.from_dict({"type": "dispute_opened", "at": "2026-11-15T10:00:00Z"}), None)],
                        now=NOW)
    lifecycle.stop(store, "sms-first", by="test", now=datetime(2026, 11, 15, 9, tzinfo=timezone.utc))
    result = experiment_results(store, "sms-first", now=NOW).to_dict()
    assert result["status"] == "stopped"
    assert result["period"] == {"from": "2026-11-01", "to": "2026-11-15"}
    # By hand, to the 15th: champion D1 cured (D2 paid on the 20th): 1 of 4, 100 of 400;
    # sms-first D5 cured, D7 paid 30 (D6 paid on the 18th): 1 of 4, 130 of 400.
    assert result["kpis"]["champion"]["cure_rate"] == "25.00"
    assert result["kpis"]["sms-first"]["cure_rate"] == "25.00"
    assert result["kpis"]["champion"]["recovery_rate"] == "25.00"
    assert result["kpis"]["sms-first"]["recovery_rate"] == "32.50"
    assert result["primary"]["sms-first"] == stats.two_proportions(1, 4, 1, 4).to_dict()
    assert result["series"][-1]["to"] == "2026-11-15"
    # D6's dispute came before the stop, D7's an hour after it, on the stop's day.
    disputes = result["guardrails"]["sms-first"]["disputes"]
    assert (disputes["champion"], disputes["challenger"]) == (0, 0.25)


def test_the_series_has_a_period_per_calendar_month(store, tmp_path):
    load(store, [account(i, amount="100.00", due="2026-10-01") for i in ("M1", "M2")], now=START)
    _champion, _challenger, row = _start(store, tmp_path)
    store.experiments.record_assignments(row["id"], [("M1", "champion"), ("M2", "sms-first")], now=START)
    _pay(store, "M2", "100.00", 10)
    later = datetime(2027, 1, 15, 12, tzinfo=timezone.utc)
    series = experiment_results(store, "sms-first", now=later).to_dict()["series"]
    assert [(p["from"], p["to"]) for p in series] == [("2026-11-01", "2026-11-30"), ("2026-12-01", "2026-12-31"),
                                                     ("2027-01-01", "2027-01-15")]
    assert series[0]["values"] == {"champion": "0.00", "sms-first": "100.00"}


def test_before_any_assignment_the_verdict_says_so(store, tmp_path):
    _start(store, tmp_path)
    result = experiment_results(store, "sms-first", now=NOW)
    assert result.period is None and "no debtor has been assigned yet" in result.verdict


def test_a_broken_split_is_reported_before_any_difference(store, tmp_path):
    ids = [f"S{i}" for i in range(200)]
    load(store, [account(i, amount="100.00", due="2026-10-01") for i in ids], now=START)
    _champion, _challenger, row = _start(store, tmp_path)
    store.experiments.record_assignments(row["id"], [(i, "champion" if n < 150 else "sms-first")
                                                     for n, i in enumerate(ids)], now=START)
    result = experiment_results(store, "sms-first", now=NOW)
    assert result.sample_ratio.mismatch
    assert result.verdict.startswith("Do not trust these results")


# The challenger's known better rule: its friendly reminder goes out from the first day late,
# the champion's only from the tenth. Debtors who are reminded pay more often (the generated
# histories below: 60% against 30%), so the challenger must cure more of them.
EARLY = CHALLENGER
LATE_CHAMPION = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
    "      days_past_due: 1\n      action: reminder", "      days_past_due: 10\n      action: reminder")


@pytest.mark.slow
def test_end_to_end_a_challenger_with_a_better_rule_wins(store, tmp_path):
    champion = load_policy(LATE_CHAMPION, filename="champion.yaml")
    store.record_policy(champion.name, champion.version, champion.digest, LATE_CHAMPION, now=START)
    challenger_text = LATE_CHAMPION.replace('version: "1.0.0"', 'version: "1.1.0-early"').replace(
        "      days_past_due: 10\n      action: reminder", "      days_past_due: 1\n      action: reminder")
    challenger = load_policy(challenger_text, filename="challenger.yaml")
    store.record_policy(challenger.name, challenger.version, challenger.digest, challenger_text, activate=False,
                        now=START)
    doc = spec(challengers=[{"name": "early", "policy": challenger.digest, "share": 50}],
               start="2026-11-01", end="2027-03-01")
    doc.pop("eligibility")
    lifecycle.start(store, write(tmp_path, doc), by="test", now=START)
    # 600 debtors, each 3 days late on 1 November: the champion has nothing due for them yet.
    ids = [f"E{i:04d}" for i in range(600)]
    load(store, [account(i, amount="200.00", due="2026-10-29") for i in ids], now=START)
    tick_at = datetime(2026, 11, 2, 10, tzinfo=timezone.utc)
    run_tick(store, champion, tick_at)
    reminded = {a for (a,) in rows(store, "SELECT a.id FROM outbox o JOIN accounts a ON a.acct_no = o.acct_no")}
    rng = random.Random(17)
    for account_id in ids:
        if rng.random() < (0.6 if account_id in reminded else 0.3):
            _pay(store, account_id, "200.00", 9)
    arms = {debtor: arm for _acct, debtor, arm, _at in store.experiments.account_arms(1)}
    assert {arms[a] for a in reminded} == {"early"}       # the rule, not chance, tells them apart
    result = experiment_results(store, doc["name"], now=NOW)
    c = result.comparisons["early"]
    assert reminded and c.difference > 0.15 and c.p_value < 0.001
    assert result.verdict.startswith("early is better on cure rate")
    assert not result.sample_ratio.mismatch and result.alarms == []
    lifecycle.promote(store, doc["name"], "early", by="test", now=NOW)
    assert store.active_policy()["digest"] == challenger.digest


def test_a_champion_using_a_plugin_fact_gets_its_results(store, tmp_path):
    """The results compile the champion with the loaded plugins' facts, as the tick does: a
    champion whose segment is a condition on a plugin fact used to fail to compile there."""
    import numpy as np

    from arrears.engine.domain.errors import PolicyError
    from arrears.engine.facts.catalogue import BOOL
    from arrears.plugins import hookimpl
    from arrears.plugins.facts import PluginFact, plugin_facts
    from arrears.plugins.testing import plugin_manager

    class Crm:
        @hookimpl
        def arrears_facts(self):
            return [PluginFact("x_crm_strategic", BOOL, "On the strategic list.",
                               lambda facts: np.isin(np.asarray(facts.b.ids, dtype=str), ["D1", "D2"]))]

    facts = plugin_facts(plugin_manager(Crm()))
    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace("\n# Priority score", """
  strategic:
    description: On the CRM's strategic list.
    when: {fact: x_crm_strategic, eq: true}

# Priority score""", 1)
    champion = load_policy(text, filename="champion.yaml", facts=facts)
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    store.record_policy(champion.name, champion.version, champion.digest, text, now=START)
    store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False, now=START)
    doc = spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
               start="2026-11-01", end="2027-03-01")
    doc.pop("eligibility")
    load(store, [account(i, amount="100.00", due="2026-10-01") for i in ("D1", "D2", "D3", "D4")], now=START)
    row = lifecycle.start(store, write(tmp_path, doc), by="test", now=START, facts=facts)
    store.experiments.record_assignments(row["id"], [("D1", "champion"), ("D2", "sms-first"),
                                                     ("D3", "champion"), ("D4", "sms-first")], now=START)
    _pay(store, "D1", "100.00", 10)
    with pytest.raises(PolicyError, match="no plugin provides fact 'x_crm_strategic'"):
        experiment_results(store, "sms-first", now=NOW)                  # as it was compiled before
    result = experiment_results(store, "sms-first", now=NOW, facts=facts).to_dict()
    assert result["debtors"] == {"champion": 2, "sms-first": 2}
    assert result["kpis"]["champion"]["cure_rate"] == "50.00" and result["kpis"]["sms-first"]["cure_rate"] == "0.00"


@pytest.mark.also_postgresql
def test_a_paused_stretch_is_left_out_of_both_strategies_results(store, tmp_path):
    # Four debtors per strategy owing 100.00 each. The tick pauses the experiment on 12 November
    # at 15:00 and it is resumed on the 16th at 08:00: the champion decided everyone from the 12th
    # to the 16th, so the payments and the dispute of those five days are nobody's.
    _four_per_strategy(store, tmp_path)
    for account_id, amount, day in (("D1", "100.00", 10), ("D2", "100.00", 14), ("D3", "40.00", 12),
                                    ("D5", "100.00", 13), ("D6", "100.00", 18), ("D7", "30.00", 16)):
        _pay(store, account_id, amount, day)
    store.append_events([("D7", Event.from_dict({"type": "dispute_opened", "at": "2026-11-13T10:00:00Z"}), None),
                         ("D8", Event.from_dict({"type": "dispute_opened", "at": "2026-11-19T10:00:00Z"}), None)],
                        now=NOW)
    paused = store.experiments.pause("sms-first", "challenger 'sms-first' was edited in the database", by="tick",
                                     now=datetime(2026, 11, 12, 15, tzinfo=timezone.utc))
    assert paused["status"] == "paused"
    lifecycle.resume(store, "sms-first", by="test", now=datetime(2026, 11, 16, 8, tzinfo=timezone.utc))
    report = experiment_results(store, "sms-first", now=NOW)
    result = report.to_dict()
    assert result["paused"] == {"days_excluded": 5, "stretches": [
        {"from": "2026-11-12", "to": "2026-11-16", "reason": "challenger 'sms-first' was edited in the database"}]}
    # By hand, without the 12th to the 16th: champion D1 cured (D2 and D3 paid in the pause):
    # 1 of 4, 100 of 400; sms-first D6 cured on the 18th (D5 and D7 paid in the pause): 1 of 4,
    # 100 of 400. Counting the pause would have given 2 of 4, 240 of 400 and 2 of 4, 230 of 400.
    assert result["kpis"]["champion"]["cure_rate"] == "25.00"
    assert result["kpis"]["sms-first"]["cure_rate"] == "25.00"
    assert result["kpis"]["champion"]["recovery_rate"] == "25.00"
    assert result["kpis"]["sms-first"]["recovery_rate"] == "25.00"
    assert result["primary"]["sms-first"] == stats.two_proportions(1, 4, 1, 4).to_dict()
    # D7's dispute came in the pause, D8's after it: one of the challenger's four debtors.
    disputes = result["guardrails"]["sms-first"]["disputes"]
    assert (disputes["champion"], disputes["challenger"]) == (0, 0.25)
    assert ("paused: 5 days left out of every strategy's figures (the champion decided everyone): "
            "2026-11-12 to 2026-11-16 (challenger 'sms-first' was edited in the database)") in report.to_text()
    assert rows(store, "SELECT paused_at, resumed_at FROM experiment_pauses") == [
        (int(datetime(2026, 11, 12, 15, tzinfo=timezone.utc).timestamp()),
         int(datetime(2026, 11, 16, 8, tzinfo=timezone.utc).timestamp()))]


def test_a_pause_not_yet_resumed_is_left_out_up_to_today(store, tmp_path):
    load(store, [account(i, amount="100.00", due="2026-10-01") for i in ("P1", "P2")], now=START)
    _start(store, tmp_path)
    row = store.experiments.get("sms-first")
    store.experiments.record_assignments(row["id"], [("P1", "champion"), ("P2", "sms-first")], now=START)
    _pay(store, "P1", "100.00", 5)
    _pay(store, "P2", "100.00", 21)
    store.experiments.pause("sms-first", "its eligibility no longer fits", by="tick",
                            now=datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc))
    result = experiment_results(store, "sms-first", now=NOW).to_dict()
    assert result["paused"]["days_excluded"] == 3                       # the 20th to the 22nd
    assert result["kpis"]["champion"]["cure_rate"] == "100.00"
    assert result["kpis"]["sms-first"]["cure_rate"] == "0.00"


def test_paused_stretches_are_days_clipped_to_the_period_and_merged():
    from datetime import date

    from arrears.engine.experiments.results import paused_stretches
    at = lambda d, h=12: int(datetime(2026, 11, d, h, tzinfo=timezone.utc).timestamp())   # noqa: E731
    first, last, until = date(2026, 11, 3), date(2026, 11, 22), at(22, 23)
    assert paused_stretches([], first, last, until) == []
    assert paused_stretches([(at(1), at(4), "a")], first, last, until) == [(date(2026, 11, 3), date(2026, 11, 4), "a")]
    # resumed and paused again on the same day, then the next: one stretch, both reasons
    assert paused_stretches([(at(6, 9), at(7, 10), "a"), (at(7, 11), at(8), "b"), (at(9), at(9, 13), "a")],
                            first, last, until) == [(date(2026, 11, 6), date(2026, 11, 9), "a; b")]
    assert paused_stretches([(at(21), None, "c")], first, last, until) == [(date(2026, 11, 21), date(2026, 11, 22), "c")]
