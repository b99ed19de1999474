"""The report page without a browser: structure, accessibility hooks, escaping, no network."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from fractions import Fraction

import pytest

from arrears.engine.report import render
from arrears.engine.report.data import boundaries, period_label
from arrears.engine.report.fmt import money, number, short
from arrears.engine.report.svg import nice_ticks
from tests.report.reportkit import Dom

GENERATED = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def page(figures):
    data, goals = figures
    return render(data, goals, generated=GENERATED)


def test_periods_are_cut_at_month_ends():
    days = boundaries(date(2026, 1, 10), date(2026, 3, 15))
    firsts = [date.fromordinal(d + 719163) for d in days]     # epoch day -> date
    assert firsts == [date(2026, 1, 9), date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 15)]
    assert period_label(date(2026, 1, 10), date(2026, 1, 31)) == "10-31 Jan 2026"
    assert period_label(date(2026, 2, 1), date(2026, 2, 28)) == "Feb 2026"


def test_number_formats():
    assert money(Fraction(123456789, 100), "GBP") == "1,234,567.89 GBP"
    assert money(Fraction(5), "JPY") == "5 JPY"
    assert number(Fraction(1, 3), "percent") == "0.33%" and number(Fraction(7), "count") == "7"
    assert number(None, "days") == "n/a" and number(Fraction(91, 2), "days") == "45.5 days"
    assert [short(v) for v in (0, 250, 1500, 2_000_000, 0.5)] == ["0", "250", "1.5k", "2M", "0.5"]
    assert nice_ticks(0, 1_234) == [0, 500, 1000, 1500] and nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_self_contained_and_locked_down(page):
    dom = Dom(page)
    assert not dom.find("script") and not dom.find("link") and not dom.find("img")
    csp, = dom.find("meta", http_equiv="Content-Security-Policy")
    assert csp[1]["content"] == "default-src 'none'; style-src 'unsafe-inline'"
    # Nothing points anywhere: no URL in any attribute, no url() or @import in the CSS.
    for tag, attrs, _ in dom.elements:
        for name, value in attrs.items():
            assert not re.search(r"(https?:)?//", value or ""), (tag, name, value)
    assert "url(" not in page and "@import" not in page


def test_markup_in_data_is_escaped(page):
    # The first goal's title carries markup; it must arrive as text, never as elements.
    assert "<script>alert(1)</script>" not in page
    assert "90+ balance down 10% &lt;by&gt; &#34;March&#34; &amp; beyond &lt;script&gt;" in page
    dom = Dom(page)
    assert '90+ balance down 10% <by> "March" & beyond <script>alert(1)</script>' in "".join(dom.text)


def test_every_chart_is_labelled_and_has_its_figures_as_a_table(page, figures):
    data, _ = figures
    dom = Dom(page)
    ids = {attrs["id"] for _, attrs, _ in dom.elements if "id" in attrs}
    charts = dom.find("svg", role="img")
    assert len(charts) >= 4 * len(data.currencies)
    for _, attrs, _ in charts:
        assert set(attrs["aria-labelledby"].split()) <= ids
    for view in data.currencies:
        for kind in ("aging", "roll", "dso", "channels"):
            figure = {"id": f"{kind}-{view.currency}"}
            assert dom.inside("desc", figure) and dom.inside("figcaption", figure)
            rows = dom.inside("tr", figure)
            assert len(rows) == 1 + len(view.periods)          # header + one per period


def test_header_and_goals(page, figures):
    data, goals = figures
    assert f"{data.start} to {data.end}" in page and "generated 2026-04-01T09:00:00Z" in page
    rows = [attrs for tag, attrs, _ in Dom(page).elements if tag == "li" and "data-goal" in attrs]
    # 'later' starts on 1 May, after the period (to 31 March): left out of the page, and named as such
    assert [(r["data-goal"], r["data-status"]) for r in rows] == [(g["id"], g["status"]) for g in goals["goals"]
                                                                  if g["id"] != "later"]
    assert "Left out, outside 2026-01-10 to 2026-03-31: later (2026-05-01 to 2026-06-30)." in page
