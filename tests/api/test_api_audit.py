"""GET /v1/audit: the hash chain, filtered by account, kind and time, page by page."""
from __future__ import annotations

from tests.api.apikit import account, events


def _story(api):
    api.post("/v1/accounts:batch", {"accounts": [account(id="A1"), account(id="A2")]})
    api.put("/v1/accounts/A3", account(id="A3"))
    api.post("/v1/accounts/A1/events", {"events": events()})
    api.post("/v1/accounts/A2/events", {"events": events()[:1]})


def test_the_whole_chain_links_up(api):
    _story(api)
    items = api.get("/v1/audit", role="compliance").get_json()["items"]
    assert [e["seq"] for e in items] == list(range(1, len(items) + 1))
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(items, items[1:]))
    assert [e["kind"] for e in items][-4:] == ["accounts.upserted", "accounts.upserted", "events.appended",
                                               "events.appended"]


def test_entries_about_one_account(api):
    _story(api)
    a1 = api.get("/v1/audit?account_id=A1").get_json()["items"]
    assert [e["kind"] for e in a1] == ["accounts.upserted", "events.appended"]
    assert "A1" in a1[0]["body"]["ids"]
    a3 = api.get("/v1/audit?account_id=A3").get_json()["items"]
    assert [e["kind"] for e in a3] == ["accounts.upserted"] and a3[0]["body"]["ids"] == ["A3"]


def test_since_kind_and_pages(api, state):
    _story(api)
    assert api.get("/v1/audit?since=2999-01-01T00:00:00Z").status_code == 400     # beyond 2200
    assert api.get("/v1/audit?since=2199-01-01T00:00:00Z").get_json()["items"] == []
    appended = api.get("/v1/audit?kind=events.appended").get_json()["items"]
    assert len(appended) == 2
    seen, cursor = [], None
    while True:
        page = api.get("/v1/audit?limit=2" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(range(1, state.store.counts()["audit"] + 1))


def test_unknown_account_and_roles(api):
    assert api.get("/v1/audit?account_id=NOPE").status_code == 404
    assert api.get("/v1/audit", role="integrator").status_code == 403
    assert api.get("/v1/audit", role="agent").status_code == 403
