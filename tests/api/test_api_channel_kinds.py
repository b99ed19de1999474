"""The API with a plugin's channel kind (the WhatsApp example package): an integrator records
the debtor's consent on it, the policy using it is served, and a kind no plugin declares is a
422 naming it, whatever the order in which the API and the plugins were loaded."""
from __future__ import annotations

import pytest

from arrears.api import create_app
from arrears.plugins.testing import plugin_manager
from tests.api.apikit import KEYS, Api, account
from tests.plugins.pluginkit import import_whatsapp, whatsapp_policy_text

YAML = "application/yaml"


@pytest.fixture
def api(tmp_path, monkeypatch):
    for name in ("ARREARS_API_KEYS", "ARREARS_DATABASE_URL", "ARREARS_POLICY"):
        monkeypatch.delenv(name, raising=False)
    pm = plugin_manager(import_whatsapp(monkeypatch))      # after arrears.api was imported
    path = tmp_path / "policy.yaml"
    path.write_text(whatsapp_policy_text(), encoding="utf-8")
    config = {"database_url": f"sqlite:///{tmp_path / 'arrears.db'}", "policy": str(path),
              "api": {"keys": {key: role for role, key in KEYS.items()}}}
    app = create_app(config, plugin_manager=pm)
    yield Api(app)
    app.extensions["arrears"].close()


def test_consent_on_a_plugin_kind_is_recorded_and_an_unknown_kind_refused(api):
    assert api.put("/v1/accounts/ACME-0042", account()).status_code == 201
    consent = {"type": "consent_given", "at": "2026-11-20T10:00:00Z", "channel": "whatsapp"}
    r = api.post("/v1/accounts/ACME-0042/events", consent, role="integrator")
    assert r.status_code == 201, r.get_json()
    bad = api.post("/v1/accounts/ACME-0042/events", {**consent, "channel": "telegram"}, role="integrator")
    assert bad.status_code == 422 and "telegram" in bad.get_data(as_text=True)
    channel = api.get("/v1/openapi.json").get_json()["components"]["schemas"]["Event"]["properties"]["channel"]
    assert "whatsapp" in channel["anyOf"][0]["enum"]          # the document says so too


def test_a_candidate_policy_may_use_the_kind_and_not_an_unknown_one(api):
    text = whatsapp_policy_text()
    r = api.request("POST", "/v1/policies:validate", data=text.encode(), content_type=YAML, role="compliance")
    assert r.get_json()["valid"] is True, r.get_json()
    bad = whatsapp_policy_text(kind="telegram")
    r = api.request("POST", "/v1/policies:validate", data=bad.encode(), content_type=YAML, role="compliance")
    [problem] = r.get_json()["problems"]
    assert problem["pointer"] == "/channels/whatsapp/kind" and "'telegram' is not allowed" in problem["detail"]
