"""POST /v1/policies:validate answers with the policy's warnings (engine/policy/warnrules.py)."""
from __future__ import annotations

from tests.policyedits import RENAMED, SOURCE, VIP_GRACE_20, edited, line_of


def test_the_api_validate_answer_has_warnings(api):
    body = api.request("POST", "/v1/policies:validate", data=edited(VIP_GRACE_20).encode(),
                       content_type="application/yaml", role="compliance").get_json()
    assert body["valid"] is True
    [w] = body["warnings"]
    assert (w["rule"], w["subject"], w["silenced"]) == ("W-stages-same-day", "friendly_reminder", False)
    assert w["line"] == line_of(edited(VIP_GRACE_20), "id: friendly_reminder") + 1
    clean = api.request("POST", "/v1/policies:validate", data=SOURCE.encode(),
                        content_type="application/yaml", role="compliance").get_json()
    assert clean["warnings"] == []


def test_the_api_compares_with_the_active_policy(api):
    body = api.request("POST", "/v1/policies:validate", data=edited(RENAMED).encode(),
                       content_type="application/yaml", role="compliance").get_json()
    assert [w["rule"] for w in body["warnings"]] == ["W-stage-ids-changed"]
