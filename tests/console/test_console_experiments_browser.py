"""The experiments pages in a real browser (chromium), served by `arrears serve --demo`: a
compliance user pastes an experiment file with a mistake and sees it at its line and column,
fixes it and starts the experiment; after a tick, **Compute now** shows the results; she proposes
promoting the challenger and cannot approve it herself; the demo admin approves and the
challenger's version becomes the active policy. Both pages pass axe-core; no console errors.
Screenshot: experiment.png."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from tests.console.browser import chromium, console_errors, screenshot, served
from tests.console.test_console_a11y import _report, _violations
from tests.console.test_console_workbench_browser import MARIA, _add_compliance_user, _arrive, _click
from tests.experiments.expkit import CHALLENGER, spec
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def _store_challenger(db) -> str:
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    with Store(f"sqlite:///{db}") as store:
        store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False)
    return challenger.digest


def _assigned_after_a_tick(db) -> bool:
    """Run a tick (unless the server's own holds the lease); True once debtors are assigned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    done = subprocess.run([sys.executable, "-m", "arrears.engine", "tick", "--no-dispatch", "--db", f"sqlite:///{db}"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0 or "holds the tick lease" in done.stdout + done.stderr, done.stdout + done.stderr
    with Store(f"sqlite:///{db}") as store:
        return bool(store.experiments.arm_counts(store.experiments.get("sms-first")["id"]))


def _log_in(driver, base, user, password, to="/experiments"):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    driver.get(base + "/login?next=" + to)
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
    _arrive(driver, base + to)


def test_start_compute_propose_and_approve_as_two_users(tmp_path):
    from selenium.webdriver.common.by import By
    db = tmp_path / "demo.db"
    today = datetime.now(timezone.utc).date()        # the ticks' day (UTC), not this machine's local one
    with served(db, tmp_path) as (base, (admin, admin_password)), chromium() as driver:
        _add_compliance_user(db)
        digest = _store_challenger(db)
        doc = spec(challengers=[{"name": "sms-first", "policy": digest, "share": 50}],
                   start=today.isoformat(), end=(today + timedelta(days=90)).isoformat())
        doc.pop("eligibility")
        text = yaml.safe_dump(doc, sort_keys=False)
        _log_in(driver, base, *MARIA)
        assert not _violations(driver), _report({"experiments": _violations(driver)})
        source = driver.find_element(By.ID, "source")
        source.send_keys(text.replace("kpi: cure_rate", "kpi: cure_rat"))
        _click(driver, driver.find_element(By.ID, "start"))
        problems = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#problems li"), 60, 0.1,
                              what="the file's problems")
        line = next(n for n, t in enumerate(text.splitlines(), 1) if "kpi: cure_rate" in t)
        assert any(p.text.startswith(f"<experiment>:{line}:") and "unknown KPI 'cure_rat'" in p.text
                   for p in problems), [p.text for p in problems]
        # the page answered 422 (the file has problems), which chromium logs; nothing else may be logged
        assert [e for e in console_errors(driver) if "/experiments/start" not in e or "422" not in e] == []
        source = driver.find_element(By.ID, "source")
        source.clear()
        source.send_keys(text)
        _click(driver, driver.find_element(By.ID, "start"))
        _arrive(driver, base + "/experiments/sms-first")
        assert "Started sms-first" in driver.find_element(By.CSS_SELECTOR, ".flash.ok").text
        assert "no debtor has been assigned yet" in driver.find_element(By.ID, "verdict").text
        # every account was made due: the next tick assigns their debtors (the server's, or ours)
        wait_until(lambda: _assigned_after_a_tick(db), 300, 2, what="a tick assigning the debtors")
        _click(driver, driver.find_element(By.ID, "compute"))
        wait_until(lambda: driver.find_elements(By.ID, "kpis"), 120, 0.1, what="the computed results")
        assert driver.find_elements(By.CSS_SELECTOR, "#comparisons tbody tr")
        assert "chi-square" in driver.find_element(By.ID, "sample-ratio").text
        assert "sms-first" in driver.find_element(By.ID, "verdict").text
        driver.find_element(By.ID, "note").send_keys("SMS first cures more")
        _click(driver, driver.find_element(By.ID, "propose"))
        wait_until(lambda: driver.find_elements(By.ID, "proposal"), 60, 0.1, what="the proposal")
        assert "Awaiting another approver." in driver.find_element(By.ID, "proposal").text
        assert not driver.find_elements(By.ID, "approve")
        found = _violations(driver)
        assert not found, _report({"experiment": found})
        screenshot(driver, tmp_path, "experiment")
        assert console_errors(driver) == []
        _click(driver, driver.find_element(By.CSS_SELECTOR, ".who button"))
        _arrive(driver, base + "/login")

        _log_in(driver, base, admin, admin_password, "/experiments/sms-first")
        proposal = driver.find_element(By.ID, "proposal")
        assert "maria proposed promoting sms-first" in proposal.text and "SMS first cures more" in proposal.text
        _click(driver, proposal.find_element(By.ID, "approve"))
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".flash.ok") and
                   "promoted" in driver.find_element(By.ID, "experiment-meta").text, 60, 0.1, what="the approval")
        assert "Approved the proposal of maria" in driver.find_element(By.CSS_SELECTOR, ".flash.ok").text
        assert console_errors(driver) == []
    with Store(f"sqlite:///{db}") as store:
        assert store.active_policy()["digest"] == digest
        assert store.experiments.get("sms-first")["ended_by"] == admin
