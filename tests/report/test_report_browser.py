"""`arrears report` rendered by a real headless Chromium: the charts are in the DOM the browser
built, their bars and points match the figures, the page logs nothing (no script errors, no
blocked loads), and a screenshot and a PDF come out."""
from __future__ import annotations

import re
import struct

import pytest

from arrears.engine.cli import main
from arrears.engine.domain.money import exponent
from tests.report.reportkit import START, TODAY, Dom, browser, console_lines, run_browser

BINARY = browser()
pytestmark = pytest.mark.skipif(BINARY is None, reason="no Chromium on this machine: install Debian's "
                                "`chromium` package (.ci/run does) to render the report in a browser")


@pytest.fixture(scope="module")
def report_file(workdir, db_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "report.html"
    code = main(["report", "--from", START.isoformat(), "--to", TODAY.isoformat(), "--out", str(out),
                 "--db", db_url, "--goals", str(workdir / "goals.yaml")])
    assert code == 0 and out.stat().st_size > 0
    return out


@pytest.fixture(scope="module")
def rendered(report_file, tmp_path_factory):
    """(DOM as Chromium built it, Chromium's log)."""
    done = run_browser(BINARY, tmp_path_factory.mktemp("profile"), "--dump-dom", report_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return Dom(done.stdout), done.stderr


def test_the_browser_logs_nothing(rendered):
    _, log = rendered
    assert console_lines(log) == []


def test_the_console_check_catches_a_blocked_load(report_file, tmp_path):
    # The same page with a remote image: the page's own policy blocks it and Chromium logs that.
    bad = tmp_path / "bad.html"
    bad.write_text(report_file.read_text(encoding="utf-8").replace(
        "<main>", '<main><img src="http://127.0.0.1:9/x.png" alt="">', 1), encoding="utf-8")
    done = run_browser(BINARY, tmp_path / "profile", "--dump-dom", bad.as_uri())
    assert any("Content Security Policy" in line for line in console_lines(done.stderr))


def test_bars_and_points_match_the_figures(rendered, figures):
    dom, _ = rendered
    data, _ = figures
    assert data.currencies
    for view in data.currencies:
        charts = {"aging": ("rect", view.aging), "channels": ("rect", view.by_channel),
                  "roll": ("circle", view.rolls),
                  "dso": ("circle", {"dso": view.dso, "best_possible_dso": view.best_dso})}
        for kind, (shape, series) in charts.items():
            figure = {"id": f"{kind}-{view.currency}"}
            svg, = dom.inside("svg", figure)
            assert svg[1]["data-periods"] == str(len(view.periods))
            names = [g[1]["data-series"] for g in dom.inside("g", figure) if "data-series" in g[1]]
            assert names == list(series)
            for name, values in series.items():
                marks = dom.inside(shape, figure, {"data-series": name})
                assert len(marks) == sum(v is not None for v in values), (kind, view.currency, name)
                assert {m[1]["data-period"] for m in marks} <= set(view.periods)
    # Aging: in the first currency, the bars of the last period add up to the closing receivables.
    view = data.currencies[0]
    last = [m for m in dom.inside("rect", {"id": f"aging-{view.currency}"})
            if m[1]["data-period"] == view.periods[-1]]
    closing = view.summary.figures["closing_receivables"] / 10 ** exponent(view.currency)
    assert sum(float(m[1]["data-value"]) for m in last) == pytest.approx(closing)


def test_goal_markers(rendered, figures):
    dom, _ = rendered
    _, goals = figures
    for g in goals["goals"]:
        if g["id"] == "later":                # starts after the period: left out of the page
            assert not dom.find("li", **{"data-goal": "later"})
            continue
        item = {"data-goal": g["id"]}
        markers = [e[1]["data-series"] for e in dom.inside("g", item) if "data-series" in e[1]]
        levels = {"baseline": g["baseline"]["value"], "expected": g["expected"],
                  "current": (g["final"] or g["current"])["value"], "target": g["target"]["value"]}
        levels.update({f"milestone {m['date']}": m["value"] for m in g["milestones"]})
        present = [name for name, v in levels.items() if v is not None]
        assert markers == (present if len(present) >= 2 else []), g["id"]
        assert dom.inside("span", item, **{"class": "badge"})


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_screenshot_and_pdf(report_file, tmp_path):
    shot, pdf = tmp_path / "report.png", tmp_path / "report.pdf"
    done = run_browser(BINARY, tmp_path / "p1", "--window-size=1000,3000", f"--screenshot={shot}",
                       report_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert _png_size(shot.read_bytes()) == (1000, 3000)
    assert len(shot.read_bytes()) > 50_000               # charts, not a blank page
    done = run_browser(BINARY, tmp_path / "p2", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                       report_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) >= 2     # one section per page in print
