"""The API with plugin facts: candidates are checked against the app's plugins (with line
and column), and decisions under a policy using a plugin fact compute it."""
from __future__ import annotations

import numpy as np
import pytest

from arrears.api import create_app
from arrears.engine.domain.errors import PolicyError
from arrears.engine.facts.catalogue import STRING
from arrears.plugins import hookimpl
from arrears.plugins.facts import PluginFact
from arrears.plugins.testing import plugin_manager
from arrears.policies import DEFAULT_POLICY
from tests.api.apikit import AT, KEYS, Api, account

YAML = "application/yaml"
SOURCE = DEFAULT_POLICY.read_text(encoding="utf-8")
WITH_FACT = SOURCE.replace("        - {fact: tags, contains: vip}",
                           "        - {fact: tags, contains: vip}\n        - {fact: x_crm_tier, eq: gold}", 1)


class Crm:
    @hookimpl
    def arrears_facts(self):
        return [PluginFact("x_crm_tier", STRING, "Tier in the CRM.", self.tier, choices=("gold", "silver"))]

    def tier(self, facts):
        ids = np.asarray(facts.b.ids, dtype=str)
        return np.where(ids == "GOLD-1", "gold", "silver").astype(object)


@pytest.fixture
def api(tmp_path, monkeypatch):
    for name in ("ARREARS_API_KEYS", "ARREARS_DATABASE_URL", "ARREARS_POLICY"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "policy.yaml"
    path.write_text(WITH_FACT, encoding="utf-8")
    config = {"database_url": f"sqlite:///{tmp_path / 'arrears.db'}", "policy": str(path),
              "api": {"keys": {key: role for role, key in KEYS.items()}}}
    app = create_app(config, plugin_manager=plugin_manager(Crm()))
    yield Api(app)
    app.extensions["arrears"].close()


def test_decisions_use_the_plugin_fact(api):
    gold = api.post("/v1/decide?trace=true", {"account": account(id="GOLD-1", tags=[]), "at": AT}).get_json()
    other = api.post("/v1/decide", {"account": account(id="OTHER-1", tags=[]), "at": AT}).get_json()
    assert "vip" in gold["segments"] and "vip" not in other["segments"]
    trace = {t["step"]: t["detail"] for t in gold["trace"]}
    assert "x_crm_tier = gold: yes (is gold)" in trace["segment vip"]


def test_candidates_are_checked_against_the_apps_plugins(api):
    r = api.request("POST", "/v1/policies:validate", data=WITH_FACT.encode(), content_type=YAML, role="compliance")
    assert r.get_json()["valid"] is True
    bad = WITH_FACT.replace("{fact: x_crm_tier, eq: gold}", "{fact: x_crm_tier, eq: platinum}")
    r = api.request("POST", "/v1/policies:validate", data=bad.encode(), content_type=YAML, role="compliance")
    (problem,) = r.get_json()["problems"]
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if "platinum" in row)
    assert problem == {"line": line, "column": bad.splitlines()[line - 1].index("platinum") + 1,
                       "pointer": "/segments/vip/when/any/2/eq",
                       "detail": "unknown x_crm_tier value 'platinum'"}
    r = api.request("POST", "/v1/policies", data=bad.encode(), content_type=YAML, role="compliance")
    assert r.status_code == 422 and r.get_json()["errors"][0]["line"] == line


def test_without_the_plugin_the_app_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("ARREARS_POLICY", raising=False)
    path = tmp_path / "policy.yaml"
    path.write_text(WITH_FACT, encoding="utf-8")
    with pytest.raises(PolicyError, match="no plugin provides fact 'x_crm_tier'"):
        create_app({"database_url": f"sqlite:///{tmp_path / 'a.db'}", "policy": str(path)},
                   plugin_manager=plugin_manager())
