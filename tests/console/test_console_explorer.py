"""The decision explorer: search, and the account page as the engine decides it now."""
from __future__ import annotations

import html
from datetime import datetime, timezone

from arrears.api import create_app
from arrears.engine.decisions.core import decide
from arrears.engine.domain.model import Account, Event
from tests.console.consolekit import log_in


def _logged_in(app, role="manager"):
    client = app.test_client()
    log_in(client, role)
    return client


def test_search_by_id_prefix_lists_the_accounts_with_their_latest_decision(app):
    page = _logged_in(app).get("/accounts?q=ACC0000001").get_data(as_text=True)
    assert "10 accounts for “ACC0000001”" in page
    assert [f"/accounts/ACC0000001{i}" for i in range(10)] == \
        [line.split('"')[1] for line in page.split("<a href=")[1:] if "/accounts/ACC" in line.split('"')[1]]


def test_search_by_debtor_and_account_manager(app, demo_store):
    demo_store.upsert_accounts([Account.from_dict({
        "id": "ZED-1", "currency": "EUR", "debtor_id": "DEBTOR-77", "account_manager": "Priya Shah",
        "invoices": [{"id": "I1", "amount": "10.00", "due_date": "2026-10-01"}]})])
    client = _logged_in(app)
    for q in ("DEBTOR-77", "Priya Shah", "ZED"):
        page = client.get(f"/accounts?q={q}").get_data(as_text=True)
        assert 'href="/accounts/ZED-1"' in page, q
    assert "No account matches" in client.get("/accounts?q=nothing-like-this").get_data(as_text=True)


def test_the_account_page_shows_what_the_engine_decides(demo_store):
    now = datetime(2026, 12, 1, 15, 0, 30, tzinfo=timezone.utc)        # the app's clock: the page decides then
    app = create_app({"database_url": demo_store.url}, store=demo_store, clock=lambda: now)
    account, events = demo_store.get_account("ACC00000012")
    page = _logged_in(app, "agent").get("/accounts/ACC00000012").get_data(as_text=True)
    assert "Decided 2026-12-01 15:00 UTC" in html.unescape(page)
    d = decide(account, events, app.extensions["arrears"].policies.active(), now)
    text = html.unescape(page)
    assert f"Priority {d.priority.score:.2f} of 100" in text
    if d.action:
        assert f"stage {d.action.stage}, attempt {d.action.attempt}" in text
    else:
        assert "No contact now." in text
    for s in d.suppressions:
        assert s.rule in text
    for inv in d.invoices:
        assert inv.id in text
    for t in d.trace:
        if t.step.startswith("stage "):
            assert t.step[6:] in text and t.detail in text
    assert f"History ({len(events)} event" in text


def test_account_data_is_shown_as_text_never_as_markup(app, demo_store):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    demo_store.upsert_accounts([Account.from_dict({
        "id": "EVIL-1", "currency": "EUR", "debtor_id": evil, "account_manager": evil,
        "invoices": [{"id": evil[:60], "amount": "10.00", "due_date": "2026-10-01"}]})])
    demo_store.append_events([("EVIL-1", Event.from_dict({
        "type": "contact_attempt", "at": "2026-11-01T10:00:00Z", "channel": "call", "outcome": "no_answer",
        "stage": "personal_call", "note": evil}), None)])
    client = _logged_in(app)
    for page in (client.get("/accounts/EVIL-1").get_data(as_text=True),
                 client.get("/accounts?q=EVIL").get_data(as_text=True),
                 client.get(f"/accounts?q={evil}").get_data(as_text=True)):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/accounts/EVIL-1").get_data(as_text=True)


def test_an_unknown_account_is_a_page_saying_so(app):
    r = _logged_in(app).get("/accounts/NO-SUCH-ACCOUNT")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "No account &#39;NO-SUCH-ACCOUNT&#39; is stored." in r.get_data(as_text=True)
