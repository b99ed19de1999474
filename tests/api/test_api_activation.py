"""After `POST /v1/policies` activates another version, stored decisions say which policy made
them and that they are stale, the work queue leaves them out, and the next tick re-decides
every account under the new policy."""
from __future__ import annotations

import pytest

from arrears.engine.tick import evaluate_due
from arrears.policies import DEFAULT_POLICY
from datetime import timedelta

from tests.api.apikit import NOW, call_account

pytestmark = pytest.mark.also_postgresql

YAML = "application/yaml"
# The suite's NOW is a Sunday afternoon, when the shipped house hours call no consumer: the
# ticks run and the queue is read on the Monday morning after.
MONDAY = NOW + timedelta(hours=19)
AT = "2026-11-23T10:00:00Z"
SOURCE = DEFAULT_POLICY.read_text(encoding="utf-8")
V2 = SOURCE.replace('version: "1.0.0"', 'version: "2.0.0"')     # decides the same steps


def _calls(api, n=4):
    for i in range(2, 2 + n):
        api.put(f"/v1/accounts/CALL-{i:03d}", call_account(i))


def test_decisions_read_between_activation_and_the_next_tick_are_stale(api, state):
    _calls(api)
    v1 = state.policies.active()
    evaluate_due(state.store, v1, MONDAY, horizon=300)
    items = api.get("/v1/decisions", role="integrator").get_json()["items"]
    assert len(items) == 4
    assert all(d["policy"] == {"digest": v1.digest, "name": "default", "version": "1.0.0", "active": True}
               and d["stale"] is False and d["stale_reason"] is None for d in items)
    assert len(api.get(f"/v1/work-queue?at={AT}", role="agent").get_json()["items"]) == 4

    r = api.request("POST", "/v1/policies", data=V2.encode(), content_type=YAML, role="compliance")
    assert r.status_code == 201
    v2 = r.get_json()["digest"]
    items = api.get("/v1/decisions").get_json()["items"]
    assert len(items) == 4
    for d in items:
        assert d["policy_digest"] == v1.digest and d["policy"]["version"] == "1.0.0"
        assert d["policy"]["active"] is False and d["stale"] is True
        assert f"decided under policy default 1.0.0 ({v1.digest})" in d["stale_reason"]
        assert f"default 2.0.0 ({v2}) has been active since" in d["stale_reason"]
    queue = api.get(f"/v1/work-queue?at={AT}", role="agent").get_json()
    assert queue["source"] == "tick" and queue["items"] == []        # nobody is called on stale decisions

    counts = evaluate_due(state.store, state.policies.active(), MONDAY, horizon=300)
    assert counts.evaluated == 4 and counts.decisions_written == 4
    items = api.get("/v1/decisions").get_json()["items"]
    assert {d["policy_digest"] for d in items} == {v2}
    assert all(d["policy"]["version"] == "2.0.0" and not d["stale"] for d in items)
    assert len(api.get(f"/v1/work-queue?at={AT}", role="agent").get_json()["items"]) == 4
