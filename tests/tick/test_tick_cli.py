"""`arrears tick` and `arrears serve` as users run them."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from arrears.engine.cli import main
from arrears.engine.store.leases import acquire
from tests.tick.tickkit import ROUTES, account, load, load_portfolio, rows
from tests.waiting import wait_until


def _config(tmp_path, server, batch_size: int = 10_000) -> str:
    routes = "\n".join(f'{name} = "webhook"' for name in ROUTES)
    path = tmp_path / "arrears.toml"
    path.write_text(f"""
[tick]
interval = 60
lease_ttl = 5
batch_size = {batch_size}

[channels.webhook]
url = "{server.url}/hook"
secret = "test-secret-0123456789abcdef0123456789"

[routes]
{routes}
""")
    return str(path)


def test_tick_runs_once_and_prints_a_summary(store, server, tmp_path, capsys):
    load(store, [account("A1"), account("A2")])
    code = main(["tick", "--db", store.url, "--at", "2026-11-23T10:00:00Z", "--config", _config(tmp_path, server),
                 "--progress"])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0
    assert "2/2 accounts" in captured.err and "dispatch  2/2 contacts" in captured.err
    assert out.startswith("tick 2026-11-23T10:00:00Z: 2 evaluated, 2 decisions, 2 queued, 0 suppressed, "
                          "2 delivered, 0 failed")
    assert len(server.requests) == 2
    assert rows(store, "SELECT name, active FROM policy_versions") == [("default", 1)]


def test_no_dispatch_queues_only_and_json_reports_it(store, server, tmp_path, capsys):
    load(store, [account("A1")])
    code = main(["tick", "--db", store.url, "--at", "2026-11-23T10:00:00Z", "--no-dispatch", "--json",
                 "--config", _config(tmp_path, server)])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["actions_queued"] == 1 and summary["delivered"] == 0
    assert server.requests == []


def test_progress_bar_goes_to_stderr(store, capsys):
    load(store, [account(f"A{i}") for i in range(5)])
    assert main(["tick", "--db", store.url, "--at", "2026-11-23T10:00:00Z", "--no-dispatch", "--progress"]) == 0
    captured = capsys.readouterr()
    assert "evaluate" in captured.err and "5/5 accounts" in captured.err
    assert "5 evaluated" in captured.out


def test_a_held_lease_skips_with_status_3(store, capsys):
    load(store, [account("A1")])
    acquire(store.engine, "tick", "other-host:1:x", now=time.time(), ttl=600)
    assert main(["tick", "--db", store.url, "--no-dispatch"]) == 3
    assert "skipped: another process holds the tick lease: other-host:1:x" in capsys.readouterr().out


def test_bad_configuration_is_reported_not_raised(store, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[tick]\ninterval = 0\nfrequency = 3\n[channels.sms]\nurl = 'nope'\n")
    assert main(["tick", "--db", store.url, "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "interval: must be at least 1" in err and "tick.frequency: unknown setting" in err
    assert main(["tick", "--db", store.url, "--policy", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_ticks_on_schedule_and_stops_cleanly_on_sigterm(store, server, tmp_path):
    load(store, [account("A1")])
    proc = subprocess.Popen([sys.executable, "-m", "arrears.engine", "serve", "--db", store.url, "--interval", "1",
                             "--port", "0", "--config", _config(tmp_path, server)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def scheduled_ticks_done() -> bool:
        assert proc.poll() is None, f"arrears serve exited: {proc.communicate()[1][-3000:]}"
        return rows(store, "SELECT count(*) FROM tick_runs WHERE trigger = 'scheduled' "
                           "AND finished_at IS NOT NULL")[0][0] >= 2     # SIGTERM waits for the job's log line

    try:
        wait_until(scheduled_ticks_done, 120, 0.2, what="arrears serve to finish two scheduled ticks")
        assert rows(store, "SELECT count(*) FROM audit WHERE kind = 'tick.page'")[0][0] >= 1
        # serve ticks at the wall clock: inside the debtor's contact hours (08:00-21:00 London)
        # the first tick delivers, the contact re-opens the account and a later tick decides it
        # once more; outside them nothing is sent and the account is decided once.
        expected = 2 if server.requests else 1
        wait_until(lambda: decisions(store) >= expected, 60, 0.2, what=f"{expected} stored decision(s)")
        assert decisions(store) == expected
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "ticking every 1 s" in err and "stopped" in err
    assert err.count("tick 20") >= 2          # it ran on schedule, more than once
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_second_sigterm_while_serve_waits_for_its_tick_is_logged_not_fatal(store, server, tmp_path):
    accounts, histories = load_portfolio(6000, seed=3)
    load(store, accounts, histories)
    proc = subprocess.Popen([sys.executable, "-m", "arrears.engine", "serve", "--db", store.url, "--port", "0",
                             "--config", _config(tmp_path, server, batch_size=500)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: rows(store, "SELECT count(*) FROM tick_runs WHERE status = 'running'")[0][0]
                   or proc.poll() is not None, 120, 0.02, what="the first scheduled tick to start")
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)                       # the shutdown is waiting for the tick's page
        proc.send_signal(signal.SIGTERM)      # a supervisor repeating itself
    finally:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    # whichever step of the stop the second signal finds (the server closing, the tick's page)
    assert "arrears: already stopping (SIGTERM again)" in err, err[-3000:]
    assert err.rstrip().endswith("arrears serve: stopped"), err[-3000:]
    assert rows(store, "SELECT count(*) FROM tick_runs WHERE finished_at IS NULL") == [(0,)]
    assert "Traceback" not in err


def decisions(store) -> int:
    return rows(store, "SELECT count(*) FROM decisions")[0][0]


def test_serve_checks_cron(store, capsys):
    assert main(["serve", "--db", store.url, "--cron", "61 * * * *"]) == 2
    assert "not a valid crontab expression" in capsys.readouterr().err
