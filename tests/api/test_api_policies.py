"""Policies: list and read versions, validate candidates, upload and activate (compliance)."""
from __future__ import annotations

import pytest

from arrears.policies import DEFAULT_POLICY
from tests.api.apikit import AT, account

YAML = "application/yaml"
SOURCE = DEFAULT_POLICY.read_text(encoding="utf-8")
V2 = SOURCE.replace('version: "1.0.0"', 'version: "2.0.0"').replace("max_attempts: 3", "max_attempts: 4", 1)
BROKEN = SOURCE.replace("days_past_due: 30", "days_past_due: thirty", 1).replace("tone: neutral", "tone: rude", 1)


def upload(api, text, role="compliance"):
    return api.request("POST", "/v1/policies", data=text.encode(), content_type=YAML, role=role)


def test_the_configured_policy_is_active_at_first_start(api):
    page = api.get("/v1/policies", role="compliance").get_json()
    assert [p["version"] for p in page["items"]] == ["1.0.0"] and page["items"][0]["active"]
    active = api.get("/v1/policies/active").get_json()
    assert active["source"] == SOURCE and active["name"] == "default"
    assert api.get(f"/v1/policies/{active['digest']}").get_json() == active


def test_validate_a_good_and_a_bad_candidate(api, state):
    r = api.request("POST", "/v1/policies:validate", data=V2.encode(), content_type=YAML, role="compliance")
    assert r.status_code == 200
    assert r.get_json()["valid"] is True and r.get_json()["policy"]["version"] == "2.0.0"
    r = api.request("POST", "/v1/policies:validate", data=BROKEN.encode(), content_type="text/yaml")
    body = r.get_json()
    assert r.status_code == 200 and body["valid"] is False and body["policy"] is None
    lines = [p["line"] for p in body["problems"]]
    assert len(body["problems"]) >= 2 and all(isinstance(p["column"], int) for p in body["problems"])
    assert SOURCE.splitlines()[lines[0] - 1].strip().startswith(("days_past_due", "tone"))
    assert len(api.get("/v1/policies").get_json()["items"]) == 1      # nothing stored


def test_validate_reports_yaml_syntax_errors_with_position(api):
    r = api.request("POST", "/v1/policies:validate", data=b"metadata: [unclosed\n", content_type=YAML)
    problem = r.get_json()["problems"][0]
    assert problem["line"] >= 1 and problem["column"] >= 1


def test_upload_activates_a_new_version_and_decisions_follow(api, state):
    r = upload(api, V2)
    assert r.status_code == 201
    assert r.get_json()["version"] == "2.0.0" and r.get_json()["active"]
    assert api.get("/v1/policies/active").get_json()["version"] == "2.0.0"
    decision = api.post("/v1/decide", {"account": account(), "at": AT}).get_json()
    assert decision["policy"]["version"] == "2.0.0"
    old = api.get("/v1/policies").get_json()["items"][1]
    assert old["version"] == "1.0.0" and not old["active"]
    pinned = api.post("/v1/decide", {"account": account(), "at": AT, "policy": old["digest"]}).get_json()
    assert pinned["policy"]["version"] == "1.0.0"
    assert upload(api, SOURCE).status_code == 200           # stored before: re-activated
    assert api.get("/v1/policies/active").get_json()["version"] == "1.0.0"


def test_an_invalid_upload_changes_nothing(api, state):
    before = state.store.counts()["audit"]
    r = upload(api, BROKEN)
    assert r.status_code == 422
    problem = r.get_json()
    assert problem["type"] == "urn:arrears:problem:invalid-policy"
    assert all({"line", "column", "pointer", "detail"} <= set(e) for e in problem["errors"])
    assert api.get("/v1/policies/active").get_json()["version"] == "1.0.0"
    assert state.store.counts()["audit"] == before


def test_uploads_are_audited(api):
    upload(api, V2)
    kinds = [e["kind"] for e in api.get("/v1/audit?kind=policy.activated").get_json()["items"]]
    assert kinds == ["policy.activated", "policy.activated"]


@pytest.mark.parametrize("data, content_type, status", [
    (b"\xff\xfe", YAML, 400), (SOURCE.encode(), "application/json", 415), (b"", YAML, 422),
    (b"/etc/passwd", YAML, 422),
])
def test_upload_bad_bodies(api, data, content_type, status):
    r = api.request("POST", "/v1/policies", data=data, content_type=content_type)
    assert r.status_code == status


def test_unknown_digest_is_404(api):
    assert api.get("/v1/policies/sha256:0000").status_code == 404


@pytest.mark.parametrize("role", ["integrator", "agent"])
def test_only_compliance_manages_policies(api, role):
    assert upload(api, V2, role=role).status_code == 403
    assert api.get("/v1/policies", role=role).status_code == 403
