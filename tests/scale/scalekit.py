"""Helpers for the distributed tick's tests: a config file, and `arrears worker` processes.

Every worker is the real command (`arrears worker`) in a process group of its own, so a test
can SIGKILL a worker with its pool processes, as a machine that dies would lose them.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.tick.tickkit import ROUTES, WEBHOOK_SECRET
from tests.waiting import wait_until

ARREARS = Path(sys.executable).with_name("arrears")
ACCOUNTS = 60                # the portfolio of the tests (conftest.portfolio)


def write_config(path: Path, sink_url: str, *, batch_size: int = 25, visibility: float = 2.0,
                 delivery_tasks: int = 3, rates: dict | None = None, page_timeout: float = 60,
                 resend_after: float = 5.0) -> Path:
    """A TOML config: every channel to the webhook at `sink_url`, small pages, a short
    visibility timeout (a dead worker's task is handed out again after it), and pages the
    broker lost sent again after `resend_after` (a worker killed between taking a task and
    recording it as held loses it: kombu's Redis transport moves it in two steps)."""
    routes = "\n".join(f'{name} = "{channel}"' for name, channel in ROUTES.items())
    limits = "\n".join(f"{name} = {rate}" for name, rate in (rates or {}).items())
    path.write_text(f"""
[tick]
batch_size = {batch_size}

[scale]
visibility_timeout = {visibility}
page_timeout = {page_timeout}
resend_after = {resend_after}
delivery_tasks = {delivery_tasks}

[scale.rate_limits]
{limits}

[channels.webhook]
url = "{sink_url}/hook"
secret = "{WEBHOOK_SECRET}"
timeout = 5

[routes]
{routes}

[creditor]
name = "Example Ltd"
""", encoding="utf-8")
    return path


def tick_command(world: dict, at: str, *extra: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """`arrears tick --at AT` with the world's database, broker and config, to its end: the leader
    of one distributed tick, as a cron job runs it (its output captured as text)."""
    return subprocess.run([str(ARREARS), "tick", "--db", world["db"], "--broker", world["broker"], "--config",
                           str(world["config"]), "--at", at, *extra],
                          capture_output=True, text=True, timeout=timeout, env={"PATH": "/usr/bin:/bin"}, check=False)


class Workers:
    """`arrears worker` processes on one database and broker; `stop()` ends them all."""

    def __init__(self, db: str, broker: str, config: Path, logs: Path, *, env: dict | None = None):
        self.db, self.broker, self.config, self.logs = db, broker, config, logs
        self.env = env or {}        # more environment for the workers (PYTHONPATH for a plugin)
        self.procs: list[subprocess.Popen] = []

    def start(self, n: int = 1, *, wait: bool = True) -> list[subprocess.Popen]:
        """Start `n` workers and (`wait`) wait until each says it is ready."""
        started = []
        for _ in range(n):
            log = self.logs / f"worker-{len(self.procs)}.log"
            env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")} | self.env
            proc = subprocess.Popen([str(ARREARS), "worker", "--db", self.db, "--broker", self.broker,
                                     "--config", str(self.config), "--concurrency", "1"],
                                    stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
            proc.log = log
            self.procs.append(proc)
            started.append(proc)
        for proc in started if wait else ():
            wait_until(lambda p=proc: self._ready(p), 60, 0.1, what=f"arrears worker {proc.pid} to be ready")
        return started

    @staticmethod
    def _ready(proc) -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"arrears worker exited {proc.returncode}:\n{proc.log.read_text()[-3000:]}")
        return b" ready." in proc.log.read_bytes()

    def kill(self, proc) -> None:
        """SIGKILL `proc` and its pool processes (its whole process group), at once."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        """Stop every worker still running: SIGTERM (a warm shutdown), then SIGKILL."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
