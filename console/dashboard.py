"""The managers' dashboard: the collections report (aging, roll rates, DSO, collections by
channel, the KPI table, goal progress) of the last months, computed after the ticks and kept as a
snapshot, so the page answers at once whatever the portfolio's size.

`refresh(state)` computes it from the store (the KPI ledger, the active policy, the goals file of
the API's settings) and stores it under the name `dashboard`; `arrears serve` runs it when it
starts and then every `console.dashboard_minutes` (60) in its scheduler. `/dashboard` shows the
kept page inside a frame (its own, stricter Content-Security-Policy: inline styles of the report,
nothing else), with when it was computed.
"""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timezone

from flask import Blueprint, Response, render_template

from arrears.console.session import html_errors, require

log = logging.getLogger("arrears.console")
blueprint = Blueprint("console_dashboard", __name__, template_folder="templates")
NAME = "dashboard"
MONTHS = 6
# The kept report: its own inline CSS and SVG, no script, nothing fetched; shown only in our frame.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
              "base-uri 'none'; form-action 'none'")


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


def period_of(today: date, months: int = MONTHS) -> tuple[date, date]:
    """The dashboard's period: from the first day of the month `months - 1` months before
    `today`'s, to `today`."""
    month = today.year * 12 + today.month - 1 - (months - 1)
    return date(month // 12, month % 12 + 1, 1), today


def refresh(state, today: date | None = None, *, months: int = MONTHS) -> dict:
    """Compute the dashboard from the store now and keep it; returns its meta (period, policy,
    accounts, seconds). Errors propagate (the scheduler logs them; the old snapshot stays)."""
    from arrears.engine.goals import load_goals
    from arrears.engine.kpis import ledger_from_store
    from arrears.engine.report import measure_days, report_page
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = today or now.date()
    start, end = period_of(today, months)
    policy = state.policies.active()
    settings = state.settings
    goalset = None
    if settings.goals_path is not None and settings.goals_path.is_file():
        goalset = load_goals(settings.goals_path, buckets=policy.bucket_names, segments=tuple(policy.segments))
    ledger = ledger_from_store(state.store, policy, segment_days=measure_days(goalset, end))
    page = report_page(ledger, policy, start, end, goalset=goalset, costs=settings.kpi_costs, generated=now)
    seconds = time.perf_counter() - started
    meta = {"start": start.isoformat(), "end": end.isoformat(), "policy": f"{policy.name} {policy.version}",
            "accounts": page.data.accounts, "currencies": [v.currency for v in page.data.currencies],
            "goals": None if page.goals is None else len(page.goals["goals"])}
    state.store.put_snapshot(NAME, page.html, computed_at=int(now.timestamp()), seconds=seconds, meta=meta)
    log.info("dashboard computed: %s accounts, %s to %s, %.1f s", meta["accounts"], meta["start"],
             meta["end"], seconds)
    return {**meta, "seconds": seconds}


class DashboardJob:
    """What the scheduler runs: `refresh`, logged, never raising (the next run comes anyway)."""

    def __init__(self, state):
        self.state = state

    def __call__(self) -> None:
        try:
            refresh(self.state)
        except Exception:
            log.exception("the dashboard could not be computed; the last one is kept")


@blueprint.route("/dashboard")
@require()
def dashboard():
    """The kept dashboard, with when it was computed and what it covers."""
    kept = _state().store.snapshot(NAME)
    if kept is not None:
        kept.pop("body")
    return render_template("dashboard.html", kept=kept)


@blueprint.route("/dashboard/report")
@require()
def report():
    """The kept report page itself (framed by /dashboard)."""
    kept = _state().store.snapshot(NAME)
    if kept is None:
        return render_template("error.html", title="Not computed yet",
                               message="The dashboard is computed after the ticks; none has been yet."), 404
    response = Response(kept["body"], mimetype="text/html")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


html_errors(blueprint)
