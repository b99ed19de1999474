"""Plugins that watch decisions (`arrears_decision`) on a distributed tick: the worker that wrote a
page tells them, after its commit, once per changed decision, as a local tick does. The plugin is
installed in the workers the way pip would (an entry point on their path), never in the leader."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from arrears.engine.store import tickpages
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import load_settings
from tests.plugins.pluginkit import install_fake_distribution
from tests.scale.scalekit import ACCOUNTS, Workers
from tests.tick.tickkit import MONDAY, rows
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

PROBE = '''
import json, os
from arrears.plugins import hookimpl

@hookimpl
def arrears_decision(decision):
    with open(os.environ["PROBE_FILE"], "a", encoding="utf-8") as out:
        out.write(json.dumps([decision.account_id, decision.stage, os.getpid()]) + "\\n")
    if decision.account_id == os.environ["PROBE_FAIL"]:
        raise ValueError("CRM down")
'''


def _seen(path) -> list:
    """The probe's lines so far (a line being written is left for the next read)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()]


def _parent(pid: int) -> int:
    """The parent process of the live process `pid` (from /proc)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_workers_pass_each_changed_decision_to_the_observers_once(world, portfolio, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "arrears_probe.py").write_text(PROBE, encoding="utf-8")
    install_fake_distribution(site, "arrears-probe", "1.0", {"probe": "arrears_probe"})
    seen, failing = tmp_path / "seen.jsonl", portfolio[0][0].id
    workers = Workers(world["db"], world["broker"], world["config"], tmp_path,
                      env={"PYTHONPATH": str(site), "PROBE_FILE": str(seen), "PROBE_FAIL": failing})
    workers.start(2)
    runtime = Runtime(load_settings(db=world["db"], broker=world["broker"], config=str(world["config"]),
                                    environ={}), dispatch=False)
    try:
        _, summary = runtime.run(MONDAY, "cli")
        assert summary.ran and summary.evaluated == ACCOUNTS
        store = runtime.store
        decided = Counter(a for (a,) in rows(store, "SELECT a.id FROM decisions d "
                                                    "JOIN accounts a USING (acct_no)"))
        # A worker tells the observers after its page's commit, which is also when the leader
        # sees the page done: the last page's observers may still be running when run() returns.
        wait_until(lambda: len(_seen(seen)) >= len(decided), 60, 0.05, what="every decision told")
        lines = _seen(seen)
        told = Counter(account for account, _stage, _pid in lines)
        assert told == decided and max(told.values()) == 1          # every changed decision, once
        assert sum(told.values()) == summary.decisions_written > 0
        (tick,), = rows(store, "SELECT DISTINCT tick FROM tick_pages WHERE kind = 'evaluate'")
        # told in the processes that wrote the pages (which of the two workers took which page, or
        # whether one took them all, is the broker's affair)
        writers = {int(w.rsplit(":", 1)[1]) for (w,) in rows(store, "SELECT DISTINCT worker FROM tick_pages "
                                                                   "WHERE kind = 'evaluate'")}
        assert {pid for *_x, pid in lines} == writers
        assert {_parent(pid) for pid in writers} <= {w.pid for w in workers.procs}      # their pool processes
        failures = wait_until(lambda: tickpages.progress(store.engine, tick, "evaluate").lists["plugin_failures"],
                              60, 0.05, what="the plugin's failure recorded on its page")
        assert [(f["plugin"], f["hook"]) for f in failures] == [("probe", "arrears_decision")]
        assert "CRM down" in failures[0]["error"]
        audited = wait_until(lambda: rows(store, "SELECT body FROM audit WHERE kind = 'plugin.failed'"), 60, 0.05,
                             what="the plugin's failure audited")
        assert len(audited) == 1 and "arrears_decision" in audited[0][0]
        _, again = runtime.run(MONDAY, "cli")                       # nothing changed: nobody is told
        assert again.ran and again.decisions_written == 0
        assert len(_seen(seen)) == len(lines)
    finally:
        runtime.close()
        workers.stop()
