"""`arrears experiment validate|start|status|stop|resume|promote` on a real SQLite store."""
from __future__ import annotations

import json
import os

import pytest

from arrears.engine.cli import main
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.policies import DEFAULT_POLICY
from tests.experiments.expkit import CHALLENGER, spec, write
from tests.tick.tickkit import load, load_portfolio


@pytest.fixture
def world(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("ARREARS_")]:
        monkeypatch.delenv(name)
    db = f"sqlite:///{tmp_path / 'arrears.db'}"
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    with Store(db) as store:
        load(store, *load_portfolio(80, seed=9))
        champion = load_policy(DEFAULT_POLICY)
        store.record_policy(champion.name, champion.version, champion.digest, DEFAULT_POLICY.read_text("utf-8"))
        store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
    path = write(tmp_path, spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
                                start="2026-11-01", end="2027-03-01"))
    return {"db": db, "file": str(path), "challenger": challenger.digest, "tmp": tmp_path}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_prints_what_it_needs_and_1_with_located_problems(world, capsys):
    code, out, _ = _run(capsys, "experiment", "validate", world["file"])
    assert code == 0 and "needs 2,753 eligible debtors (champion 1,377, sms-first 1,377)" in out
    bad = write(world["tmp"], spec(end="2026-01-01"), "bad.yaml")
    code, out, err = _run(capsys, "experiment", "validate", bad)
    assert code == 1 and out == ""
    assert err.strip().endswith("the end 2026-01-01 must be after the start 2026-12-07")
    assert f"{bad}:" in err


def test_start_tick_status_promote(world, capsys):
    db = world["db"]
    assert _run(capsys, "experiment", "start", world["file"], "--db", db)[0] == 0
    code, _, err = _run(capsys, "experiment", "start", world["file"], "--db", db)
    assert code == 2 and "is running; stop it first" in err and err.count("\n") == 1
    assert _run(capsys, "tick", "--db", db, "--no-dispatch", "--at", "2026-11-22T15:00:00Z")[0] == 0
    code, out, _ = _run(capsys, "experiment", "status", "--db", db, "--at", "2026-11-22", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "running"
    assert sum(report["debtors"].values()) == 80 and set(report["kpis"]) == {"champion", "sms-first"}
    assert report["verdict"] and report["sample_ratio"]["mismatch"] is False
    code, out, _ = _run(capsys, "experiment", "status", "--db", db, "--at", "2026-11-22")
    assert code == 0 and "verdict:" in out and "sms-first - champion" in out
    code, out, _ = _run(capsys, "experiment", "promote", "sms-first", "sms-first", "--db", db, "--format", "json")
    assert code == 0 and json.loads(out)["active_policy"] == world["challenger"]
    code, _, err = _run(capsys, "experiment", "stop", "sms-first", "--db", db)
    assert code == 2 and "is not running (it was promoted)" in err


def test_resume_is_refused_in_one_line_while_the_cause_holds(world, capsys):
    from sqlalchemy import text

    from tests.experiments.test_experiment_failures import TAMPER
    from tests.experiments.test_experiment_resume import UNTAMPER
    db = world["db"]
    assert _run(capsys, "experiment", "start", world["file"], "--db", db)[0] == 0
    with Store(db) as store, store.engine.begin() as conn:
        conn.execute(text(TAMPER), {"digest": world["challenger"]})
    assert _run(capsys, "tick", "--db", db, "--no-dispatch", "--at", "2026-11-22T15:00:00Z")[0] == 0
    code, out, err = _run(capsys, "experiment", "resume", "sms-first", "--db", db)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "cannot be resumed, the cause still holds: challenger 'sms-first'" in err
    with Store(db) as store, store.engine.begin() as conn:
        conn.execute(text(UNTAMPER), {"digest": world["challenger"]})
    code, out, _ = _run(capsys, "experiment", "resume", "sms-first", "--db", db, "--format", "json")
    assert code == 0 and json.loads(out)["status"] == "running"
    code, _, err = _run(capsys, "experiment", "resume", "sms-first", "--db", db)
    assert code == 2 and "is running: only a paused experiment can be resumed" in err


def test_start_takes_the_company_profiles_the_tick_compiles_every_strategy_with(world, capsys):
    code, _, err = _run(capsys, "experiment", "start", world["file"], "--db", world["db"],
                        "--profiles", world["tmp"] / "no-such-folder")
    assert code == 2 and err.strip() == ("arrears experiment start: profiles: no such directory: "
                                         f"{world['tmp'] / 'no-such-folder'}")
    company = world["tmp"] / "company"
    company.mkdir()
    (company / "acme.yaml").write_text("id: acme\nname: ACME\napplies_to: {jurisdictions: [GB]}\nrules:\n"
                                       "  - id: acme.quiet\n    kind: contact_window\n    channels: [call]\n"
                                       "    weekdays: {start: '10:00', end: '12:00'}\n    weekends: closed\n"
                                       "    source: ACME manual\n", encoding="utf-8")
    assert _run(capsys, "experiment", "start", world["file"], "--db", world["db"], "--profiles", company)[0] == 0
