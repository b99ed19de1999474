"""One policy truth: a policy activated through the API is what every tick uses, and a
restart of the tick (pointed at its policy file) keeps it."""
from __future__ import annotations

import json
import logging

import pytest

from arrears.api import create_app
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import TickSettings
from arrears.policies import DEFAULT_POLICY
from tests.api.apikit import NOW, account, call_account

YAML = "application/yaml"
SOURCE = DEFAULT_POLICY.read_text(encoding="utf-8")
V2 = SOURCE.replace('version: "1.0.0"', 'version: "2.0.0"').replace("max_attempts: 3", "max_attempts: 4", 1)


def upload(api, text: str) -> str:
    r = api.request("POST", "/v1/policies", data=text.encode(), content_type=YAML, role="compliance")
    assert r.status_code in (200, 201)
    return r.get_json()["digest"]


def page_digests(state) -> list[str]:
    """The policy digest of every `tick.page` audit entry, oldest first."""
    with state.store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT body FROM audit WHERE kind = 'tick.page' ORDER BY seq").all()
    return [json.loads(r[0])["policy_digest"] for r in rows]


def decision_digests(state) -> set[str]:
    with state.store.engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT policy_digest FROM decisions")}


@pytest.fixture
def tick_settings(db_url) -> TickSettings:
    """The tick pointed at the same database, with the shipped policy file (version 1.0.0)."""
    return TickSettings(database_url=db_url, policy_path=DEFAULT_POLICY)


@pytest.fixture
def stored(api):
    for acc in (account(), call_account(1)):
        api.put(f"/v1/accounts/{acc['id']}", acc)


def test_a_policy_activated_through_the_api_is_used_by_the_next_tick(api, state, stored, tick_settings):
    runtime = Runtime(tick_settings, dispatch=False)      # running before the upload
    try:
        v1 = runtime.policy.digest
        v2 = upload(api, V2)
        assert v2 != v1
        _, summary = runtime.run(NOW, "scheduled")
        assert summary.evaluated == 2
        assert page_digests(state) == [v2] and decision_digests(state) == {v2}
    finally:
        runtime.close()


def test_a_restart_keeps_the_api_policy_and_stores_nothing_new(api, state, stored, tick_settings, caplog):
    v2 = upload(api, V2)
    before = state.store.counts()["audit"]
    with caplog.at_level(logging.INFO, logger="arrears.policy"):
        runtime = Runtime(tick_settings, dispatch=False)  # a restart with the file still at 1.0.0
    try:
        assert state.store.active_policy()["digest"] == v2 == runtime.policy.digest
        assert state.store.counts()["audit"] == before    # the file's version was stored already
        assert "stays in force" in caplog.text
        runtime.run(NOW, "cli")
        assert page_digests(state) == [v2]
    finally:
        runtime.close()
    restarted = create_app({"database_url": tick_settings.database_url})
    try:
        assert restarted.extensions["arrears"].policies.active().digest == v2
    finally:
        restarted.extensions["arrears"].close()


def test_a_changed_file_is_stored_inactive_and_logged_not_activated(api, state, tmp_path, db_url, caplog):
    v2 = upload(api, V2)
    v3_file = tmp_path / "v3.yaml"
    v3_file.write_text(SOURCE.replace('version: "1.0.0"', 'version: "3.0.0"'), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="arrears.policy"):
        Runtime(TickSettings(database_url=db_url, policy_path=v3_file), dispatch=False).close()
    versions = {p["version"]: p for p in api.get("/v1/policies").get_json()["items"]}
    assert set(versions) == {"1.0.0", "2.0.0", "3.0.0"}
    assert versions["2.0.0"]["active"] and not versions["3.0.0"]["active"]
    assert state.store.active_policy()["digest"] == v2
    assert "v3.yaml" in caplog.text and "not the active policy" in caplog.text
    assert "POST /v1/policies" in caplog.text and "--activate-policy" in caplog.text


def test_activate_policy_makes_the_file_active_on_purpose(api, state, stored, tmp_path, db_url):
    upload(api, V2)
    v3_file = tmp_path / "v3.yaml"
    v3_file.write_text(SOURCE.replace('version: "1.0.0"', 'version: "3.0.0"'), encoding="utf-8")
    runtime = Runtime(TickSettings(database_url=db_url, policy_path=v3_file), dispatch=False,
                      activate_policy=True)
    try:
        v3 = runtime.policy.digest
        assert state.store.active_policy()["version"] == "3.0.0"
        assert api.get("/v1/policies/active").get_json()["digest"] == v3     # the API follows it
        runtime.run(NOW, "cli")
        assert page_digests(state) == [v3]
    finally:
        runtime.close()


def test_an_unusable_file_does_not_stop_a_store_with_an_active_policy(api, state, tmp_path, db_url, caplog):
    v2 = upload(api, V2)
    with caplog.at_level(logging.WARNING, logger="arrears.policy"):
        runtime = Runtime(TickSettings(database_url=db_url, policy_path=tmp_path / "missing.yaml"),
                          dispatch=False)
    try:
        assert runtime.policy.digest == v2
        assert "missing.yaml" in caplog.text and "cannot be used" in caplog.text
    finally:
        runtime.close()


def test_a_tick_requested_over_http_uses_the_api_policy(api, state, stored):
    from tests.waiting import wait_until
    v2 = upload(api, V2)
    run_id = api.post("/v1/ticks", {"at": "2026-11-22T15:00:00Z"}).get_json()["id"]
    wait_until(lambda: api.get(f"/v1/ticks/{run_id}").get_json()["status"] not in ("pending", "running"),
               120, 0.02, what="the requested tick to finish")
    assert decision_digests(state) == {v2}
