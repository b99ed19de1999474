"""The KPI catalogue holds together: every KPI in it is computed, accepted by goals (with its
direction), documented in docs/kpis.md, and drawn where it says (engine/kpis/catalogue.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from arrears.engine.goals.measure import Meter
from arrears.engine.goals.spec import load_goals
from arrears.engine.kpis import compute_kpis
from arrears.engine.kpis.catalogue import BY_NAME, CHARTS, KPIS, NAMES, UNIT_SYMBOLS, charted
from arrears.engine.kpis.report import PLACES
from tests.kpis.kpikit import END, START

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"
DIRECTION_WORDS = {"up": "higher", "down": "lower"}


def test_names_are_unique_snake_case_and_each_entry_is_complete():
    assert len(set(NAMES)) == len(NAMES) and list(BY_NAME) == list(NAMES)
    for k in KPIS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", k.name), k.name
        assert k.unit in PLACES and k.better in DIRECTION_WORDS and callable(k.formula)
        assert k.label and k.definition.endswith("."), k.name
        assert k.chart is None or k.chart in CHARTS, k.name


def test_every_kpi_is_computed_in_its_unit_in_catalogue_order(ledger, policy, costs):
    report = compute_kpis(ledger, START, END, policy=policy, costs=costs)
    for row in (*report.groups, *report.total):
        assert tuple(row.kpis) == NAMES
        assert {name: kpi.unit for name, kpi in row.kpis.items()} == {k.name: k.unit for k in KPIS}


def test_every_kpi_is_accepted_by_goals_with_its_direction_and_measured_in_its_unit(tmp_path, ledger, policy,
                                                                                  costs):
    lines = ["goals:"]
    for k in KPIS:
        lines += [f"  - id: goal-{k.name}", f"    metric: {k.name}", "    scope: {currency: GBP}",
                  f"    baseline: {START}", f"    target: {{by: {END}, change_percent: -5}}", "    window_days: 31"]
    path = tmp_path / "goals.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    goals = load_goals(path, buckets=policy.bucket_names, segments=tuple(policy.segments)).goals
    assert [g.metric.kpi for g in goals] == list(NAMES)
    assert [g.direction for g in goals] == [k.better for k in KPIS]
    report = compute_kpis(ledger, START, END, policy=policy, costs=costs)
    gbp = next(r for r in report.total if r.currency == "GBP")
    meter = Meter(ledger, policy, costs)
    for goal in goals:
        measured = meter.measure(goal, END)          # the 31 days of October: the report's period
        assert measured.unit == BY_NAME[goal.metric.kpi].unit, goal.id
        assert measured.value == gbp.kpis[goal.metric.kpi].value, goal.id


def _documented() -> dict[str, tuple[str, str]]:
    """KPI name -> (unit, better) of each row of docs/kpis.md's KPI table."""
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("| KPI | unit | better |"):]
    table = table[:table.index("\n\n")]
    rows = [line.split("|")[1:4] for line in table.splitlines()[2:]]
    return {m.group(1): (unit.strip(), better.strip())
            for name, unit, better in rows if (m := re.fullmatch(r"\s*`(\w+)`\s*", name))}


def test_every_kpi_is_documented_with_its_unit_and_direction():
    documented = _documented()
    assert list(documented) == list(NAMES), "docs/kpis.md's KPI table must list the catalogue, in order"
    for k in KPIS:
        assert documented[k.name] == (UNIT_SYMBOLS[k.unit], DIRECTION_WORDS[k.better]), k.name


@pytest.mark.parametrize("chart", CHARTS)
def test_a_report_chart_draws_kpis_of_one_unit(chart):
    assert len({k.unit for k in charted(chart)}) == 1


def test_the_api_schema_names_every_kpi():
    from arrears.api.openapi.goals import components as goal_components
    from arrears.api.openapi.kpis import components
    kpis = components()["KpiRow"]["properties"]["kpis"]
    assert list(kpis["properties"]) == list(NAMES) == kpis["required"]
    metric = goal_components()["GoalStatus"]["properties"]["metric"]["properties"]["kpi"]
    assert metric["anyOf"][0]["enum"] == list(NAMES)
