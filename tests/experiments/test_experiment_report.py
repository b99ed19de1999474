"""The HTML report shows the running experiment's results: strategies, the difference, the verdict,
and the days a pause left out."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from arrears.engine.cli import main
from arrears.engine.experiments import lifecycle
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.engine.tick.runner import run_tick
from arrears.policies import DEFAULT_POLICY
from tests.experiments.expkit import CHALLENGER, spec, write
from tests.tick.tickkit import NOW, load, load_portfolio


@pytest.fixture
def world(tmp_path, monkeypatch):
    """(database URL, the open store with 60 accounts and both policies recorded, the champion,
    the experiment's spec file: sms-first against the champion, half each)."""
    for name in [n for n in os.environ if n.startswith("ARREARS_")]:
        monkeypatch.delenv(name)
    db = f"sqlite:///{tmp_path / 'arrears.db'}"
    with Store(db) as store:
        load(store, *load_portfolio(60, seed=4))
        champion = load_policy(DEFAULT_POLICY)
        challenger = load_policy(CHALLENGER, filename="challenger.yaml")
        store.record_policy(champion.name, champion.version, champion.digest, DEFAULT_POLICY.read_text("utf-8"))
        store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
        path = write(tmp_path, spec(challengers=[{"name": "sms-first", "policy": challenger.digest, "share": 50}],
                                    start="2026-11-01", end="2027-03-01"))
        yield db, store, champion, path


def _report(db: str, out) -> str:
    assert main(["report", "--from", "2026-11-01", "--to", "2026-11-22", "--out", str(out), "--db", db,
                 "--no-goals"]) == 0
    return out.read_text(encoding="utf-8")


def test_the_report_has_an_experiment_section(world, tmp_path):
    db, store, champion, path = world
    without = _report(db, tmp_path / "before.html")
    lifecycle.start(store, path, by="test", now=NOW)
    run_tick(store, champion, NOW)
    html = _report(db, tmp_path / "report.html")
    assert 'id="experiment"' not in without
    assert 'id="experiment"' in html and "Experiment sms-first" in html
    assert "<th scope=\"row\">champion</th>" in html and "<th scope=\"row\">sms-first</th>" in html
    assert "cure rate per strategy" in html and "no significant difference" in html
    assert 'id="experiment-paused"' not in html                   # never paused: no such line


def test_the_report_says_which_days_a_pause_left_out(world, tmp_path):
    db, store, champion, path = world
    lifecycle.start(store, path, by="test", now=datetime(2026, 11, 2, 9, tzinfo=timezone.utc))
    store.experiments.pause("sms-first", "challenger 'sms-first' was edited in the database", by="tick",
                            now=datetime(2026, 11, 12, 15, tzinfo=timezone.utc))
    lifecycle.resume(store, "sms-first", by="test", now=datetime(2026, 11, 14, 8, tzinfo=timezone.utc))
    run_tick(store, champion, NOW)
    html = _report(db, tmp_path / "report.html")
    assert ('<p class="tally" id="experiment-paused">3 paused days left out of every strategy&#39;s figures '
            "(the champion decided everyone then): 2026-11-12 to 2026-11-14 (challenger &#39;sms-first&#39; was edited "
            "in the database).</p>") in html
