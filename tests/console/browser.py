"""A real browser for the console tests: Debian's chromium, headless, driven by chromedriver.

`served(tmp_path)` runs `arrears serve --demo` as a real process and yields (base URL, login);
`chromium()` a Selenium driver that keeps the page's console messages.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(db_path, cwd):
    """`arrears serve --demo` on a free port over the SQLite file `db_path`: (base URL, (user, password))."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    proc = subprocess.Popen([sys.executable, "-m", "arrears.engine", "serve", "--demo", "--port", str(port),
                             "--db", f"sqlite:///{db_path}"], stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    try:
        login, log, deadline = None, [], time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stderr.readline()
            log.append(line)
            found = re.search(r"demo console login \(admin\): (\S+) / (\S+)", line)
            login = login or (found and (found[1], found[2]))
            if "arrears API on" in line:
                break
        assert login, "".join(log)
        yield f"http://127.0.0.1:{port}", login
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


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
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
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
