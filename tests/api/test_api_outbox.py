"""GET /v1/outbox and /v1/outbox/{id}: delivery status (pending, retrying, sent, failed, unknown)."""
from __future__ import annotations

import pytest

from arrears.engine.store import outboxstore
from arrears.engine.tick import evaluate_due
from tests.api.apikit import NOW, account

pytestmark = pytest.mark.also_postgresql
T = int(NOW.timestamp())


@pytest.fixture
def queued(api, state):
    """Five accounts, each with one contact queued by a tick; ids by account."""
    for i in range(5):
        assert api.put(f"/v1/accounts/ACME-{i}", account(id=f"ACME-{i}")).status_code == 201
    evaluate_due(state.store, state.policies.active(), NOW, horizon=300)
    items = api.get("/v1/outbox").get_json()["items"]
    assert len(items) == 5
    return {it["account_id"]: it["id"] for it in items}


def _deliver(state, row_id: int, **values) -> None:
    with state.store.transaction(now=T + 60) as w:
        assert outboxstore.claim(w.conn, row_id, "run-1", T + 60)
        assert outboxstore.finish(w.conn, row_id, "run-1", T + 60, **values)


@pytest.fixture
def delivered(state, queued):
    """ACME-1 retrying, ACME-2 sent, ACME-3 failed, ACME-4 unknown, ACME-0 still pending."""
    _deliver(state, queued["ACME-1"], status="pending", tries=1, next_attempt_at=T + 121, claimed_by=None,
             claimed_at=None, last_error="provider answered 503")
    _deliver(state, queued["ACME-2"], status="sent", tries=1, provider_id="prov-77")
    _deliver(state, queued["ACME-3"], status="failed", tries=3, last_error="mailbox does not exist")
    with state.store.transaction(now=T + 60) as w:
        outboxstore.claim(w.conn, queued["ACME-4"], "run-2", T + 60)
        outboxstore.abandon_orphans(w.conn, "run-3", T + 90)
    return queued


def test_each_status_with_its_reason(api, delivered):
    items = {it["account_id"]: it for it in api.get("/v1/outbox", role="integrator").get_json()["items"]}
    assert items["ACME-0"]["status"] == "pending" and items["ACME-0"]["retrying"] is False
    retry = items["ACME-1"]
    assert (retry["status"], retry["retrying"], retry["tries"]) == ("pending", True, 1)
    assert retry["last_error"] == "provider answered 503"
    assert retry["next_attempt_at"] == "2026-11-22T15:02:01Z"
    assert (items["ACME-2"]["status"], items["ACME-2"]["provider_id"]) == ("sent", "prov-77")
    assert items["ACME-2"]["next_attempt_at"] is None
    assert (items["ACME-3"]["status"], items["ACME-3"]["last_error"]) == ("failed", "mailbox does not exist")
    assert items["ACME-4"]["status"] == "unknown" and "may or may not" in items["ACME-4"]["last_error"]


@pytest.mark.parametrize("status, accounts", [("retrying", {"ACME-1"}), ("pending", {"ACME-0", "ACME-1"}),
                                              ("sent", {"ACME-2"}), ("failed", {"ACME-3"}),
                                              ("unknown", {"ACME-4"}), ("cancelled", set())])
def test_status_filter(api, delivered, status, accounts):
    assert {it["account_id"] for it in api.get(f"/v1/outbox?status={status}").get_json()["items"]} == accounts


def test_channel_and_account_filters(api, delivered):
    assert len(api.get("/v1/outbox?channel=letter").get_json()["items"]) == 5
    assert api.get("/v1/outbox?channel=sms").get_json()["items"] == []
    [one] = api.get("/v1/outbox?account_id=ACME-3").get_json()["items"]
    assert one["status"] == "failed"


def test_keyset_pages_newest_first(api, queued):
    first = api.get("/v1/outbox?limit=2").get_json()
    second = api.get(f"/v1/outbox?limit=2&cursor={first['next_cursor']}").get_json()
    third = api.get(f"/v1/outbox?limit=2&cursor={second['next_cursor']}").get_json()
    ids = [it["id"] for page in (first, second, third) for it in page["items"]]
    assert ids == sorted(queued.values(), reverse=True) and third["next_cursor"] is None
    r = api.get(f"/v1/outbox?limit=2&status=sent&cursor={first['next_cursor']}")
    assert r.status_code == 400 and r.get_json()["errors"][0]["parameter"] == "cursor"


def test_one_row(api, delivered):
    row = api.get(f"/v1/outbox/{delivered['ACME-2']}").get_json()
    assert (row["account_id"], row["status"], row["provider_id"]) == ("ACME-2", "sent", "prov-77")
    for bad in ("999999", "abc", "1" * 30):
        r = api.get(f"/v1/outbox/{bad}")
        assert r.status_code == 404 and r.get_json()["type"] == "urn:arrears:problem:not-found"


@pytest.mark.parametrize("role, status", [("integrator", 200), ("admin", 200), ("agent", 403),
                                          ("compliance", 403)])
def test_roles(api, role, status):
    assert api.get("/v1/outbox", role=role).status_code == status


def test_bad_status_is_400(api):
    r = api.get("/v1/outbox?status=lost")
    assert r.status_code == 400 and r.get_json()["errors"][0]["parameter"] == "status"
