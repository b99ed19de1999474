"""Goal statuses on the hand-computed portfolio of goalkit, each figure worked out by hand.

The 90+ goal: baseline 1500.00 on 1 Jan, target -20% = 1200.00 by 31 Mar (89 days on).
Planned change 300.00, so the default band (10%) is 30.00.
"""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from arrears.engine.goals import days_to_measure, evaluate_goals, load_goals
from arrears.engine.goals.progress import expected
from arrears.engine.kpis import ledger_from_store
from tests.goals.goalkit import NINETY_PLUS, add_euro_account, goals_file


def judge(tmp_path, store, policy, body: str, at: date) -> list[dict]:
    goalset = load_goals(goals_file(tmp_path, body), buckets=policy.bucket_names, segments=tuple(policy.segments))
    ledger = ledger_from_store(store, policy, segment_days=days_to_measure(goalset, at))
    return evaluate_goals(goalset, ledger, policy, at).to_dict()["goals"]


def with_tolerance(percent) -> str:
    return NINETY_PLUS + f"        tolerance_percent: {percent}\n"


def test_ahead_of_the_straight_line_is_on_track(tmp_path, store, policy):
    # 15 Feb is 45 of 89 days on: expected 1500 - 300 * 45/89 = 1348.31; measured 1200.00.
    g, = judge(tmp_path, store, policy, NINETY_PLUS, date(2026, 2, 15))
    assert g["status"] == "on-track"
    assert (g["baseline"]["value"], g["target"]["value"], g["current"]["value"]) == ("1500.00", "1200.00", "1200.00")
    assert g["expected"] == "1348.31" and g["gap"] == "148.31" and g["band"] == "30.00"
    assert g["progress_percent"] == "100.0" and g["unit"] == "money" and g["currency"] == "GBP"
    assert g["direction"] == "down" and g["final"] is None and g["reason"] is None


@pytest.mark.parametrize("tolerance, status", [(10, "off-track"), (50, "at-risk"), ("43.08", "at-risk"),
                                               ("43.07", "off-track")])
def test_behind_the_line_is_at_risk_within_the_band_else_off_track(tmp_path, store, policy, tolerance, status):
    # 10 Mar is 68 days on: expected 1500 - 300 * 68/89 = 1270.79; measured 1400.00 (G3 rolled into 90+),
    # 129.2134 behind (100 - 20400/89 exactly). The band is tolerance% of 300: 30.00 (10%), 150.00 (50%);
    # 43.08% (129.24) still covers the gap, 43.07% (129.21) no longer does.
    g, = judge(tmp_path, store, policy, with_tolerance(tolerance), date(2026, 3, 10))
    assert (g["current"]["value"], g["expected"], g["gap"]) == ("1400.00", "1270.79", "-129.21")
    assert g["status"] == status


def test_after_the_target_date_the_level_on_that_date_decides(tmp_path, store, policy):
    # On 31 Mar the 90+ balance is 900.00 (G2 paid on 15 Mar): at most 1200.00 -> achieved, and it
    # stays judged on 31 Mar however late we look; -50% (750.00) is missed.
    missed = NINETY_PLUS.replace("change_percent: -20", "change_percent: -50").replace("id: ninety-plus", "id: halve")
    for at in (date(2026, 3, 31), date(2026, 6, 30)):
        got = judge(tmp_path, store, policy, NINETY_PLUS + missed.split("goals:\n")[1], at)
        assert [(g["id"], g["status"]) for g in got] == [("ninety-plus", "achieved"), ("halve", "missed")]
        assert got[0]["final"] == {"date": "2026-03-31", "value": "900.00"} and got[0]["expected"] is None
        assert got[1]["target"]["value"] == "750.00" and got[1]["gap"] == "-150.00"
        assert got[0]["current"]["date"] == at.isoformat()


def test_before_the_baseline_date_the_goal_has_not_started(tmp_path, store, policy):
    g, = judge(tmp_path, store, policy, NINETY_PLUS, date(2025, 12, 10))
    assert g["status"] == "not-started"
    # The baseline is still to come, so a relative target has no level yet; today's is shown.
    assert g["baseline"]["value"] is None and g["target"]["value"] is None and g["expected"] is None
    assert g["current"]["value"] == "1000.00"         # G1 only: G2 is 86 days late on 10 Dec
    assert g["target"]["change_percent"] == "-20"


def test_on_the_baseline_date_current_equals_expected(tmp_path, store, policy):
    g, = judge(tmp_path, store, policy, NINETY_PLUS, date(2026, 1, 1))
    assert (g["status"], g["current"]["value"], g["expected"], g["gap"]) == ("on-track", "1500.00", "1500.00", "0.00")


MILESTONES = """
    goals:
      - id: ninety-plus
        metric: {bucket: "90+"}
        baseline: 2026-01-01
        target: {by: 2026-03-31, change_percent: -20}
        milestones:
          - {by: 2026-02-01, change_percent: -10}
          - {by: 2026-03-10, value: 1250}
"""


def test_milestones_bend_the_line_and_are_met_or_missed_on_their_dates(tmp_path, store, policy):
    # Plan: 1500 (1 Jan) -> 1350 (1 Feb) -> 1250 (10 Mar) -> 1200 (31 Mar).
    early, = judge(tmp_path, store, policy, MILESTONES, date(2026, 2, 15))
    # 15 Feb: 14 of the 37 days from 1 Feb to 10 Mar: 1350 - 100 * 14/37 = 1312.16; measured 1200.00.
    assert (early["expected"], early["status"]) == ("1312.16", "on-track")
    assert [(m["date"], m["value"], m["measured"], m["status"]) for m in early["milestones"]] == [
        ("2026-02-01", "1350.00", "1200.00", "met"), ("2026-03-10", "1250.00", None, "pending")]
    late, = judge(tmp_path, store, policy, MILESTONES, date(2026, 3, 20))
    # 20 Mar: 10 of 21 days from 10 Mar to 31 Mar: 1250 - 50 * 10/21 = 1226.19; measured 900.00.
    assert (late["expected"], late["current"]["value"], late["status"]) == ("1226.19", "900.00", "on-track")
    assert [m["status"] for m in late["milestones"]] == ["met", "missed"]        # 1400.00 > 1250 on 10 Mar
    assert late["milestones"][1]["measured"] == "1400.00"


def test_the_line_between_milestones_is_exact():
    plan = [(date(2026, 1, 1), Fraction(1500)), (date(2026, 2, 1), Fraction(1350)), (date(2026, 3, 31), Fraction(1200))]
    assert expected(plan, date(2026, 1, 1)) == 1500 and expected(plan, date(2026, 2, 1)) == 1350
    assert expected(plan, date(2026, 1, 16)) == 1500 - Fraction(150 * 15, 31)
    assert expected(plan, date(2025, 6, 1)) == 1500 and expected(plan, date(2027, 1, 1)) == 1200


RATE = """
    goals:
      - id: collect-more
        metric: collection_rate
        window_days: 31
        baseline: {date: 2026-01-01, value: 10}
        target: {by: 2026-03-31, value: 30}
"""


@pytest.mark.parametrize("direction, tolerance, status", [
    (None, 10, "off-track"), (None, 20, "at-risk"), ("up", 10, "off-track"), ("down", 10, "on-track")])
def test_direction_decides_which_side_of_the_line_is_good(tmp_path, store, policy, direction, tolerance, status):
    # Collection rate over 16 Jan..15 Feb: 300.00 collected / 1700.00 outstanding = 17.65%.
    # Expected on 15 Feb: 10 + 20 * 45/89 = 20.11 (a stated baseline of 10): 2.47 behind for "up"
    # (the default for a rate); the band is 10% or 20% of 20 = 2.00 or 4.00. For "down", ahead.
    body = RATE + f"        tolerance_percent: {tolerance}\n"
    if direction:
        body += f"        direction: {direction}\n"
    g, = judge(tmp_path, store, policy, body, date(2026, 2, 15))
    assert (g["current"]["value"], g["expected"], g["unit"]) == ("17.65", "20.11", "percent")
    assert g["baseline"] == {"date": "2026-01-01", "value": "10.00", "stated": True}
    assert g["status"] == status and g["direction"] == (direction or "up")


def test_segment_scope_and_counts(tmp_path, store, policy):
    # Business accounts (G2, G3) in 61-90 or 90+: 1 (G2) on 1 Jan; 2 on 15 Feb: target "down" to 0.
    body = """
        goals:
          - id: business-late
            metric: {bucket: ["61-90", "90+"], measure: count}
            scope: {segment: business}
            baseline: 2026-01-01
            target: {by: 2026-03-31, value: 0}
    """
    g, = judge(tmp_path, store, policy, body, date(2026, 2, 15))
    # Expected 1 - 45/89 = 0.49; measured 2: 1.51 behind, band 0.10 -> off-track.
    assert (g["baseline"]["value"], g["current"]["value"], g["expected"]) == ("1", "2", "0.49")
    assert g["unit"] == "count" and g["status"] == "off-track" and g["metric"]["label"] == "61-90 + 90+ count"


def test_a_kpi_that_cannot_be_computed_gives_no_data_with_the_reason(tmp_path, store, policy):
    # No promise fell due in the 31 days to 1 Jan, so the baseline has no promise-kept rate;
    # on 15 Feb G1's promise (due 1 Feb + 2 days' tolerance) was kept: 100%.
    body = """
        goals:
          - id: promises
            metric: promise_kept_rate
            window_days: 31
            baseline: 2026-01-01
            target: {by: 2026-03-31, value: 70}
    """
    g, = judge(tmp_path, store, policy, body, date(2026, 2, 15))
    assert g["status"] == "no-data" and g["current"]["value"] == "100.00"
    assert g["reason"] == "baseline 2026-01-01: no promise to pay fell due in the period"


def test_several_currencies_need_a_scope(tmp_path, store, policy):
    add_euro_account(store)
    g, = judge(tmp_path, store, policy, NINETY_PLUS, date(2026, 2, 15))
    assert g["status"] == "no-data" and "several currencies (EUR, GBP): set scope.currency" in g["reason"]
    gbp, = judge(tmp_path, store, policy, NINETY_PLUS + "        scope: {currency: GBP}\n", date(2026, 2, 15))
    assert (gbp["status"], gbp["current"]["value"]) == ("on-track", "1200.00")
    eur, = judge(tmp_path, store, policy, NINETY_PLUS + "        scope: {currency: EUR}\n", date(2026, 2, 15))
    assert (eur["baseline"]["value"], eur["current"]["value"], eur["currency"]) == ("900.00", "900.00", "EUR")
    assert eur["status"] == "off-track"                 # expected 900 - 180 * 45/89 = 808.99


def test_the_report_counts_statuses(tmp_path, store, policy):
    goalset = load_goals(goals_file(tmp_path, MILESTONES))
    at = date(2026, 3, 20)
    report = evaluate_goals(goalset, ledger_from_store(store, policy), policy, at).to_dict()
    assert report["at"] == "2026-03-20" and report["policy"]["name"] == "default"
    assert report["counts"]["on-track"] == 1 and sum(report["counts"].values()) == 1
