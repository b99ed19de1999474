"""The managers' dashboard: the report kept after the ticks, shown in a frame at once."""
from __future__ import annotations

import re
from datetime import date

from arrears.console.dashboard import NAME, period_of, refresh
from arrears.engine.cli import main
from tests.console.consolekit import log_in


def test_the_period_is_the_last_six_months_to_today():
    assert period_of(date(2026, 12, 5)) == (date(2026, 7, 1), date(2026, 12, 5))
    assert period_of(date(2026, 3, 31)) == (date(2025, 10, 1), date(2026, 3, 31))
    assert period_of(date(2026, 1, 1), months=1) == (date(2026, 1, 1), date(2026, 1, 1))


def test_before_the_first_refresh_the_page_says_so(tmp_path):
    from arrears.api import create_app
    from tests.console.consolekit import make_store
    store = make_store(tmp_path / "fresh.db", demo=False)
    client = create_app({"database_url": store.url}, store=store).test_client()
    log_in(client, "manager")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "has not been computed yet" in page and "<iframe" not in page
    assert client.get("/dashboard/report").status_code == 404


def test_the_kept_report_is_the_report_of_the_store(app, demo_store, tmp_path):
    main(["tick", "--db", demo_store.url, "--at", "2026-12-01T10:00:00Z", "--no-dispatch"])
    state = app.extensions["arrears"]
    meta = refresh(state, date(2026, 12, 1))
    assert meta["start"] == "2026-07-01" and meta["end"] == "2026-12-01"
    assert meta["accounts"] == demo_store.account_count() and meta["seconds"] > 0
    # the same page `arrears report` writes for the period (but for the time it was made)
    out = tmp_path / "report.html"
    assert main(["report", "--from", "2026-07-01", "--to", "2026-12-01", "--out", str(out),
                 "--db", demo_store.url, "--capacity", "call=100"]) == 0     # the work queue's capacity
    kept = demo_store.snapshot(NAME)["body"]

    def body(html):
        return html.split("<main", 1)[1].split("Generated", 1)[0]
    assert body(kept) == body(out.read_text(encoding="utf-8"))

    client = app.test_client()
    log_in(client, "manager")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "2026-07-01 to 2026-12-01" in page and '<iframe class="report" src="/dashboard/report"' in page
    framed = client.get("/dashboard/report")
    assert framed.status_code == 200 and framed.get_data(as_text=True) == kept
    csp = framed.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-src 'self'" in client.get("/dashboard").headers["Content-Security-Policy"]


def test_the_page_costs_one_read_whatever_the_size(app, demo_store):
    """Each page reads its user and one kept snapshot, never the portfolio: the statements are
    counted (a time limit would measure the machine's load as much as the page)."""
    from sqlalchemy import event
    refresh(app.extensions["arrears"], date(2026, 12, 1))
    client = app.test_client()
    log_in(client, "agent")
    statements = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(statement)
    event.listen(demo_store.engine, "before_cursor_execute", seen)
    try:
        for _ in range(20):
            assert client.get("/dashboard").status_code == 200
            assert client.get("/dashboard/report").status_code == 200
    finally:
        event.remove(demo_store.engine, "before_cursor_execute", seen)
    reads = [re.search(r"\bFROM (\w+)", s)[1] for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert reads == ["users", "snapshots"] * 40, statements[:8]


def test_the_dashboard_needs_a_login(app):
    assert app.test_client().get("/dashboard").status_code == 302
    assert app.test_client().get("/dashboard/report").status_code == 302


def test_each_segment_has_its_page_and_its_address(app, demo_store):
    from arrears.console.dashboard import snapshot_name
    meta = refresh(app.extensions["arrears"], date(2026, 12, 1))
    policy = app.extensions["arrears"].policies.active()
    assert meta["segments"] == list(policy.segments) and meta["segments"]
    client = app.test_client()
    log_in(client, "manager")
    page = client.get("/dashboard").get_data(as_text=True)
    for name in policy.segments:
        assert f'href="/dashboard?segment={name}"' in page
        kept = demo_store.snapshot(snapshot_name(name))
        assert kept["meta"]["segment"] == name and 0 < kept["meta"]["accounts"] <= meta["accounts"]
    name = meta["segments"][0]
    chosen = client.get(f"/dashboard?segment={name}").get_data(as_text=True)
    assert f"Dashboard: segment {name}" in chosen and 'aria-current="page">' + name in chosen
    assert f'src="/dashboard/report?segment={name}"' in chosen
    framed = client.get(f"/dashboard/report?segment={name}").get_data(as_text=True)
    assert framed == demo_store.snapshot(snapshot_name(name))["body"] and f"Segment {name} ·" in framed
    # an unknown segment is a page that says so, not an error
    missing = client.get("/dashboard?segment=nope")
    assert missing.status_code == 404 and "no segment" in missing.get_data(as_text=True)
    assert client.get("/dashboard/report?segment=nope").status_code == 404


def test_a_refresh_after_a_tick_reads_only_what_changed_and_shows_what_a_full_one_shows(app, demo_store):
    from datetime import datetime, timezone

    from arrears.console.dashboard import Kept, snapshot_name
    from arrears.engine.domain.model import Event
    state = app.extensions["arrears"]
    # every account decided once before (the module's store is shared: do not count on an
    # earlier test having ticked it), so the tick below decides only the accounts that changed
    main(["tick", "--db", demo_store.url, "--at", "2026-12-01T10:30:00Z", "--no-dispatch"])
    kept = Kept()
    first = refresh(state, date(2026, 12, 1), kept=kept)
    assert first["read"] == first["accounts"]
    at = datetime(2026, 12, 1, 11, tzinfo=timezone.utc)
    ids = [f"ACC{i:08d}" for i in range(0, 500, 25)]
    demo_store.append_events([(aid, Event("contact_attempt", at, channel="call", outcome="no_answer"), None)
                              for aid in ids], now=at)
    main(["tick", "--db", demo_store.url, "--at", "2026-12-01T11:00:00Z", "--no-dispatch"])
    again = refresh(state, date(2026, 12, 1), kept=kept)
    assert len(ids) <= again["read"] < first["accounts"]

    def body(html):
        return html.split("<main", 1)[1].split("Generated", 1)[0]
    names = [snapshot_name(None), *(snapshot_name(s) for s in again["segments"])]
    kept_pages = {n: body(demo_store.snapshot(n)["body"]) for n in names}
    full = refresh(state, date(2026, 12, 1))                 # nothing kept: every account read
    assert full["read"] == full["accounts"]
    assert kept_pages == {n: body(demo_store.snapshot(n)["body"]) for n in names}


def test_a_refresh_measured_in_pages_keeps_the_pages_of_one_piece(app, demo_store, monkeypatch):
    """The KPI tally measures a page of accounts at a time (bounded memory at 1M accounts): the
    portfolio's and every segment's kept page are those of the ledger measured in one piece, on the
    first refresh and on the refresh that follows a tick."""
    from datetime import datetime, timezone

    from arrears.console.dashboard import Kept, snapshot_name
    from arrears.engine.domain.model import Event
    from decimal import Decimal

    from arrears.engine.kpis import tally
    state = app.extensions["arrears"]
    main(["tick", "--db", demo_store.url, "--at", "2026-12-01T12:30:00Z", "--no-dispatch"])

    def pages(meta):
        names = [snapshot_name(None), *(snapshot_name(s) for s in meta["segments"])]
        return {n: demo_store.snapshot(n)["body"].split("<main", 1)[1].split("Generated", 1)[0]
                for n in names}
    monkeypatch.setattr(tally, "PAGE", 10 ** 9)
    one_piece = pages(refresh(state, date(2026, 12, 1)))
    monkeypatch.setattr(tally, "PAGE", 97)
    kept = Kept()
    first = refresh(state, date(2026, 12, 1), kept=kept)
    assert first["read"] == first["accounts"] > 97 * 3 and first["segments"]
    assert pages(first) == one_piece
    at = datetime(2026, 12, 1, 13, tzinfo=timezone.utc)
    demo_store.append_events([(f"ACC{i:08d}", Event("payment", at, amount=Decimal("10.00")), None)
                              for i in range(0, 500, 7)], now=at)
    main(["tick", "--db", demo_store.url, "--at", "2026-12-01T13:00:00Z", "--no-dispatch"])
    again = pages(refresh(state, date(2026, 12, 1), kept=kept))
    monkeypatch.setattr(tally, "PAGE", 10 ** 9)
    assert again == pages(refresh(state, date(2026, 12, 1))) != one_piece
