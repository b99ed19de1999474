"""POST /v1/policies:simulate over a real app and SQLite file: the report (checked against the
published OpenAPI document), roles, invalid policies and parameters, and that nothing is stored."""
from __future__ import annotations

import pytest

from arrears.api import create_app
from arrears.engine.policy.load import load_policy
from arrears.engine.simulate import from_work_queue, simulate
from tests.api import apikit
from tests.simulate.simkit import AT, CALL_AT_3, CALL_AT_30, NOW, POLICY, edit, snapshot

YAML = "application/yaml"
PATH = f"/v1/policies:simulate?at={AT}"


@pytest.fixture
def app(store, db_url, tmp_path, monkeypatch):
    """An app over the simkit portfolio whose active policy is simkit.POLICY; 1 call a day."""
    for name in ("ARREARS_API_KEYS", "ARREARS_DATABASE_URL", "ARREARS_POLICY"):
        monkeypatch.delenv(name, raising=False)
    policy = tmp_path / "active.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    application = create_app({"database_url": db_url, "policy": str(policy),
                              "api": {"keys": {key: role for role, key in apikit.KEYS.items()},
                                      "work_queue_capacity": {"call": 1}}})
    yield application
    application.extensions["arrears"].close()


@pytest.fixture
def api(app):
    return apikit.Api(app)


def post(api, text: str, path: str = PATH, role: str | None = "compliance"):
    return api.request("POST", path, data=text.encode("utf-8"), content_type=YAML, role=role)


def test_the_report_is_the_engines_and_stores_nothing(app, api, store, active):
    before = snapshot(store)
    r = post(api, CALL_AT_3 + "\n", f"{PATH}&sample=3")           # documented schema checked by `api`
    assert r.status_code == 200
    body = r.get_json()
    assert body["policies"]["active"]["digest"] == active.digest
    assert body["changes"]["transitions"] == [{"from": "reminder", "to": "call", "accounts": 1}]
    [call] = [row for row in body["contacts"]["by_kind"] if row["kind"] == "call"]
    assert (call["capacity"], call["active"], call["candidate"], call["candidate_over"]) == (1, 1, 2, 1)
    assert body["contacts"]["capacity"]["source"] == "api.work_queue_capacity"
    # the app's own active policy: the same rules as `active`, its traces' sources in its file
    served = app.extensions["arrears"].policies.active()
    assert served.digest == active.digest
    expected = simulate(store, served, load_policy(CALL_AT_3, filename="<upload>"), NOW, sample=3,
                        capacity=from_work_queue({"call": 1})).to_dict()
    assert body == expected
    assert snapshot(store) == before


def test_defaults_now_and_twenty_samples(api):
    body = post(api, CALL_AT_30, "/v1/policies:simulate").get_json()
    assert body["changes"]["sample_size"] == 20 and body["evaluated_at"].endswith("Z")


@pytest.mark.parametrize("role, status", [("compliance", 200), ("admin", 200), ("integrator", 403),
                                          ("agent", 403), (None, 401)])
def test_roles(api, role, status):
    assert post(api, CALL_AT_30, role=role).status_code == status


def test_an_invalid_candidate_is_a_problem_with_positions(api, store):
    before = snapshot(store)
    broken = edit(("days_past_due: 20", "days_past_due: twenty"), ("tone: neutral", "tone: rude"))
    r = post(api, broken)
    assert r.status_code == 422
    problem = r.get_json()
    assert problem["type"] == "urn:arrears:problem:invalid-policy" and len(problem["errors"]) >= 2
    lines = broken.splitlines()
    for error in problem["errors"]:
        assert {"line", "column", "pointer", "detail"} <= set(error)
        assert lines[error["line"] - 1].strip().startswith(("days_past_due", "tone"))
    syntax = post(api, "metadata: [unclosed\n").get_json()
    assert syntax["errors"][0]["line"] >= 1 and syntax["errors"][0]["column"] >= 1
    assert snapshot(store) == before


@pytest.mark.parametrize("query, parameter", [("sample=101", "sample"), ("sample=-1", "sample"),
                                              ("at=yesterday", "at"), ("at=2026-11-22T15:00:00", "at"),
                                              ("limit=5", "limit")])
def test_bad_parameters(api, query, parameter):
    r = post(api, CALL_AT_30, f"/v1/policies:simulate?{query}")
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["parameter"] == parameter


@pytest.mark.parametrize("data, content_type, status", [(b"\xff\xfe", YAML, 400), (b"", YAML, 422),
                                                        (POLICY.encode(), "application/json", 415)])
def test_bad_bodies(api, data, content_type, status):
    r = api.request("POST", PATH, data=data, content_type=content_type, role="compliance")
    assert r.status_code == status


def test_the_operation_is_documented(api):
    op = api.state.document["paths"]["/v1/policies:simulate"]["post"]
    assert op["x-roles"] == ["compliance", "admin"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/SimulationReport"}
    assert {p["name"] for p in op["parameters"]} == {"at", "sample"}
