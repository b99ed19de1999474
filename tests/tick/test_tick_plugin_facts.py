"""The tick with a policy that uses a plugin fact: the runtime loads the plugins' facts, a
stage condition uses them per page, and a plugin that fails never stops the tick."""
from __future__ import annotations

import numpy as np
import pytest

from arrears.engine.cli import main
from arrears.engine.domain.errors import PolicyError
from arrears.engine.facts.catalogue import BOOL
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import load_settings
from arrears.plugins import hookimpl
from arrears.plugins.facts import PluginFact
from arrears.plugins.testing import plugin_manager
from arrears.policies import DEFAULT_POLICY
from tests.tick.tickkit import MONDAY, account, load, rows

# The friendly reminder is not sent to strategic customers.
POLICY = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
    "      max_attempts: 2\n      repeat_every_days: 7\n",
    "      max_attempts: 2\n      repeat_every_days: 7\n      when:\n"
    "        not: {fact: x_crm_strategic, eq: true}\n", 1)


class Crm:
    def __init__(self, fail: bool = False):
        self.fail, self.pages = fail, []

    @hookimpl
    def arrears_facts(self):
        return [PluginFact("x_crm_strategic", BOOL, "On the CRM's strategic list.", self.strategic)]

    def strategic(self, facts):
        self.pages.append(facts.n)
        if self.fail:
            raise TimeoutError("CRM did not answer")
        return np.asarray(facts.b.ids, dtype=str) == "A1"


@pytest.fixture
def settings(tmp_path, db_url):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return load_settings(db=db_url, policy=str(path), environ={})


def _tick(settings, crm, store):
    load(store, [account(f"A{i}") for i in range(1, 4)])
    runtime = Runtime(settings, dispatch=False, plugin_manager=plugin_manager(crm))
    try:
        return runtime.tick(MONDAY)
    finally:
        runtime.close()


def test_a_stage_condition_on_a_plugin_fact(settings, store):
    crm = Crm()
    summary = _tick(settings, crm, store)
    assert summary.evaluated == 3 and crm.pages == [3]           # one call for the page
    assert sorted(a for (a,) in rows(store, "SELECT a.id FROM outbox o JOIN accounts a USING (acct_no)")) \
        == ["A2", "A3"]                                          # no reminder for strategic A1


def test_a_failing_plugin_fact_does_not_stop_the_tick(settings, store, caplog):
    summary = _tick(settings, Crm(fail=True), store)
    # unknown: `x_crm_strategic eq true` is false, so `not` holds and every account is reminded
    assert summary.evaluated == 3 and summary.actions_queued == 3 and summary.ran
    assert any("x_crm_strategic" in r.getMessage() for r in caplog.records if r.name == "arrears.plugins")
    # visible where operators look: the tick's summary and the audit log
    assert [f["fact"] for f in summary.plugin_failures] == ["x_crm_strategic"]
    audited = rows(store, "SELECT subject, body FROM audit WHERE kind = 'plugin.failed'")
    assert len(audited) == 1 and audited[0][0] == "tick" and "x_crm_strategic" in audited[0][1]


def test_without_the_plugin_the_runtime_refuses_to_start(settings, store):
    with pytest.raises(PolicyError, match=r"policy.yaml:\d+:\d+: no plugin provides fact 'x_crm_strategic'"):
        Runtime(settings, dispatch=False, plugin_manager=plugin_manager())


def test_arrears_tick_names_the_missing_plugin_fact(settings, capsys):
    assert main(["tick", "--db", settings.database_url, "--policy", str(settings.policy_path),
                 "--no-dispatch", "--at", "2026-11-23T10:00:00Z"]) == 1
    assert "no plugin provides fact 'x_crm_strategic'; loaded plugins provide: none" in capsys.readouterr().err
