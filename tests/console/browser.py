"""A real browser for the console tests: Debian's chromium, headless, driven by chromedriver.

`served(tmp_path)` runs `arrears serve --demo` as a real process and yields (base URL, login)
(`demo_with_calls` first when a test needs calls in the work queue);
`chromium()` a Selenium driver that keeps the page's console messages.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.serving import read_until_listening, unused_ports

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"


def demo_with_calls(db_path, *, dashboard: bool = False) -> datetime:
    """Make `db_path` a demo database whose work queue has calls whatever the day and hour the
    test runs; returns the instant it was decided at.

    Calls keep the house contact hours (none on Sunday, a short Saturday, none on a public
    holiday, none in the evening), so a demo decided at the real time may have none due: the
    portfolio is generated as of the latest weekday, decided by a tick at 15:00 UTC that day
    (daytime in London, Paris, Berlin and New York), and an earlier weekday is tried when that
    one left no call (a public holiday). Serve it with `scheduler=False`, or the server's own
    tick decides it again at the real time (an outcome recorded in the console still does).
    `dashboard`: compute the dashboard as the server's scheduler would (the shipped goals)."""
    from arrears.engine.cli import main
    from arrears.engine.demo import load_demo
    from arrears.engine.store import decisionreads, policyvers
    from arrears.engine.store.db import read_transaction
    from arrears.engine.store.store import Store
    now = datetime.now(timezone.utc)
    at = now.replace(hour=15, minute=0, second=0, microsecond=0)
    for _ in range(14):
        if at > now or at.weekday() >= 5:
            at -= timedelta(days=1)
            continue
        db_path.unlink(missing_ok=True)
        url = f"sqlite:///{db_path}"
        with Store(url) as store:
            load_demo(store, at.date())
        assert main(["tick", "--db", url, "--no-dispatch", "--at", at.isoformat()]) == 0
        with Store(url) as store, read_transaction(store.engine) as conn:
            calls = decisionreads.due_contacts(conn, ["call"], int(now.timestamp()), 1,
                                               policyvers.active_digest(conn))
        if calls:
            if dashboard:
                _compute_dashboard(url)
            return at
        at -= timedelta(days=1)
    raise AssertionError(f"no weekday of the last two weeks before {now} left a call in the demo's queue")


def _compute_dashboard(url: str) -> None:
    from arrears.api import create_app
    from arrears.api.app import state_of
    from arrears.console.dashboard import refresh
    from arrears.engine.goals import DEFAULT_GOALS
    app = create_app({"database_url": url, "goals": str(DEFAULT_GOALS)})
    try:
        refresh(state_of(app))
    finally:
        state_of(app).close()


@contextlib.contextmanager
def served(db_path, cwd, *, scheduler: bool = True, has_users: bool = False):
    """`arrears serve --demo` on a port of its own choosing over the SQLite file `db_path`:
    (base URL, (user, password)).
    `scheduler=False`: `--no-scheduler` (no tick of its own; see `demo_with_calls`).
    `has_users`: the database already has console users, so serve prints no demo login (None)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    proc = subprocess.Popen([sys.executable, "-m", "arrears.engine", "serve", "--demo", "--port", "0",
                             "--db", f"sqlite:///{db_path}", *([] if scheduler else ["--no-scheduler"])],
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    log: list[str] = []
    try:
        base, log = read_until_listening(proc)
        found = [re.search(r"demo console login \(admin\): (\S+) / (\S+)", line) for line in log]
        login = next(((f[1], f[2]) for f in found if f), None)
        assert base and (login or has_users), "".join(log)
        yield base, login
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        assert code == 0, f"arrears serve exited {code}:\n" + "".join(log)[-4000:]


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900):
    """A headless chromium driven by Selenium; the test skips (fails under ARREARS_TEST_STRICT=1,
    as in CI) when chromium or chromedriver is not installed."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no chromium and chromedriver on this machine: install Debian's `chromium` and "
                    "`chromium-driver` packages (.ci/run does) for the console's browser tests")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # chromedriver on a port no connection can take before it binds it (Selenium's own choice is
    # any free one, of the ephemeral range)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, port=unused_ports(1)[0]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list[str]:
    """The page's console messages at SEVERE level (errors, refused resources, CSP violations)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver, tmp_path, name: str) -> Path:
    """A full-page PNG of the page as `name`.png under tmp_path; with ARREARS_UPDATE_SCREENSHOTS=1
    also copied into docs/console/ (docs/console.md shows them)."""
    path = tmp_path / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 600), 2400))
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000            # a rendered page, not a blank one
    if os.environ.get("ARREARS_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(path, DOCS / path.name)
    return path
