"""`arrears kpis`: the three formats, grouping, costs from the config file, and errors."""
from __future__ import annotations

import csv
import io
import json

import pytest

from arrears.engine.cli import main
from arrears.engine.kpis import compute_kpis

PERIOD = ["--from", "2026-10-01", "--to", "2026-10-31"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("ARREARS_DATABASE_URL", "ARREARS_POLICY", "ARREARS_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["kpis", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_is_the_report(store, db_url, ledger, policy, capsys):
    code, out, _ = run(capsys, *PERIOD, "--db", db_url, "--format", "json")
    assert code == 0
    assert json.loads(out) == compute_kpis(ledger, *_period(), policy=policy).to_dict()


def _period():
    from tests.kpis.kpikit import END, START
    return START, END


def test_table_shows_groups_total_and_reasons(store, db_url, capsys):
    code, out, _ = run(capsys, *PERIOD, "--database", db_url, "--group-by", "bucket")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "KPIs 2026-10-01 to 2026-10-31 (31 days, 1.0000 months), policy default 1.0.0, by bucket"
    at = next(i for i, line in enumerate(lines) if line.startswith("GBP "))     # after the EUR table
    assert lines[at].split() == ["GBP", "current", "1-30", "90+", "(none)", "total"]
    rate = next(line for line in lines[at:] if line.startswith("collection rate (%)"))
    assert rate.split()[-1] == "25.33"                      # the GBP total (hand-computed)
    assert "  n/a cost to collect (ratio): no collection costs are configured for GBP" in out


def test_csv_long_form(store, db_url, capsys):
    code, out, _ = run(capsys, *PERIOD, "--db", db_url, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert set(rows[0]) == {"from", "to", "group", "currency", "section", "name", "value", "unit", "reason"}
    dso = [r for r in rows if r["name"] == "dso" and r["currency"] == "GBP"]
    assert dso == [{"from": "2026-10-01", "to": "2026-10-31", "group": "all", "currency": "GBP", "section": "kpi",
                    "name": "dso", "value": "254.20", "unit": "days", "reason": ""}]
    aging = {(r["name"], r["section"]): r["value"] for r in rows if r["currency"] == "GBP"
             and r["section"].startswith("aging")}
    assert aging[("1-30", "aging_balance")] == "2500.00" and aging[("1-30", "aging_count")] == "2"


def test_costs_come_from_the_config_file(store, db_url, tmp_path, capsys):
    config = tmp_path / "arrears.toml"
    config.write_text(f'database_url = "{db_url}"\n\n[kpis.costs.GBP]\nemail = "0.02"\nsms = "0.05"\n'
                      'letter = "0.90"\ncall = "2.50"\nfixed_per_month = "10.00"\n', encoding="utf-8")
    code, out, _ = run(capsys, *PERIOD, "--config", str(config), "--format", "json")
    assert code == 0
    gbp = next(r for r in json.loads(out)["total"] if r["currency"] == "GBP")
    assert gbp["figures"]["collection_costs"] == {"amount": "18.47", "currency": "GBP"}
    assert gbp["kpis"]["cost_to_collect"]["value"] == "0.0097"


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-13-01", "--to", "2026-10-31"], "arrears kpis: --from: expected a date (YYYY-MM-DD)"),
    (["--from", "2026-11-01", "--to", "2026-10-31"], "arrears kpis: --from 2026-11-01 is after --to 2026-10-31"),
])
def test_bad_dates(store, db_url, capsys, args, message):
    code, out, err = run(capsys, *args, "--db", db_url)
    assert code == 2 and out == "" and err.startswith(message)


def test_no_database_and_bad_costs(tmp_path, db_url, store, capsys):
    code, _, err = run(capsys, *PERIOD, "--db", f"sqlite:///{tmp_path / 'missing.db'}")
    assert code == 3 and "no database file at" in err and not (tmp_path / "missing.db").exists()
    config = tmp_path / "bad.toml"
    config.write_text('[kpis.costs.GBP]\nemail = "cheap"\ncarrier_pigeon = "1"\n', encoding="utf-8")
    code, _, err = run(capsys, *PERIOD, "--db", db_url, "--config", str(config))
    assert code == 2
    assert "kpis.costs.GBP.email: expected a decimal amount" in err
    assert "kpis.costs.GBP.carrier_pigeon: unknown key" in err


def test_unknown_grouping_is_a_usage_error(capsys):
    from arrears.engine.cli.kpis import GROUP_BY
    from arrears.engine.kpis.groups import GROUP_BY as ENGINE_GROUP_BY
    assert GROUP_BY == ENGINE_GROUP_BY
    with pytest.raises(SystemExit) as exc:
        main(["kpis", *PERIOD, "--group-by", "colour"])
    assert exc.value.code == 2 and "invalid choice: 'colour'" in capsys.readouterr().err


def test_the_active_policy_unless_one_is_given(store, db_url, capsys):
    from arrears.engine.policy.load import load_policy
    from arrears.policies import DEFAULT_POLICY
    source = DEFAULT_POLICY.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "9.9.9"')
    active = load_policy(source)
    store.record_policy(active.name, active.version, active.digest, source)
    code, out, _ = run(capsys, *PERIOD, "--db", db_url, "--format", "json")
    assert code == 0 and json.loads(out)["policy"] == {"name": "default", "version": "9.9.9",
                                                      "digest": active.digest}
    code, out, _ = run(capsys, *PERIOD, "--db", db_url, "--format", "json", "--policy", str(DEFAULT_POLICY))
    assert code == 0 and json.loads(out)["policy"]["version"] == "1.0.0"
