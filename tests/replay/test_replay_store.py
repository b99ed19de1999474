"""`arrears replay --store`: the replayed history in a real SQLite store, where `arrears kpis`,
`arrears report` and `arrears audit verify` read it and find what the replay reported."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from arrears.engine.cli import main
from arrears.engine.store import Store
from tests.replay.replaykit import ROOT

EXPORT = ROOT / "examples" / "replay" / "ar_export.csv"
MAP = ROOT / "examples" / "replay" / "ar_export.map.yaml"
PERIOD = ["--from", "2013-01-01", "--to", "2013-09-30"]


def _json(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """(database path, the replay's JSON report grouped by stage) of the export replayed into a store."""
    db = tmp_path_factory.mktemp("store") / "replayed.db"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["replay", str(EXPORT), "--map", str(MAP), *PERIOD, "--store", str(db), "--format", "json",
                     "--group-by", "stage"])
    assert code == 0
    return db, json.loads(out.getvalue())


def test_kpis_of_the_store_are_the_replays(stored, capsys):
    db, report = stored
    kpis = _json(capsys, ["kpis", "--db", f"sqlite:///{db}", *PERIOD, "--group-by", "stage", "--format", "json"])
    assert kpis["total"] == report["kpis"]["total"]
    # stages come from the stored decisions: the groups by stage are the replay's too
    assert kpis["groups"] == report["kpis"]["groups"]
    assert len(kpis["groups"]) > 2
    (usd,) = kpis["total"]
    assert usd["figures"]["attempts"] == report["total"]["contacts"] > 0     # each contact sent, an attempt


def test_what_the_store_holds(stored):
    db, _ = stored
    with Store(f"sqlite:///{db}", upgrade=False, create=False) as store:
        account, events = store.get_account("1215-B957")
        assert account.currency == "USD" and account.jurisdiction == "GB"
        assert all(str(i.issued_date) <= "2013-09-30" for i in account.invoices)
        assert max(e.at for e in events).date().isoformat() <= "2013-09-30"
        types = {e.type for e in events}
        assert {"payment", "contact_attempt"} <= types
        assert all(e.outcome == "sent" and e.stage for e in events if e.type == "contact_attempt")


def test_report_and_audit_run_on_the_store(stored, tmp_path, capsys):
    db, report = stored
    out = tmp_path / "report.html"
    assert main(["report", "--db", f"sqlite:///{db}", *PERIOD, "--out", str(out), "--no-goals"]) == 0
    html = out.read_text(encoding="utf-8")
    dso = report["kpis"]["total"][0]["kpis"]["dso"]["value"]
    assert f"{float(dso):,.1f} days" in html
    capsys.readouterr()
    assert main(["audit", "verify", "--db", f"sqlite:///{db}"]) == 0
    assert capsys.readouterr().out.startswith("OK: 3 entries")


def test_a_database_that_holds_accounts_is_refused(stored, capsys):
    db, _ = stored
    size = db.stat().st_size
    code = main(["replay", str(EXPORT), "--map", str(MAP), *PERIOD, "--store", str(db)])
    assert code == 2
    err = capsys.readouterr().err
    assert "the database already holds 60 accounts; write a replay into a new (empty) database" in err
    with Store(f"sqlite:///{db}", upgrade=False, create=False) as store:
        assert len(store.acct_nos(["1215-B957"])) == 1
    assert db.stat().st_size == size


def test_a_database_that_cannot_be_used_is_exit_3(tmp_path, capsys):
    missing = tmp_path / "no-such-directory" / "replayed.db"
    code = main(["replay", str(EXPORT), "--map", str(MAP), "--from", "2013-01-01", "--to", "2013-01-31",
                 "--store", f"sqlite:///{missing}"])
    out, err = capsys.readouterr()
    assert code == 3 and out == ""
    assert err == f"arrears replay: the database cannot be reached (sqlite:///{missing}: unable to open database file)\n"
    assert not missing.parent.exists()
