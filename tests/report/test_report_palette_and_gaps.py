"""The report's colours are told apart by every reader; what was not measured says n/a and why;
goals outside the period are left out, and named."""
from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

import pytest

from arrears.engine.report import render
from arrears.engine.report.palette import CATEGORICAL, sequential
from tests.report.colourkit import VISIONS, delta_e_2000, difference, lab, rgb
from tests.report.reportkit import Dom

CATEGORICAL_MIN = 15        # CIEDE2000 between neighbouring series, every kind of vision
ORDERED_MIN = {None: 10, "protan": 5, "deutan": 5, "tritan": 5}   # adjacent aging buckets, up to 8


@pytest.mark.parametrize("lab1, lab2, expected", [          # Sharma, Wu & Dalal (2005), table 1
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
])
def test_the_colour_difference_is_ciede2000(lab1, lab2, expected):
    assert delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("vision", VISIONS)
def test_neighbouring_series_differ_for_every_reader(vision):
    for a, b in pairwise(CATEGORICAL):
        assert difference(a, b, vision) >= CATEGORICAL_MIN, (a, b, vision)


@pytest.mark.parametrize("buckets", range(2, 9))
def test_adjacent_aging_buckets_differ_for_every_reader(buckets):
    colours = sequential(buckets)
    assert len(set(colours)) == buckets
    lightness = [lab(rgb(c))[0] for c in colours]
    assert lightness == sorted(lightness, reverse=True)         # older is darker
    for vision, least in ORDERED_MIN.items():
        for a, b in pairwise(colours):
            assert difference(a, b, vision) >= least, (buckets, a, b, vision)


def _colour_of(page: str, css_class: str) -> str:
    (found,) = re.findall(rf"\.{css_class} {{ --c: (#[0-9a-f]{{6}}); }}", page)
    return found


@pytest.fixture(scope="module")
def page(figures):
    data, goals = figures
    return render(data, goals)


def test_the_page_draws_buckets_with_those_colours(page, figures):
    data, _ = figures
    view = data.currencies[0]
    dom = Dom(page)
    series = [e[1] for e in dom.find("g") if e[1].get("data-series") in view.buckets
              and any(a.get("id") == f"aging-{view.currency}" for _, a in e[2])]
    assert [s["data-series"] for s in series] == view.buckets
    classes = [s["class"].split()[1] for s in series]
    colours = [_colour_of(page, c) for c in classes]
    assert colours == sequential(len(view.buckets))
    for vision, least in ORDERED_MIN.items():
        assert min(difference(a, b, vision) for a, b in pairwise(colours)) >= least


def test_what_was_not_measured_says_why(page, figures):
    data, _ = figures
    cells = re.findall(r"<td>(n/a[^<]*)</td>", page)
    missing = sum(v is None for view in data.currencies for values in view.rolls.values() for v in values)
    assert missing and len([c for c in cells if c.startswith("n/a: no balance in bucket ")]) == missing


def test_goals_outside_the_period_are_left_out(figures):
    data, goals = figures
    # the same goals over a period before any of them began: none overlaps, all are named
    early = type(data)(start=date(2025, 1, 1), end=date(2025, 1, 31), policy=data.policy,
                       currencies=data.currencies, accounts=data.accounts)
    page = render(early, goals)
    assert "No goal overlaps 2025-01-01 to 2025-01-31." in page
    assert not Dom(page).find("li", **{"data-goal": "dso"})
    named = re.search(r"Left out, outside 2025-01-01 to 2025-01-31: (.*?)\.</p>", page).group(1)
    assert [n.split(" (")[0] for n in named.split(", ")] == [g["id"] for g in goals["goals"]]


def test_the_command_counts_the_goals_it_left_out(workdir, db_url, tmp_path, capsys):
    from arrears.engine.cli import main
    out = tmp_path / "r.html"
    common = ["report", "--db", db_url, "--from", "2026-01-10", "--to", "2026-03-31", "--out", str(out)]
    assert main([*common, "--goals", str(workdir / "goals.yaml")]) == 0
    assert capsys.readouterr().out.endswith(", 2 goals (1 outside the period left out))\n")
    assert main([*common, "--no-goals"]) == 0
    assert "goals" not in capsys.readouterr().out and 'id="goals"' not in out.read_text(encoding="utf-8")


def test_contacts_against_capacity(workdir, db_url, tmp_path, capsys):
    """The chart's points are the attempts per day (the KPIs' attempts) and the capacity given."""
    from arrears.engine.cli import main
    from arrears.engine.domain.batch import epoch_day
    from arrears.engine.domain.model import CHANNEL_KINDS
    from arrears.engine.kpis import Tally, ledger_from_store
    from arrears.engine.kpis.compute import default_policy
    from arrears.engine.store import Store
    out = tmp_path / "r.html"
    common = ["report", "--db", db_url, "--from", "2026-01-10", "--to", "2026-03-31", "--out", str(out),
              "--no-goals"]
    assert main([*common, "--capacity", "call=3", "--capacity", "email=7"]) == 0
    dom = Dom(out.read_text(encoding="utf-8"))
    figure = {"id": "contacts"}
    assert dom.inside("figcaption", figure) and dom.inside("desc", figure)
    assert len(dom.inside("tr", figure)) == 1 + 81                           # header + a row per day
    points: dict = {}
    for tag, attrs, ancestors in dom.elements:
        if tag == "circle" and any(a.get("id") == "contacts" and t == "figure" for t, a in ancestors):
            series = next(a["data-series"] for t, a in ancestors if "data-series" in a)
            points.setdefault(series, []).append(float(attrs["data-value"]))
    with Store(db_url, upgrade=False, create=False) as store:
        policy = default_policy()
        tally = Tally(ledger_from_store(store, policy), policy)
    first, last = epoch_day(date(2026, 1, 10)), epoch_day(date(2026, 3, 31))
    per_day = tally.attempts_per_day(first, last)
    expected = {kind: [float(v) for v in per_day[:, code]] for code, kind in enumerate(CHANNEL_KINDS)
                if per_day[:, code].any() or kind in ("call", "email")}
    expected.update({"capacity:call": [3.0] * 81, "capacity:email": [7.0] * 81})
    assert points == expected
    assert sum(sum(v) for k, v in expected.items() if not k.startswith("capacity:")) == \
        sum(r.figures["attempts"] for r in tally.report(first, last).total)
    # a capacity that is not KIND=N is one line and exit 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([*common, "--capacity", "call=lots"])
    assert stop.value.code == 2 and "expected KIND=N" in capsys.readouterr().err
