"""/v1/experiments: start, list, results, stop, resume and promote, with roles and problem documents."""
from __future__ import annotations

import json

import yaml

from arrears.engine.policy.load import load_policy
from arrears.engine.tick.runner import run_tick
from tests.experiments.expkit import CHALLENGER, spec
from tests.tick.tickkit import NOW, load, load_portfolio, rows

YAML = "application/yaml"


def _text(**changes) -> bytes:
    doc = spec(start="2026-11-01", end="2027-03-01", **changes)
    doc.pop("eligibility")
    return yaml.safe_dump(doc, sort_keys=False).encode("utf-8")


def _challenger(state) -> str:
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    state.store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
    return challenger.digest


def test_start_results_and_promote(api, state):
    digest = _challenger(state)
    load(state.store, *load_portfolio(60, seed=6))
    body = _text(challengers=[{"name": "sms-first", "policy": digest, "share": 50}])
    assert api.post("/v1/experiments", data=body, content_type=YAML, role="integrator").status_code == 403
    started = api.post("/v1/experiments", data=body, content_type=YAML, role="compliance")
    assert started.status_code == 201
    record = started.get_json()
    assert (record["name"], record["status"], record["started_by"]) == ("sms-first", "running",
                                                                         record["started_by"])
    assert record["started_by"].startswith("key:")
    again = api.post("/v1/experiments", data=body, content_type=YAML, role="compliance")
    assert again.status_code == 409 and "is running" in again.get_json()["detail"]
    run_tick(state.store, state.policies.active(), NOW)
    listing = api.get("/v1/experiments", role="compliance").get_json()["items"]
    assert [i["name"] for i in listing] == ["sms-first"]
    results = api.get("/v1/experiments/sms-first?at=2026-11-22", role="compliance")
    assert results.status_code == 200
    report = results.get_json()
    assert sum(report["debtors"].values()) == 60 and report["verdict"]
    assert set(report["primary"]) == {"sms-first"} and report["sample_ratio"]["mismatch"] is False
    assert api.get("/v1/experiments/nope", role="compliance").status_code == 404
    promoted = api.post("/v1/experiments/sms-first/promote", {"challenger": "sms-first"}, role="compliance")
    assert promoted.status_code == 200 and promoted.get_json()["status"] == "promoted"
    assert state.policies.active().digest == digest
    stop = api.post("/v1/experiments/sms-first/stop", role="compliance")
    assert stop.status_code == 409 and "not running" in stop.get_json()["detail"]
    kinds = [k for (k,) in rows(state.store, "SELECT kind FROM audit WHERE kind LIKE 'experiment.%' ORDER BY seq")]
    assert kinds == ["experiment.started", "experiment.promoted"]


def test_an_invalid_file_is_422_with_every_problem_located(api, state):
    body = _text(challengers=[{"name": "champion", "policy": "v2", "share": 40}])
    r = api.post("/v1/experiments", data=body, content_type=YAML, role="compliance")
    assert r.status_code == 422
    problem = r.get_json()
    assert problem["type"] == "urn:arrears:problem:invalid-experiment"
    details = {(e["line"], e["pointer"]): e["detail"] for e in problem["errors"]}
    assert any("sha256:" in d for d in details.values())
    assert any("the shares add up to 90" in d for d in details.values())
    assert all(isinstance(line, int) and line > 0 for line, _ in details)


def test_an_unknown_challenger_policy_is_409_and_nothing_starts(api, state):
    body = _text(challengers=[{"name": "b", "policy": "sha256:" + "1" * 64, "share": 50}])
    r = api.post("/v1/experiments", data=body, content_type=YAML, role="compliance")
    assert r.status_code == 409 and "no stored policy version" in r.get_json()["detail"]
    assert api.get("/v1/experiments", role="compliance").get_json() == {"items": []}
    assert json.loads(api.get("/v1/experiments", role="compliance").data) == {"items": []}


def test_uploading_a_policy_while_an_experiment_runs_is_409_and_nothing_changes(api, state):
    digest = _challenger(state)
    body = _text(challengers=[{"name": "sms-first", "policy": digest, "share": 50}])
    assert api.post("/v1/experiments", data=body, content_type=YAML, role="compliance").status_code == 201
    champion = state.policies.active().digest
    other = CHALLENGER.replace('version: "1.1.0-sms"', 'version: "1.2.0"').encode("utf-8")
    r = api.post("/v1/policies", data=other, content_type=YAML, role="compliance")
    assert r.status_code == 409
    assert "experiment 'sms-first' is running" in r.get_json()["detail"]
    assert state.policies.active().digest == champion
    assert api.post("/v1/experiments/sms-first/stop", role="compliance").status_code == 200
    assert api.post("/v1/policies", data=other, content_type=YAML, role="compliance").status_code == 201


def test_resume_a_paused_experiment_409_while_its_cause_holds(api, state):
    from sqlalchemy import text

    from tests.experiments.test_experiment_failures import TAMPER
    from tests.experiments.test_experiment_resume import UNTAMPER
    digest = _challenger(state)
    load(state.store, *load_portfolio(40, seed=8))
    body = _text(challengers=[{"name": "sms-first", "policy": digest, "share": 50}])
    assert api.post("/v1/experiments", data=body, content_type=YAML, role="compliance").status_code == 201
    running = api.post("/v1/experiments/sms-first/resume", role="compliance")
    assert running.status_code == 409 and "is running: only a paused experiment" in running.get_json()["detail"]
    with state.store.engine.begin() as conn:
        conn.execute(text(TAMPER), {"digest": digest})
    run_tick(state.store, state.policies.active(), NOW)
    assert state.store.experiments.get("sms-first")["status"] == "paused"
    assert api.post("/v1/experiments/sms-first/resume", role="integrator").status_code == 403
    held = api.post("/v1/experiments/sms-first/resume", role="compliance")
    assert held.status_code == 409 and held.get_json()["type"].endswith("conflict")
    assert "the cause still holds" in held.get_json()["detail"]
    assert "edited in the database" in held.get_json()["detail"]
    assert api.post("/v1/experiments/nope/resume", role="compliance").status_code == 404
    with state.store.engine.begin() as conn:
        conn.execute(text(UNTAMPER), {"digest": digest})
    resumed = api.post("/v1/experiments/sms-first/resume", role="compliance")
    assert resumed.status_code == 200
    assert (resumed.get_json()["status"], resumed.get_json()["paused_reason"]) == ("running", None)
    kinds = [(k, b) for k, b in rows(state.store, "SELECT kind, body FROM audit WHERE kind LIKE 'experiment.%' "
                                                  "ORDER BY seq")]
    assert [k for k, _ in kinds] == ["experiment.started", "experiment.paused", "experiment.resumed"]
    assert '"by":"key:' in kinds[-1][1]


def test_complaints_recorded_over_http_are_a_guardrail_and_raise_an_alarm(api, state):
    from scipy.stats import norm

    from tests.tick.tickkit import account
    digest = _challenger(state)
    load(state.store, [account(f"D{i:02d}", amount="100.00", due="2026-10-01") for i in range(40)])
    body = _text(challengers=[{"name": "sms-first", "policy": digest, "share": 50}])
    assert api.post("/v1/experiments", data=body, content_type=YAML, role="compliance").status_code == 201
    row = state.store.experiments.get("sms-first")
    arms = {f"D{i:02d}": "champion" if i < 20 else "sms-first" for i in range(40)}
    state.store.experiments.record_assignments(row["id"], sorted(arms.items()), now=NOW)
    # One champion debtor and eight challenger debtors complain (D20 twice: one debtor, counted once).
    for account_id in ["D00", "D20", "D20", *[f"D{i}" for i in range(21, 28)]]:
        sent = api.post(f"/v1/accounts/{account_id}/events",
                        {"events": [{"type": "complaint", "at": "2026-11-23T10:00:00Z", "note": "too many texts"}]})
        assert sent.status_code in (200, 201), sent.get_json()
    history = api.get("/v1/accounts/D20/events").get_json()["items"]
    assert [e["type"] for e in history].count("complaint") == 2
    bad = api.post("/v1/accounts/D00/events", {"events": [{"type": "complaints", "at": "2026-11-23T10:00:00Z"}]})
    assert bad.status_code == 422 and "complaint" in json.dumps(bad.get_json())
    report = api.get("/v1/experiments/sms-first?at=2026-11-30", role="compliance").get_json()
    complaints = report["guardrails"]["sms-first"]["complaints"]
    assert (complaints["champion"], complaints["challenger"]) == (0.05, 0.4)
    # By hand: pooled 9/40 = 0.225, se = sqrt(0.225 * 0.775 * (1/20 + 1/20)); z = 0.35 / se = 2.651.
    z = 0.35 / (0.225 * 0.775 * 0.1) ** 0.5
    assert abs(complaints["p_value"] - 2 * norm.sf(z)) < 1e-8 and complaints["p_value"] < 0.05      # 0.0080
    assert report["alarms"] == [("sms-first raises complaints: 40.00% of its debtors against 5.00% for the "
                                 f"champion (p = {complaints['p_value']:.4f})")]


def test_kpis_by_strategy_over_http_and_the_command_line(api, state, db_url, capsys, monkeypatch):
    from arrears.engine.cli import main
    digest = _challenger(state)
    load(state.store, *load_portfolio(60, seed=8))
    body = _text(challengers=[{"name": "sms-first", "policy": digest, "share": 50}])
    assert api.post("/v1/experiments", data=body, content_type=YAML, role="compliance").status_code == 201
    run_tick(state.store, state.policies.active(), NOW)
    r = api.get("/v1/kpis?from=2026-10-01&to=2026-11-23&group_by=strategy", role="compliance")
    assert r.status_code == 200
    http = r.get_json()
    assert http["group_by"] == "strategy"
    assert {g["group"] for g in http["groups"]} == {"champion", "sms-first"}
    for name in ("ARREARS_DATABASE_URL", "ARREARS_POLICY", "ARREARS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    code = main(["kpis", "--from", "2026-10-01", "--to", "2026-11-23", "--db", db_url,
                 "--group-by", "strategy", "--format", "json"])
    cli = json.loads(capsys.readouterr().out)
    assert code == 0 and cli["groups"] == http["groups"]
