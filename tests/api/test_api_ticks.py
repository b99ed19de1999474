"""Tick runs over HTTP: POST /v1/ticks runs one in the background; GET reads runs (admin only)."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from arrears.engine.store import tickruns
from arrears.engine.store.leases import acquire
from tests.api.apikit import AT, NOW, account, call_account
from tests.waiting import wait_until

ROLES_REFUSED = ("integrator", "compliance", "agent")


def wait(api, run_id: int, timeout: float = 120.0) -> dict:
    """The run once it has finished (polling GET /v1/ticks/{id} as a client would)."""
    def finished():
        run = api.get(f"/v1/ticks/{run_id}").get_json()
        return run if run["status"] not in tickruns.UNFINISHED else None

    return wait_until(finished, timeout, 0.02, what=f"tick run {run_id} to finish")


def decision_digests(state) -> set:
    with state.store.engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT policy_digest FROM decisions")}


@pytest.fixture
def portfolio(api):
    """Three stored accounts, all due."""
    for acc in (account(), call_account(1), call_account(2)):
        assert api.put(f"/v1/accounts/{acc['id']}", acc).status_code == 201


def test_post_runs_a_tick_in_the_background_and_get_reports_it(api, state, portfolio):
    r = api.post("/v1/ticks", {"at": AT})
    assert r.status_code == 202
    run = r.get_json()
    assert r.headers["Location"] == f"/v1/ticks/{run['id']}"
    assert run["trigger"] == "api" and run["at"] == AT and run["dispatch"] is False
    assert run["status"] in ("pending", "running", "succeeded")
    done = wait(api, run["id"])
    assert done["status"] == "succeeded" and done["error"] is None
    assert done["started_at"] is not None and done["finished_at"] >= done["started_at"]
    summary = done["summary"]
    assert summary["at"] == AT and summary["evaluated"] == 3 and summary["skipped_reason"] is None
    assert summary["decisions_written"] == state.store.counts()["decisions"] == 3
    assert summary["delivered"] == 0            # no scheduler here: evaluate and queue only
    assert api.get("/v1/ticks").get_json()["items"] == [done]


def test_at_defaults_to_now(api, portfolio):
    before = int(time.time())
    run = wait(api, api.post("/v1/ticks", {}).get_json()["id"])
    at = datetime.fromisoformat(run["at"]).timestamp()
    assert before - 1 <= at <= time.time() + 1


def test_a_held_lease_is_409_and_records_nothing(api, state, portfolio):
    # A tick elsewhere: `arrears tick` in another process, recorded as running under its holder.
    run_id = tickruns.create(state.store.engine, trigger="cli", at=int(NOW.timestamp()), holder="other:1:x",
                             dispatch=True, now=int(time.time()))
    acquire(state.store.engine, "tick", "other:1:x", now=time.time(), ttl=600)
    r = api.post("/v1/ticks", {"at": AT})
    assert r.status_code == 409
    problem = r.get_json()
    assert problem["type"] == "urn:arrears:problem:conflict"
    assert f"run {run_id}" in problem["detail"] and "try again" in problem["detail"]
    assert [i["id"] for i in api.get("/v1/ticks").get_json()["items"]] == [run_id]
    assert state.store.counts()["decisions"] == 0


def test_a_lease_without_a_known_run_names_its_holder(api, state):
    acquire(state.store.engine, "tick", "old-version:7:y", now=time.time(), ttl=600)
    r = api.post("/v1/ticks", {})
    assert r.status_code == 409 and "lease held by old-version:7:y" in r.get_json()["detail"]


def test_an_expired_lease_does_not_block(api, state, portfolio):
    acquire(state.store.engine, "tick", "gone:1:z", now=time.time() - 1000, ttl=10)
    assert wait(api, api.post("/v1/ticks", {"at": AT}).get_json()["id"])["status"] == "succeeded"


@pytest.mark.parametrize("role", ROLES_REFUSED)
def test_only_admin_keys_may_run_or_read_ticks(api, role):
    assert api.post("/v1/ticks", {}, role=role).status_code == 403
    assert api.get("/v1/ticks", role=role).status_code == 403
    assert api.get("/v1/ticks/1", role=role).status_code == 403


def test_no_key_is_401(api):
    assert api.post("/v1/ticks", {}, role=None).status_code == 401
    assert api.get("/v1/ticks", role=None).status_code == 401


@pytest.mark.parametrize("path", ["/v1/ticks/999", "/v1/ticks/abc", "/v1/ticks/-1", "/v1/ticks/1e3",
                                  "/v1/ticks/99999999999999999999999"])
def test_unknown_runs_are_404(api, path):
    r = api.get(path)
    assert r.status_code == 404 and r.get_json()["type"] == "urn:arrears:problem:not-found"


@pytest.mark.parametrize("body, pointer", [
    ({"at": "yesterday"}, "/at"), ({"at": "2026-11-22"}, "/at"), ({"at": "1969-12-31T23:59:59Z"}, "/at"),
    ({"at": 5}, "/at"), ({"when": AT}, "/when"), ([], ""),
])
def test_bad_bodies_are_422_and_start_nothing(api, body, pointer):
    r = api.post("/v1/ticks", body)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["pointer"] == pointer
    assert api.get("/v1/ticks").get_json()["items"] == []


def test_a_body_that_is_not_json_is_refused(api):
    assert api.request("POST", "/v1/ticks", data=b"{", content_type="application/json").status_code == 400
    assert api.request("POST", "/v1/ticks", data=b"at: now", content_type="application/yaml").status_code == 415
    assert api.request("POST", "/v1/ticks", data=b"", content_type="application/json").status_code == 400


def test_list_pages_newest_first_and_filters(api, state, portfolio):
    ids = [wait(api, api.post("/v1/ticks", {"at": f"2026-11-{d}T15:00:00Z"}).get_json()["id"])["id"]
           for d in (22, 23, 24)]
    page = api.get("/v1/ticks?limit=2").get_json()
    assert [i["id"] for i in page["items"]] == ids[:0:-1]
    rest = api.get(f"/v1/ticks?limit=2&cursor={page['next_cursor']}").get_json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert len(api.get("/v1/ticks?trigger=api&status=succeeded").get_json()["items"]) == 3
    assert api.get("/v1/ticks?trigger=cli").get_json()["items"] == []
    r = api.get(f"/v1/ticks?trigger=cli&cursor={page['next_cursor']}")
    assert r.status_code == 400 and r.get_json()["errors"][0]["parameter"] == "cursor"
    assert api.get("/v1/ticks?status=done").status_code == 400


def test_close_waits_for_a_running_tick(app, api, state, portfolio):
    run_id = api.post("/v1/ticks", {"at": AT}).get_json()["id"]
    state.close()             # as the server does on SIGTERM; the fixture's second close is harmless
    with state.store.engine.connect() as conn:
        status = tickruns.get(conn, run_id).status
    assert status in ("succeeded", "skipped", "stopped")
    assert api.post("/v1/ticks", {}).status_code == 503
