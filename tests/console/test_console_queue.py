"""The collectors' work queue: claims, the call script, outcomes recorded as events, and the
account decided again at once."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from arrears.engine.cli import main
from arrears.engine.store.schema import audit
from tests.console.consolekit import csrf_of, log_in, logged_in
from tests.waiting import wait_until


# The demo's day (consolekit.make_store), a Tuesday, in the house contact hours of London, Paris,
# Berlin and New York: decided then, its calls are due in the queue whatever day the tests run on
# (decided at the real time, a Sunday or an evening would leave none).
DECIDED_AT = "2026-12-01T15:00:00+00:00"


@pytest.fixture(scope="module")
def clock():
    """The console's time in these tests: from DECIDED_AT on, as fast as the real one."""
    start, t0 = datetime.fromisoformat(DECIDED_AT), time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - t0)


@pytest.fixture()
def app(demo_store, clock):
    """The app on the demo store, its console at the demo's working day (`clock`)."""
    from arrears.api import create_app
    app = create_app({"database_url": demo_store.url}, store=demo_store, clock=clock)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def ticked(demo_store):
    """The demo portfolio decided by a tick on its day, so calls are in the queue."""
    assert main(["tick", "--db", demo_store.url, "--no-dispatch", "--at", DECIDED_AT]) == 0
    return demo_store


_as = logged_in


def _queue_ids(client) -> list[str]:
    page = client.get("/queue").get_data(as_text=True)
    return re.findall(r'<td><a href="/accounts/([^"]+)">', page)


def _claim(client, account_id):
    token = csrf_of(client.get("/queue").get_data(as_text=True))
    return client.post(f"/queue/{account_id}", data={"csrf_token": token})


def _free_account(client, store) -> str:
    from arrears.engine.store import claims
    ids = _queue_ids(client)
    with store.engine.connect() as conn:
        held = claims.holders(conn, ids, int(datetime.now(timezone.utc).timestamp()))
    free = [i for i in ids if i not in held]
    assert free, "the demo's queue has no free call today"
    return free[0]


def test_an_empty_queue_says_when_no_tick_has_decided_the_accounts_yet(tmp_path):
    """Before the first tick (`serve --demo` just started) and while one runs, the queue is empty
    for a reason the collector is told."""
    from arrears.api import create_app
    from arrears.engine.store import tickruns
    from tests.console.consolekit import make_store
    store = make_store(tmp_path / "fresh.db")
    try:
        app = create_app({"database_url": store.url}, store=store)
        client = _as(app, "agent")
        page = client.get("/queue").get_data(as_text=True)
        assert "No call is due today" in page and "No tick has run yet" in page
        now = int(datetime.now(timezone.utc).timestamp())
        run = tickruns.create(store.engine, trigger="scheduled", at=now, holder="h", dispatch=False, now=now)
        page = client.get("/queue").get_data(as_text=True)
        assert f"A tick is running (run {run}, since " in page and "No tick has run yet" not in page
        tickruns.finish(store.engine, run, "succeeded", now)
        page = client.get("/queue").get_data(as_text=True)
        assert "No call is due today" in page and "A tick is running" not in page
    finally:
        store.close()


def test_the_queue_lists_todays_calls_by_priority(app, ticked):
    page = _as(app, "agent").get("/queue").get_data(as_text=True)
    priorities = [float(p) for p in re.findall(r'<td class="num">([0-9.]+)</td>', page)]
    assert priorities and priorities == sorted(priorities, reverse=True)
    assert len(priorities) <= app.extensions["arrears"].settings.work_queue_capacity["call"]


def test_two_agents_never_hold_the_same_account(app, ticked, demo_store):
    from arrears.console.passwords import hash_password
    demo_store.users.add("agent2", "agent", hash_password("second agent pass"), by="test")
    first, second = _as(app, "agent"), app.test_client()
    log_in(second, "agent2", "second agent pass")
    account = _free_account(first, demo_store)
    assert _claim(first, account).headers["Location"] == f"/queue/{account}"
    work = first.get(f"/queue/{account}").get_data(as_text=True)
    assert f"Working {account}" in work and "Call script" in work
    refused = _claim(second, account)
    assert refused.headers["Location"] == "/queue"
    assert "being worked by another agent" in second.get("/queue").get_data(as_text=True)
    assert second.get(f"/queue/{account}").headers["Location"] == "/queue"     # no peeking at the work page
    token = csrf_of(work)
    first.post(f"/queue/{account}/release", data={"csrf_token": token})
    assert _claim(second, account).headers["Location"] == f"/queue/{account}"


def test_a_promise_is_recorded_and_the_account_decided_again(app, ticked, demo_store):
    client = _as(app, "agent")
    account = _free_account(client, demo_store)
    work = client.get(_claim(client, account).headers["Location"]).get_data(as_text=True)
    before = len(demo_store.get_account(account)[1])
    form = {"csrf_token": csrf_of(work), "key": re.search(r'name="key" value="([^"]+)"', work)[1],
            "stage": re.search(r'name="stage" value="([^"]*)"', work)[1], "outcome": "promise",
            "amount": "120.00", "until": "2099-01-01", "note": "pays on the first"}
    r = client.post(f"/queue/{account}/outcome", data=form)
    assert r.status_code == 302 and r.headers["Location"] == "/queue"
    assert client.post(f"/queue/{account}/outcome", data=form).headers["Location"] == "/queue"   # sent twice
    _, events = demo_store.get_account(account)
    added = events[before:]
    assert [e.type for e in added] == ["contact_outcome", "promise_to_pay"]
    assert added[0].outcome == "conversation" and added[0].channel == "call" and added[0].note == "pays on the first"
    assert str(added[1].amount) == "120.00" and added[1].until.isoformat() == "2099-01-01"
    with demo_store.engine.connect() as conn:
        logged = [r.body for r in conn.execute(select(audit.c.body).where(
            audit.c.kind == "console.outcome", audit.c.subject == account))]
    assert logged and '"by":"agent"' in logged[0]
    # decided again by the tick the outcome asked for: the promise pauses it, so it leaves the queue

    def decided():
        from arrears.engine.store.db import read_transaction
        from sqlalchemy import text
        with read_transaction(demo_store.engine) as conn:
            row = conn.execute(text("SELECT a.revision, a.evaluated_revision, d.body FROM accounts a "
                                    "JOIN decisions d ON d.id = a.decision_id WHERE a.id = :i"), {"i": account}).one()
        return row.revision == row.evaluated_revision and row
    row = wait_until(decided, 60, 0.1, what="the account decided again")
    assert "pause.promise_to_pay" in row.body
    assert account not in _queue_ids(client)


def test_a_bad_outcome_is_refused_at_its_field_and_stores_nothing(app, ticked, demo_store):
    client = _as(app, "agent")
    account = _free_account(client, demo_store)
    work = client.get(_claim(client, account).headers["Location"]).get_data(as_text=True)
    before = len(demo_store.get_account(account)[1])
    for fields, message in (({"outcome": "promise", "amount": "lots", "until": "2099-01-01"}, "Amount: enter an amount"),
                            ({"outcome": "promise", "amount": "10", "until": "soon"}, "Date: enter a date"),
                            ({"outcome": "dispute", "reason": ""}, "Reason: say why"),
                            ({"outcome": "plan", "amount": "10", "count": "0", "first": "2099-01-01"}, "Instalments:")):
        r = client.post(f"/queue/{account}/outcome", data={"csrf_token": csrf_of(work), "key": "k", **fields})
        assert r.status_code == 422 and message in r.get_data(as_text=True), fields
    assert len(demo_store.get_account(account)[1]) == before


def test_a_payment_plan_becomes_monthly_instalments(app, ticked, demo_store):
    client = _as(app, "agent")
    account = _free_account(client, demo_store)
    work = client.get(_claim(client, account).headers["Location"]).get_data(as_text=True)
    client.post(f"/queue/{account}/outcome", data={"csrf_token": csrf_of(work), "key": "plan-1", "outcome": "plan",
                                                   "amount": "50.00", "count": "3", "first": "2099-01-31"})
    plan = demo_store.get_account(account)[1][-1]
    assert plan.type == "payment_plan"
    assert [(d.isoformat(), str(a)) for d, a in plan.instalments] == [
        ("2099-01-31", "50.00"), ("2099-02-28", "50.00"), ("2099-03-31", "50.00")]


def test_managers_read_the_queue_but_do_not_work_it(app, ticked):
    manager = _as(app, "manager")
    assert manager.get("/queue").status_code == 200
    account = _queue_ids(manager)[0]
    assert _claim(manager, account).status_code == 403
    assert _as(app, "compliance").get("/queue").status_code == 403


def test_under_htmx_claim_and_give_back_answer_with_the_row(app, ticked):
    """htmx posts the same forms with `HX-Request`: the answer is the queue's row as it now is (no
    redirect, no page); another agent's claim is refused in the row (409)."""
    from arrears.engine.store import claims
    agent = _as(app, "agent")
    account_id = _free_account(agent, ticked)
    token = csrf_of(agent.get("/queue").get_data(as_text=True))
    hx = {"HX-Request": "true"}
    r = agent.post(f"/queue/{account_id}", data={"csrf_token": token}, headers=hx)
    row = r.get_data(as_text=True)
    assert r.status_code == 200 and row.lstrip().startswith("<tbody") and "<html" not in row
    assert f'id="queue-{account_id}"' in row and "you until" in row
    assert "Claimed: yours for 30 minutes." in row
    assert f'href="/queue/{account_id}"' in row and "Give back" in row
    # the work on it comes in the row: the outcome form, its fields named for this account
    assert f'id="w-{account_id}-amount"' in row and f'hx-post="/queue/{account_id}/outcome"' in row
    # and the "You hold" line above the queue, out of band, naming it
    mine = re.search(r'<p id="queue-mine" hx-swap-oob="true"( hidden)?>(.*?)</p>', row, re.S)
    assert mine and not mine[1] and f">{account_id}</a>" in mine[2]
    with ticked.engine.connect() as conn:
        now = int(datetime.now(timezone.utc).timestamp())
        assert claims.holders(conn, [account_id], now)[account_id].username == "agent"
    admin = _as(app, "admin")
    admin_token = csrf_of(admin.get("/queue").get_data(as_text=True))
    r = admin.post(f"/queue/{account_id}", data={"csrf_token": admin_token}, headers=hx)
    assert r.status_code == 409 and "being worked by another agent" in r.get_data(as_text=True)
    assert "agent until" in r.get_data(as_text=True)
    r = agent.post(f"/queue/{account_id}/release", data={"csrf_token": token}, headers=hx)
    row = r.get_data(as_text=True)
    assert r.status_code == 200 and "Back in the queue." in row and ">Claim <span" in row
    mine = re.search(r'<p id="queue-mine" hx-swap-oob="true"( hidden)?>(.*?)</p>', row, re.S)
    assert mine and f">{account_id}</a>" not in mine[2]
    with ticked.engine.connect() as conn:
        now = int(datetime.now(timezone.utc).timestamp())
        assert account_id not in claims.holders(conn, [account_id], now)


def test_under_htmx_an_outcome_answers_with_the_row_and_a_wrong_field_with_the_form(app, ticked):
    from arrears.engine.store import claims
    agent = _as(app, "agent")
    account_id = _free_account(agent, ticked)
    token = csrf_of(agent.get("/queue").get_data(as_text=True))
    hx = {"HX-Request": "true"}
    assert agent.post(f"/queue/{account_id}", data={"csrf_token": token}, headers=hx).status_code == 200
    _, before = ticked.get_account(account_id)
    r = agent.post(f"/queue/{account_id}/outcome", headers=hx,
                   data={"csrf_token": token, "outcome": "promise", "amount": "ten", "key": "hx-1"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and page.lstrip().startswith("<tbody") and "Nothing was recorded" in page
    assert f'id="w-{account_id}-amount-error"' in page and "enter an amount such as 250.00" in page
    assert len(ticked.get_account(account_id)[1]) == len(before)
    r = agent.post(f"/queue/{account_id}/outcome", headers=hx,
                   data={"csrf_token": token, "outcome": "no_answer", "key": "hx-2"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "No answer recorded for" in page
    assert "leaves the queue once decided again" in page
    assert 'class="work"' not in page
    _, after = ticked.get_account(account_id)
    assert [e.type for e in after[len(before):]] == ["contact_outcome"]
    with ticked.engine.connect() as conn:
        now = int(datetime.now(timezone.utc).timestamp())
        assert account_id not in claims.holders(conn, [account_id], now)
    r = agent.post(f"/queue/{account_id}/outcome", headers=hx,
                   data={"csrf_token": token, "outcome": "no_answer", "key": "hx-3"})
    assert r.status_code == 409 and "Your claim on" in r.get_data(as_text=True)
