"""The statistical tests against published worked examples."""
from __future__ import annotations

import pytest

from arrears.engine.experiments import stats

# Student's sleep data (Cushny & Peebles 1905), extra hours of sleep under two drugs; R's
# documentation of t.test runs Welch's test on it (`t.test(extra ~ group, data = sleep)`):
# t = -1.8608, df = 17.776, p-value = 0.07939, 95% CI -3.3654832 .. 0.2054832, means 0.75 and 2.33.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welch_matches_the_sleep_data_example_of_r():
    result = stats.welch(SLEEP_2, SLEEP_1)          # champion = group 2, so the difference is 1 - 2
    assert (result.champion, result.challenger) == pytest.approx((2.33, 0.75))
    assert result.difference == pytest.approx(-1.58)
    assert (result.low, result.high) == pytest.approx((-3.3654832, 0.2054832), abs=1e-6)
    assert result.p_value == pytest.approx(0.07939, abs=1e-5)


def test_two_proportions_matches_agrestis_aspirin_example():
    """Agresti, An Introduction to Categorical Data Analysis (2nd ed., 2007), §2.2.3: the
    Physicians' Health Study, myocardial infarction in 189 of 11,034 on placebo and 104 of
    11,037 on aspirin: difference 0.0077, standard error 0.0015, 95% CI (0.005, 0.011)."""
    result = stats.two_proportions(104, 11_037, 189, 11_034)
    assert result.difference == pytest.approx(0.0077, abs=5e-5)
    assert (result.low, result.high) == pytest.approx((0.005, 0.011), abs=5e-4)
    assert (result.high - result.difference) / 1.959964 == pytest.approx(0.0015, abs=5e-5)
    # Pearson's X^2 of the 2x2 table is the pooled z squared: 25.01 (Agresti reports 25.0, P < 0.0001).
    assert result.p_value < 1e-5


def test_the_sample_ratio_check_passes_a_fair_split_and_fails_a_broken_one():
    fair = stats.sample_ratio({"champion": 5_040, "b": 4_960}, {"champion": 0.5, "b": 0.5})
    assert fair.chi_square == pytest.approx(0.64) and not fair.mismatch
    broken = stats.sample_ratio({"champion": 5_300, "b": 4_700}, {"champion": 0.5, "b": 0.5})
    assert broken.chi_square == pytest.approx(36.0) and broken.mismatch and broken.p_value < 1e-8


def test_degenerate_groups_give_no_number_rather_than_an_error():
    assert stats.two_proportions(0, 0, 1, 2).to_dict()["p_value"] is None
    assert stats.welch([1.0], [2.0, 3.0]).to_dict()["difference"] is None
