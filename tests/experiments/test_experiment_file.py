"""The experiment file: its own JSON Schema, file:line:col problems all at once, `arrears validate`
recognising it, and the sample size needed for a stated minimum detectable effect."""
from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest

from arrears.engine.cli import main
from arrears.engine.cli.filekinds import recognise
from arrears.engine.domain.errors import PolicyError
from arrears.engine.experiments import load_experiment, samplesize
from arrears.engine.policy.schemagen import regenerated
from arrears.engine.policy.validation import SCHEMA_DIR
from tests.experiments.expkit import ZERO, spec, write

BAD = """\
name: sms-first
champion:
  share: 50
challengers:
  - name: champion
    policy: sha256:0000000000000000000000000000000000000000000000000000000000000000
    share: 40
eligibility:
  fact: days_past_due
  gte: lots
start: 2026-12-07
end: 2026-12-01
primary_metric:
  kpi: cure_rat
  minimum_detectable_effect: 5
  baseline: 30
"""


def test_a_valid_file_loads_with_the_champion_first(tmp_path):
    experiment = load_experiment(write(tmp_path, spec(salt="s1")))
    assert [(a.name, a.policy, a.share) for a in experiment.arms] == [
        ("champion", None, Fraction(1, 2)), ("sms-first", ZERO, Fraction(1, 2))]
    assert experiment.salt == "s1" and experiment.metric.is_rate and experiment.metric.better == "up"
    assert experiment.guardrails == ("disputes", "cease_requests", "opt_outs", "complaints")
    assert str(experiment.start) == "2026-12-07" and experiment.digest.startswith("sha256:")


def test_every_problem_at_once_each_at_file_line_col(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_experiment(path)
    found = [(p.line, p.col, p.message) for p in caught.value.problems]
    assert [(line, col) for line, col, _ in found] == [(5, 3), (5, 11), (10, 8), (12, 6), (14, 8)]
    messages = "\n".join(m for *_, m in found)
    assert "the shares add up to 90 (50 + 40), not 100" in messages
    assert "strategy name 'champion' is taken" in messages
    assert "fact 'days_past_due' is int: expected a whole number, got 'lots'" in messages
    assert "the end 2026-12-01 must be after the start 2026-12-07" in messages
    assert "unknown KPI 'cure_rat'" in messages and "did you mean 'cure_rate'?" in messages


def test_a_ratio_kpi_is_sized_with_the_largest_spread_its_baseline_allows(tmp_path):
    metric = {"kpi": "recovery_rate", "minimum_detectable_effect": 5, "baseline": 30}
    conservative = load_experiment(write(tmp_path, spec(primary_metric=metric))).sample_size()
    given = load_experiment(write(tmp_path, spec(primary_metric={**metric, "standard_deviation": 20})))
    assert given.metric.how.test == "Welch"
    assert given.sample_size().total < conservative.total
    sd = 100 * (0.3 * 0.7) ** 0.5
    assert conservative.total == math.ceil(samplesize.means_total(sd, 5, 0.5, 0.5) - 1e-9)


@pytest.mark.parametrize("changes, message", [
    ({"challengers": [{"name": "b", "policy": "v2", "share": 50}]}, "sha256: and 64 hex digits"),
    ({"primary_metric": {"kpi": "dso", "minimum_detectable_effect": 2, "baseline": 40}},
     "dso has no per-debtor value an experiment can test; use one of: cure_rate, promise_kept_rate"),
    ({"guardrails": ["complaint"]}, "expected one of: disputes, cease_requests, opt_outs, complaints"),
    ({"primary_metric": {"kpi": "cure_rate", "minimum_detectable_effect": 80, "baseline": 30}}, "leaves 0..100"),
    ({"unit": "account"}, "expected one of: debtor"),
    ({"champion": {"share": 50, "policy": ZERO}}, "unknown key 'policy'"),
])
def test_what_the_schema_and_the_rules_refuse(tmp_path, changes, message):
    with pytest.raises(PolicyError) as caught:
        load_experiment(write(tmp_path, spec(**changes)))
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "experiment.yaml") + ":")


def test_the_eligibility_schema_is_the_policy_condition_generated_from_it():
    schema = json.loads((SCHEMA_DIR / "experiment.schema.json").read_text(encoding="utf-8"))
    policy = json.loads((SCHEMA_DIR / "policy.schema.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["factCondition"] == policy["$defs"]["factCondition"]
    fresh = regenerated()
    assert SCHEMA_DIR / "experiment.schema.json" in fresh
    assert all(now == new for now, new in fresh.values())


def test_validate_recognises_an_experiment_by_its_keys_and_by_its_schema_line(tmp_path, capsys):
    path = write(tmp_path, spec())
    text = path.read_text(encoding="utf-8")
    assert recognise(path, text, spec()).name == "experiment"
    assert recognise(path, "# yaml-language-server: $schema=../experiment.schema.json\n", None).name == "experiment"
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "experiment sms-first (champion 50%, sms-first 50%)" in out
    assert "needs 2,753 eligible debtors to see 5 on cure_rate" in out


def test_sample_size_for_two_proportions_matches_the_textbook_per_group_figure():
    """Fleiss, Levin & Paik (2003), eq. 4.14 without continuity correction: 30% vs 35%, alpha
    0.05 two-sided, power 0.8 needs 1,376.3 per group (1,377 rounded up), the figure the usual
    calculators give (e.g. Sealed Envelope's 'binary outcome superiority': 1,377 per group)."""
    total = samplesize.proportions_total(0.30, 0.05, 0.5, 0.5)
    assert total / 2 == pytest.approx(1376.3, abs=0.1)
    assert math.ceil(total / 2) == 1377


def test_sample_size_for_means_is_lehrs_sixteen_over_d_squared():
    """Lehr (1992), 'Sixteen s-squared over d-squared': per group n ~= 16 s^2 / d^2 at alpha 0.05,
    power 0.8 (exactly 2 (1.95996 + 0.84162)^2 = 15.70)."""
    total = samplesize.means_total(sigma=10, delta=10, s0=0.5, s1=0.5)
    assert total / 2 == pytest.approx(15.70, abs=0.01)


def test_unequal_shares_need_more_debtors_and_the_smallest_arm_gets_its_part(tmp_path):
    even = load_experiment(write(tmp_path, spec())).sample_size()
    skewed = load_experiment(write(tmp_path, spec(champion={"share": 90}, challengers=[
        {"name": "b", "policy": ZERO, "share": 10}]))).sample_size()
    assert skewed.total > even.total
    assert skewed.per_arm["b"] == math.ceil(skewed.total * 0.1 - 1e-9)
    assert skewed.per_arm["b"] > 0.5 * even.total / 2 and skewed.per_arm["b"] < even.total / 2
