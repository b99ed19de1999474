"""The collections report: one self-contained HTML page a manager reads at a glance.

    from arrears.engine.report import gather, render
    html = render(gather(ledger, policy, start, end, costs=costs), goals_report_dict)

`data` picks the figures out of the KPI core's reports, `charts` and `svg` turn them
into chart geometry, `html` renders the page (Jinja2, autoescaped; inline CSS and
SVG, no script, nothing fetched from the network), `page` composes the three with the
goals. `arrears report` writes it; the console's dashboard keeps it as a snapshot.

May import: the core, `kpis` and `goals`.
"""
from arrears.engine.report.data import ReportData, gather
from arrears.engine.report.html import render
from arrears.engine.report.page import Page, measure_days, report_page

__all__ = ["Page", "ReportData", "gather", "measure_days", "render", "report_page"]
