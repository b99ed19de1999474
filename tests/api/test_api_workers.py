"""`serve(workers=N)` (api/workers.py): a SIGTERM while the server processes are still starting
stops them all, and the parent exits 0, instead of the parent dying of the signal and leaving its
children serving."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.api.apikit import ROOT
from tests.serving import unused_ports
from tests.waiting import wait_until

# The second child to start takes 60 s to get ready: the parent is still waiting for it when the
# signal comes (its first child already answers).
SERVER = """
import json, os, sys, time
from arrears.api import create_app
from arrears.api.server import serve
config, marker = json.loads(sys.argv[1]), sys.argv[2]
app = create_app({"database_url": config["database_url"]})
state = app.extensions["arrears"]
ready = state.after_fork
def after_fork():
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        time.sleep(60)
    ready()
state.after_fork = after_fork
serve(app, "127.0.0.1", config["port"], threads=4, workers=2)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_sigterm_while_the_processes_start_stops_them_all(tmp_path):
    (port,) = unused_ports(1)
    config = {"database_url": f"sqlite:///{tmp_path / 'w.db'}", "port": port}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(config), str(tmp_path / "first")],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        def first_answers() -> bool:
            assert proc.poll() is None, proc.stderr.read()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
                return resp.status == 200
        wait_until(first_answers, 120, 0.1, what="the first server process to answer", ignore=(OSError,))
        children = _children(proc.pid)
        assert len(children) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        err = proc.stderr.read()
        assert "arrears API on" not in err and "Traceback" not in err, err
        wait_until(lambda: not any(_alive(c) for c in children), 30, 0.1, what="the children to be gone")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


class _Stopped(Exception):
    pass


def test_a_signal_inside_signals_held_takes_effect_when_the_block_ends():
    """What `serve` does around starting its scheduler: a SIGTERM then (the serve test's SIGTERM
    right after the server said where it listens, under load) used to stop the scheduler between
    marking itself running and starting its thread, and the shutdown then failed with "cannot
    join thread before it is started" (exit 70)."""
    from arrears.api.workers import signals_held

    def stop(_signum, _frame):
        raise _Stopped()

    previous = signal.signal(signal.SIGTERM, stop)
    steps = []
    try:
        try:
            with signals_held():
                os.kill(os.getpid(), signal.SIGTERM)
                steps.append("after the signal")
                time.sleep(0.05)                 # the handler would have run by now
                steps.append("the block's end")
        except _Stopped:
            steps.append("stopped")
        assert steps == ["after the signal", "the block's end", "stopped"]
        assert signal.getsignal(signal.SIGTERM) is stop          # the handler is back
        with signals_held():                                     # nothing received: nothing raised
            steps.append("quiet")
        assert steps[-1] == "quiet"
    finally:
        signal.signal(signal.SIGTERM, previous)
