"""The HTML report shows the running experiment's results: strategies, the difference, the verdict."""
from __future__ import annotations

import os

from arrears.engine.cli import main
from arrears.engine.experiments import lifecycle
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.engine.tick.runner import run_tick
from arrears.policies import DEFAULT_POLICY
from tests.experiments.expkit import CHALLENGER, spec, write
from tests.tick.tickkit import NOW, load, load_portfolio


def test_the_report_has_an_experiment_section(tmp_path, monkeypatch, capsys):
    for name in [n for n in os.environ if n.startswith("ARREARS_")]:
        monkeypatch.delenv(name)
    db = f"sqlite:///{tmp_path / 'arrears.db'}"
    with Store(db) as store:
        load(store, *load_portfolio(60, seed=4))
        champion = load_policy(DEFAULT_POLICY)
        challenger = load_policy(CHALLENGER, filename="challenger.yaml")
        store.record_policy(champion.name, champion.version, champion.digest, DEFAULT_POLICY.read_text("utf-8"))
        store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
        without = tmp_path / "before.html"
        assert main(["report", "--from", "2026-11-01", "--to", "2026-11-22", "--out", str(without), "--db", db,
                     "--no-goals"]) == 0
        path = write(tmp_path, spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
                                    start="2026-11-01", end="2027-03-01"))
        lifecycle.start(store, path, by="test", now=NOW)
        run_tick(store, champion, NOW)
    out = tmp_path / "report.html"
    assert main(["report", "--from", "2026-11-01", "--to", "2026-11-22", "--out", str(out), "--db", db,
                 "--no-goals"]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'id="experiment"' not in without.read_text(encoding="utf-8")
    assert 'id="experiment"' in html and "Experiment sms-first" in html
    assert "<th scope=\"row\">champion</th>" in html and "<th scope=\"row\">sms-first</th>" in html
    assert "cure rate per strategy" in html and "no significant difference" in html
