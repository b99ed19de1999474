"""The managers' dashboard: the collections report (aging, roll rates, DSO, collections by
channel, the KPI table, goal progress) of the last months, computed after the ticks and kept as a
snapshot, so the page answers at once whatever the portfolio's size.

`refresh(state)` computes it from the store (the KPI ledger, the active policy, the goals file of
the API's settings, the work queue's capacity) and stores it under the name `dashboard`, and one
page per policy segment under `dashboard:SEGMENT`, in one pass; `arrears serve` runs it when it
starts, after each tick that ran, and at least every `console.dashboard_minutes` (60) in its
scheduler (`TickScheduler.add_periodic(..., after_ticks=True)`), keeping the figures
between runs (`Kept`), so a run reads only the accounts that changed since the last one (the first
run of a day reads them all). `/dashboard` (`?segment=NAME` for a segment's) shows the kept page
inside a frame (its own, stricter Content-Security-Policy: inline styles of the report, nothing
else), with when it was computed and the segments to choose from.
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


class Kept:
    """What a refresh keeps for the next one: the `StoreTally` of the store on one day, under one
    policy and goals file. The next refresh of that day reads only the accounts that changed."""

    def __init__(self):
        self.key = None
        self.tally = None

    def tally_for(self, store, policy, segment_days, costs, scopes):
        """The kept tally brought up to date, or a new one (first run, a new day, another policy)."""
        key = (store.url, policy.digest, tuple(segment_days), scopes)
        if key == self.key:
            try:
                read = self.tally.update()
            except BaseException:
                self.key, self.tally = None, None           # half followed: the next run reads everything
                raise
            self.tally.tally.costs = costs
            return self.tally.tally, read
        from arrears.engine.kpis.fromstore import StoreTally
        self.key, self.tally = None, None                   # a failed read leaves nothing half-built
        self.tally = StoreTally(store, policy, segment_days=segment_days, costs=costs, scopes=scopes)
        self.key = key
        return self.tally.tally, self.tally.tally.ledger.n


def snapshot_name(segment: str | None) -> str:
    """The snapshot a page is kept under: `dashboard`, or `dashboard:SEGMENT` for a segment's."""
    return NAME if segment is None else f"{NAME}:{segment}"


def refresh(state, today: date | None = None, *, months: int = MONTHS, kept: Kept | None = None) -> dict:
    """Compute the dashboard from the store now and keep it: the portfolio's page and one per
    policy segment (its accounts at the end of the period), in one pass; returns the portfolio's
    meta (period, policy, accounts, segments, accounts read, seconds). With `kept` (the
    scheduler's), a refresh on the same day reads only what changed since the last one. Errors
    propagate (the scheduler logs them; the old snapshots stay)."""
    from arrears.engine.domain.batch import epoch_day
    from arrears.engine.goals import load_goals
    from arrears.engine.report import measure_days, report_page
    from arrears.engine.simulate import from_work_queue
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = today or now.date()
    start, end = period_of(today, months)
    policy = state.policies.active()
    settings = state.settings
    goalset = None
    if settings.goals_path is not None and settings.goals_path.is_file():
        goalset = load_goals(settings.goals_path, buckets=policy.bucket_names, segments=tuple(policy.segments))
    segments = tuple(policy.segments)
    scopes = (None, *((name, epoch_day(end)) for name in segments))
    tally, read = (kept or Kept()).tally_for(state.store, policy, measure_days(goalset, end), settings.kpi_costs,
                                             scopes)
    capacity = from_work_queue(settings.work_queue_capacity)
    pages = {segment: report_page(tally.ledger, policy, start, end, goalset=goalset, costs=settings.kpi_costs,
                                  generated=now, tally=tally, segment=segment, capacity=capacity)
             for segment in (None, *segments)}
    seconds = time.perf_counter() - started
    base = {"start": start.isoformat(), "end": end.isoformat(), "policy": f"{policy.name} {policy.version}",
            "segments": list(segments), "read": read}
    for segment, page in pages.items():
        meta = {**base, "segment": segment, "accounts": page.data.accounts,
                "currencies": [v.currency for v in page.data.currencies],
                "goals": None if page.goals is None else len(page.goals["goals"])}
        state.store.put_snapshot(snapshot_name(segment), page.html, computed_at=int(now.timestamp()),
                                 seconds=seconds, meta=meta)
    log.info("dashboard computed: %s accounts (%s read), %s segments, %s to %s, %.1f s", pages[None].data.accounts,
             read, len(segments), base["start"], base["end"], seconds)
    return {**base, "segment": None, "accounts": pages[None].data.accounts,
            "currencies": [v.currency for v in pages[None].data.currencies],
            "goals": None if pages[None].goals is None else len(pages[None].goals["goals"]), "seconds": seconds}


class DashboardJob:
    """What the scheduler runs: `refresh`, logged, never raising (the next run comes anyway); it
    keeps the figures between runs, so a run after a tick reads only the accounts that changed."""

    def __init__(self, state):
        self.state = state
        self.kept = Kept()

    def __call__(self) -> None:
        try:
            refresh(self.state, kept=self.kept)
        except Exception:
            log.exception("the dashboard could not be computed; the last one is kept")


def _segment(kept_meta: dict | None):
    """The segment asked for (`?segment=NAME`), None for the portfolio; NotFound if the kept
    dashboard has no such segment."""
    from flask import request
    from werkzeug.exceptions import NotFound
    name = request.args.get("segment") or None
    if name is not None and (kept_meta is None or name not in kept_meta.get("segments", [])):
        raise NotFound(f"There is no segment {name!r} on the dashboard.")
    return name


@blueprint.route("/dashboard")
@require()
def dashboard():
    """The kept dashboard of the portfolio or of one segment (`?segment=NAME`), with when it
    was computed and what it covers, and the segments to choose from."""
    store = _state().store
    portfolio = store.snapshot(NAME)
    segment = _segment(None if portfolio is None else portfolio["meta"])
    kept = portfolio if segment is None else store.snapshot(snapshot_name(segment))
    if kept is not None:
        kept.pop("body")
    segments = [] if portfolio is None else portfolio["meta"].get("segments", [])
    return render_template("dashboard.html", kept=kept, segment=segment, segments=segments)


@blueprint.route("/dashboard/report")
@require()
def report():
    """The kept report page itself (framed by /dashboard), of the portfolio or `?segment=NAME`."""
    store = _state().store
    portfolio = store.snapshot(NAME)
    segment = _segment(None if portfolio is None else portfolio["meta"])
    kept = portfolio if segment is None else store.snapshot(snapshot_name(segment))
    if kept is None:
        return render_template("error.html", title="Not computed yet",
                               message="The dashboard is computed after the ticks; none has been yet."), 404
    response = Response(kept["body"], mimetype="text/html")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


html_errors(blueprint)
