"""The API with a plugin's channel kind (the WhatsApp example package): an integrator records
the debtor's consent on it, the policy using it is served, and a kind no plugin declares is a
422 naming it, whatever the order in which the API and the plugins were loaded."""
from __future__ import annotations

import json

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


US_ACCOUNT = {"id": "WA-1", "currency": "USD", "debtor_type": "consumer", "timezone": "America/New_York",
              "jurisdiction": "US-TX", "language": "en", "contact": {"mobile": "+12025550123"},
              "invoices": [{"id": "I1", "amount": "1000.00", "due_date": "2026-11-10"}]}
MONDAY = "2026-11-23T15:00:00Z"          # 10:00 in New York


def _consenting(api, account_id="WA-1"):
    assert api.put(f"/v1/accounts/{account_id}", {**US_ACCOUNT, "id": account_id}).status_code == 201
    consent = {"type": "consent_given", "at": "2026-11-01T12:00:00Z", "channel": "whatsapp"}
    assert api.post(f"/v1/accounts/{account_id}/events", consent, role="integrator").status_code == 201


def test_the_work_queue_lists_a_plugin_kind_and_names_the_known_kinds_for_an_unknown_one(api):
    _consenting(api)
    api.app.extensions["arrears"].settings.work_queue_capacity["whatsapp"] = 10
    r = api.get(f"/v1/work-queue?channel=whatsapp&at={MONDAY}", role="agent")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["channel"] == "whatsapp" and body["capacity"] == 10
    assert [(i["account_id"], i["channel"]) for i in body["items"]] == [("WA-1", "whatsapp")]
    bad = api.get(f"/v1/work-queue?channel=telegram&at={MONDAY}", role="agent")
    problem = bad.get_json()
    assert bad.status_code == 400 and problem["type"].endswith("invalid-parameter")
    assert problem["errors"] == [{"parameter": "channel", "detail":
                                  "expected one of email, sms, letter, call, webhook, task, whatsapp; "
                                  "got 'telegram'"}]
    [param] = [p for p in api.get("/v1/openapi.json").get_json()["paths"]["/v1/work-queue"]["get"]["parameters"]
               if p["name"] == "channel"]
    assert "whatsapp" in param["schema"]["enum"]


def test_a_wish_may_name_a_plugin_kind_and_an_unknown_kind_is_refused_at_its_field(api):
    _consenting(api)
    only = {"type": "contact_preference", "at": "2026-11-20T10:00:00Z", "wishes": {"channels": ["whatsapp"]}}
    r = api.post("/v1/accounts/WA-1/events", only, role="integrator")
    assert r.status_code == 201, r.get_json()
    decision = api.get(f"/v1/accounts/WA-1/decision?at={MONDAY}", role="integrator").get_json()
    assert decision["action"]["channel"] == "whatsapp"
    bad = api.post("/v1/accounts/WA-1/events", {**only, "wishes": {"channels": ["email", "telegram"]}},
                   role="integrator")
    problem = bad.get_json()
    assert bad.status_code == 422, problem
    assert "telegram" in problem["detail"] and "whatsapp" in problem["detail"]
    assert any("wishes.channels[1]" in str(e) or "/wishes/channels/1" in str(e) for e in problem["errors"]), problem
    wishes = api.get("/v1/openapi.json").get_json()["components"]["schemas"]
    channels = wishes["Wishes"]["properties"]["channels"] if "Wishes" in wishes else \
        wishes["Event"]["properties"]["wishes"]["properties"]["channels"]
    assert "whatsapp" in json.dumps(channels) and "webhook" not in json.dumps(channels)


def test_no_whatsapp_is_an_opt_out_of_the_kind(api):
    """"No WhatsApp": the debtor opts out of the kind; the next message goes by another channel."""
    _consenting(api)
    first = api.get(f"/v1/accounts/WA-1/decision?at={MONDAY}", role="integrator").get_json()
    assert first["action"]["channel"] == "whatsapp"
    out = {"type": "channel_opt_out", "at": "2026-11-20T10:00:00Z", "channel": "whatsapp"}
    assert api.post("/v1/accounts/WA-1/events", out, role="integrator").status_code == 201
    after = api.get(f"/v1/accounts/WA-1/decision?at={MONDAY}", role="integrator").get_json()
    assert (after["action"] or {}).get("channel") != "whatsapp", after
