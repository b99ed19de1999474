"""Fail closed: a stored policy whose text was edited in the database is refused by the
API (`/healthz` 503 saying why, decisions refused) and by the tick (summary, run status,
exit code), and the refusal is audited."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from arrears.engine.cli import main
from arrears.engine.store import Store
from tests.api.apikit import account

pytestmark = pytest.mark.also_postgresql

EDIT = "UPDATE policy_versions SET source = replace(source, 'max_attempts: 3', 'max_attempts: 9') WHERE active"


def _edit(url: str, sql: str = EDIT) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text(sql)).rowcount == 1
    engine.dispose()


def _kinds(url: str) -> list[str]:
    with Store(url, upgrade=False) as store, store.engine.connect() as conn:
        return [k for (k,) in conn.execute(text("SELECT kind FROM audit ORDER BY seq"))]


def test_the_api_refuses_an_edited_policy_and_healthz_says_why(api, state, db_url):
    assert api.get("/healthz", role=None).status_code == 200
    api.put("/v1/accounts/ACC-1", account())
    _edit(db_url)
    r = api.get("/healthz", role=None)
    assert r.status_code == 503
    check = r.get_json()["checks"]["policy"]
    assert check["status"] == "failing" and "no longer matches the text recorded" in check["detail"]
    r = api.post("/v1/decide", {"account": account()})                              # nothing decided
    assert r.status_code == 503 and "the active policy is refused" in r.get_json()["detail"]
    assert _kinds(db_url).count("policy.refused") == 1                           # audited once
    assert main(["audit", "verify", "--db", db_url]) == 1


def test_the_tick_refuses_it_in_its_summary_and_exit_code(db_url, capsys):
    assert main(["tick", "--db", db_url, "--at", "2026-11-23T10:00:00Z", "--no-dispatch"]) == 0
    capsys.readouterr()
    _edit(db_url)
    code = main(["tick", "--db", db_url, "--at", "2026-11-24T10:00:00Z", "--no-dispatch", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1 and summary["evaluated"] == 0
    assert "no longer matches the text recorded when it was stored" in summary["refused"]
    with Store(db_url, upgrade=False) as store, store.engine.connect() as conn:
        status, error = conn.execute(text("SELECT status, error FROM tick_runs ORDER BY id DESC")).first()
    assert status == "failed" and "edited in the database" in error
    assert "policy.refused" in _kinds(db_url)
    code = main(["tick", "--db", db_url, "--at", "2026-11-24T10:00:00Z", "--no-dispatch"])
    assert code == 1 and "refused: the stored text of policy sha256:" in capsys.readouterr().out


def test_activating_the_file_again_is_the_way_out(db_url, capsys):
    assert main(["tick", "--db", db_url, "--at", "2026-11-23T10:00:00Z", "--no-dispatch"]) == 0
    _edit(db_url, "UPDATE policy_versions SET digest = 'sha256:' || repeat('0', 64) WHERE active"
          if "postgresql" in db_url else
          "UPDATE policy_versions SET digest = 'sha256:' || hex(zeroblob(32)) WHERE active")
    assert main(["tick", "--db", db_url, "--at", "2026-11-24T10:00:00Z", "--no-dispatch"]) == 1
    assert "was never recorded as stored in the audit log" in capsys.readouterr().out
    assert main(["tick", "--db", db_url, "--at", "2026-11-24T10:00:00Z", "--no-dispatch",
                 "--activate-policy"]) == 0
