"""Plugin facts through the command line, with the example plugin installed the way pip would
(its real entry-point table): `arrears validate`, `arrears explain` and `arrears test`."""
from __future__ import annotations

import json

import pytest

from arrears.engine.cli import main
from tests.plugins.pluginkit import EXAMPLE, install_example, install_fake_distribution

POLICY = EXAMPLE / "policies" / "strategic.yaml"
FACT = "x_teams_strategic_customer"
ENV = "ARREARS_TEAMS_STRATEGIC_FILE"
AT = "2026-11-22T15:00:00Z"          # 21 days after the invoice fell due


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The example plugin installed; its strategic-customer list names debtor D-100."""
    install_example(tmp_path / "site", monkeypatch)
    listing = tmp_path / "strategic.txt"
    listing.write_text("# CRM export\nD-100\n\nD-200  # renewed in May\n", encoding="utf-8")
    monkeypatch.setenv(ENV, str(listing))
    return tmp_path


def account_file(tmp_path, account_id: str, debtor_id: str | None = None):
    data = {"id": account_id, "currency": "GBP", "timezone": "Europe/London", "debtor_type": "business",
            "contact": {"email": "ap@example.com", "address": "1 Dock Road, London"},
            "invoices": [{"id": "I1", "amount": "2500.00", "due_date": "2026-11-01"}]}
    if debtor_id:
        data["debtor_id"] = debtor_id
    path = tmp_path / f"{account_id}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_validate_accepts_the_example_policy_and_names_the_facts_it_uses(installed, capsys):
    assert main(["validate", str(POLICY)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"ok  {POLICY}  teams-strategic-example 1.0.0 sha256:")
    assert out[1:] == [f"    uses plugin facts: {FACT} (teams)", "1 file checked, all valid"]


def test_validate_locates_a_plugin_fact_no_plugin_provides(installed, capsys):
    text = POLICY.read_text(encoding="utf-8").replace(f"{{fact: {FACT}, eq: true}}",
                                                      "{fact: x_teams_strategic, eq: true}")
    bad = installed / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "x_teams_strategic," in row)
    col = text.splitlines()[line - 1].index("x_teams_strategic,") + 1
    assert main(["validate", str(bad)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        (f"{bad}:{line}:{col}: no plugin provides fact 'x_teams_strategic'; loaded plugins provide: "
         f"{FACT} (teams); did you mean '{FACT}'?"),
        "1 file checked: 0 valid, 1 with 1 problem"]


def test_explain_uses_the_fact_for_the_account(installed, capsys):
    assert main(["explain", "--policy", str(POLICY), "--account", account_file(installed, "A1", "D-100"),
                 "--at", AT]) == 0
    out = capsys.readouterr().out
    assert "Segments: strategic." in out
    assert "DECISION: manual review (stage strategic_review, attempt 1) by review" in out
    assert f"strategic      member      any of ({FACT} = True: yes (is True);" in out
    assert main(["explain", "--policy", str(POLICY), "--account", account_file(installed, "A2"),
                 "--at", AT, "--format", "json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["segments"] == [] and decision["action"]["stage"] == "firm_reminder"


def test_explain_when_the_plugin_cannot_compute_the_fact(installed, monkeypatch, capsys):
    monkeypatch.delenv(ENV)
    assert main(["explain", "--policy", str(POLICY), "--account", account_file(installed, "A2"),
                 "--at", AT]) == 0
    out = capsys.readouterr().out
    # unknown, and the example policy counts an unknown customer as strategic (the gentler path)
    assert "Plugin facts that could not be computed (unknown in every condition):" in out
    assert (f"  {FACT}: fact '{FACT}' from plugin 'teams': compute raised LookupError: set {ENV} "
            "to the strategic-customer list") in out
    assert "DECISION: manual review (stage strategic_review" in out


def test_policy_tests_run_with_the_plugin_facts(installed, capsys):
    suite = installed / "strategic_test.yaml"
    suite.write_text(f"""
policy: {POLICY}
defaults:
  now: "{AT}"
  account:
    currency: GBP
    timezone: Europe/London
    contact: {{email: ap@example.com}}
    invoices: [{{id: I1, amount: "2500.00", due_date: "2026-11-01"}}]
cases:
  - name: a strategic customer gets their account manager
    account: {{debtor_id: D-200}}
    expect: {{segments: [strategic], stage: strategic_review, channel: review}}
  - name: anyone else a firm reminder
    account: {{debtor_id: D-300}}
    expect: {{segments: [], stage: firm_reminder}}
""", encoding="utf-8")
    assert main(["test", str(suite)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 passed, 0 failed"


def test_a_plugin_that_cannot_be_loaded_is_a_usage_error(tmp_path, monkeypatch, capsys):
    install_fake_distribution(tmp_path, "arrears-broken", "1.0", {"broken": "no_such_module_xyz"})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["validate", str(POLICY)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("arrears validate: cannot load the plugins' facts: cannot load a plugin")
    assert "no_such_module_xyz" in err



def test_read_only_commands_load_a_policy_that_uses_a_plugin_fact(installed, capsys):
    """simulate and kpis compile the candidate/--policy with the installed plugins' facts."""
    from arrears.engine.domain.model import Account
    from arrears.engine.store import Store

    url = f"sqlite:///{installed / 'arrears.db'}"
    with Store(url) as store:
        data = json.loads(open(account_file(installed, "ACME-1", "D-100")).read())
        store.upsert_accounts([Account.from_dict(data)])
    assert main(["simulate", "--candidate", str(POLICY), "--db", url, "--at", AT, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["policies"]["candidate"]["name"] == "teams-strategic-example"
    assert main(["kpis", "--from", "2026-11-01", "--to", "2026-11-22", "--db", url,
                 "--policy", str(POLICY), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)
