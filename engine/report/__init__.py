"""The collections report: one self-contained HTML page a manager reads at a glance.

    from arrears.engine.report import gather, render
    html = render(gather(ledger, policy, start, end, costs=costs), goals_report_dict)

`data` picks the figures out of the KPI core's reports, `charts` and `svg` turn them
into chart geometry, `html` renders the page (Jinja2, autoescaped; inline CSS and
SVG, no script, nothing fetched from the network). `arrears report` writes it.

May import: the core, `kpis` and `goals`.
"""
from arrears.engine.report.data import ReportData, gather
from arrears.engine.report.html import render

__all__ = ["ReportData", "gather", "render"]
