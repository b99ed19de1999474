"""The policy workbench in a real browser (chromium), served by `arrears serve --demo`: a
compliance user types a typo and sees the error at its line, fixes it, saves and sees the
policy tests pass, runs the what-if (its progress, then its result) and proposes; the demo admin
approves. No console errors
(a CSP violation would be one). Screenshots: workbench.png, workbench_whatif.png."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.console.browser import chromium, console_errors, served
from tests.console.test_console_browser import _shot
from tests.waiting import wait_until

pytestmark = pytest.mark.slow
MARIA = ("maria", "maria's long secret 1")


def _add_compliance_user(db) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    done = subprocess.run([sys.executable, "-m", "arrears.engine", "users", "add", MARIA[0], "--role", "compliance",
                           "--password-stdin", "--db", f"sqlite:///{db}"], input=MARIA[1] + "\n",
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr


def _arrive(driver, url: str) -> None:
    """Wait until the browser has loaded `url` (a login hashes with argon2 and the demo's ticks run
    beside it: on a loaded machine that takes a while)."""
    wait_until(lambda: driver.current_url == url and
               driver.execute_script("return document.readyState") == "complete", 120, 0.05,
               what=f"the browser to load {url}")


def _log_in(driver, base, user, password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    driver.get(base + "/login?next=/policies")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
    _arrive(driver, base + "/policies")


def _editor(driver):
    from selenium.webdriver.common.by import By
    return wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#workbench .cm-content"), 30, 0.05,
                      what="the CodeMirror editor")[0]


def _click(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _lint(driver) -> str:
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, "lint-list").text + "\n" + driver.find_element(By.ID, "lint-summary").text


def test_edit_check_test_simulate_propose_and_approve(tmp_path):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    db = tmp_path / "demo.db"
    with served(db, tmp_path) as (base, (admin, admin_password)), chromium() as driver:
        _add_compliance_user(db)
        _log_in(driver, base, *MARIA)
        # completion from the policy JSON Schema: a new key under metadata
        _editor(driver).click()
        keys = ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.HOME).key_up(Keys.CONTROL)
        for _ in range(20):
            keys = keys.send_keys(Keys.DOWN)
        keys.send_keys(Keys.END).send_keys(Keys.ENTER).send_keys("effec").perform()   # under "  default_language: en"
        popup = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".cm-tooltip-autocomplete"), 30, 0.1,
                           what="the completion list")[0]
        assert "effective_from" in popup.text
        driver.get(base + "/policies")                   # start again from the active policy's text
        editor = _editor(driver)
        # hover help: the schema's description of a key (line 13: "  owner: ...")
        x, y = driver.execute_script("const v = window.arrearsPolicyEditor;"
                                     "const c = v.coordsAtPos(v.state.doc.line(13).from + 4);"
                                     "return [c.left + 1, (c.top + c.bottom) / 2];")
        hover = ActionBuilder(driver)
        hover.pointer_action.move_to_location(int(x), int(y))
        hover.perform()
        tip = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".cm-schema-help"), 30, 0.1,
                         what="the hover help")[0]
        assert "Who is responsible for the policy" in tip.text
        editor.click()
        keys = ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.HOME).key_up(Keys.CONTROL)
        for _ in range(11):
            keys = keys.send_keys(Keys.DOWN)
        keys.send_keys(Keys.HOME).send_keys("x").send_keys(Keys.ESCAPE).perform()     # line 12: "  xversion:"
        wait_until(lambda: "line 12, column 3: error: unknown key 'xversion'" in _lint(driver), 30, 0.1,
                   what="the typo's error at its line")
        assert driver.find_elements(By.CSS_SELECTOR, ".cm-lintRange-error")      # marked in the editor too
        _shot(driver, tmp_path, "workbench")
        # fix it, and make version 1.0.1 of the policy
        ActionChains(driver).send_keys(Keys.BACKSPACE).send_keys(Keys.END).send_keys(Keys.LEFT) \
            .send_keys(Keys.BACKSPACE).send_keys("1").perform()
        wait_until(lambda: "valid" in driver.find_element(By.ID, "lint-summary").text, 30, 0.1,
                   what="the fixed policy checked valid")
        assert "error" not in driver.find_element(By.ID, "lint-list").text
        _click(driver, driver.find_element(By.ID, "save"))
        heading = wait_until(lambda: driver.find_elements(By.ID, "tests-h"), 120, 0.1, what="the test results")[0]
        assert heading.text.endswith("passed, 0 failed") and not heading.text.startswith("Policy tests: 0 ")
        assert "Saved default 1.0.1 as a draft" in driver.find_element(By.CSS_SELECTOR, ".flash.ok").text
        _editor(driver)
        _click(driver, driver.find_element(By.ID, "whatif"))
        # the page comes back at once with the job's progress; htmx polls it every second and swaps
        # the whole section (outerHTML): the paragraph is found and read in one go, and one swapped
        # out between the two is not yet
        progress = wait_until(lambda: driver.find_element(By.ID, "whatif-progress").text, 120, 0.05,
                              what="the what-if's progress",
                              ignore=(NoSuchElementException, StaleElementReferenceException))
        assert "accounts decided" in progress or "counting the accounts" in progress
        summary = wait_until(lambda: driver.find_elements(By.ID, "whatif-summary"), 120, 0.1, what="the what-if")[0]
        assert "account" in summary.text and "newly held" in summary.text
        assert driver.find_elements(By.CSS_SELECTOR, "#whatif-capacity tbody tr")
        _editor(driver)
        _shot(driver, tmp_path, "workbench_whatif")
        driver.find_element(By.ID, "note").send_keys("version number only")
        _click(driver, driver.find_element(By.ID, "propose"))
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "tr.proposal"), 120, 0.1, what="the proposal")
        assert "Awaiting another approver." in driver.find_element(By.CSS_SELECTOR, "tr.proposal").text
        assert not driver.find_elements(By.CSS_SELECTOR, "button.approve")
        assert console_errors(driver) == []
        _click(driver, driver.find_element(By.CSS_SELECTOR, ".who button"))
        _arrive(driver, base + "/login")

        _log_in(driver, base, admin, admin_password)
        _editor(driver)
        row = driver.find_element(By.CSS_SELECTOR, "tr.proposal")
        assert "maria" in row.text and "version number only" in row.text
        _click(driver, row.find_element(By.CSS_SELECTOR, "button.approve"))
        # (not the flash: the editor's own check request may answer after the redirect and carry the
        # session cookie without it; the page's figures are what count)
        wait_until(lambda: driver.execute_script("return document.readyState") == "complete" and
                   "default 1.0.1" in driver.find_element(By.CSS_SELECTOR, "main .meta").text and
                   not driver.find_elements(By.CSS_SELECTOR, "tr.proposal"), 120, 0.1, what="the approval",
                   ignore=(StaleElementReferenceException,))      # read while the page is replaced
        assert console_errors(driver) == []
