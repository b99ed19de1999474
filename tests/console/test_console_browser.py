"""The console in a real browser, served by `arrears serve --demo`: log in with the printed demo
login, find an account, read why it is treated as it is. Screenshots of each page are taken on
every run (docs/console.md shows them; ARREARS_UPDATE_SCREENSHOTS=1 copies them into docs/console/)."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from tests.console.browser import chromium, console_errors, demo_with_calls, screenshot, served
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


_shot = screenshot


def _arrive(driver, url: str) -> None:
    """Wait until the browser has loaded `url` (a key press or click navigates on its own time)."""
    wait_until(lambda: driver.current_url == url and
               driver.execute_script("return document.readyState") == "complete", 30, 0.05,
               what=f"the browser to load {url}")


def test_log_in_find_an_account_and_read_its_decision(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    db = tmp_path / "demo.db"
    with served(db, tmp_path) as (base, (user, password)), chromium() as driver:
        driver.get(base + "/")
        assert driver.current_url.startswith(base + "/login")
        assert driver.find_element(By.CSS_SELECTOR, "label[for=username]").text == "Username"
        _shot(driver, tmp_path, "login")
        driver.find_element(By.ID, "username").send_keys(user)
        driver.find_element(By.ID, "password").send_keys("wrong password", Keys.ENTER)
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "[role=alert]"), 30, 0.05, what="the error")
        assert "Wrong username or password" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
        driver.find_element(By.ID, "username").send_keys(user)
        driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
        _arrive(driver, base + "/accounts")
        assert f"{user} (admin)" in driver.find_element(By.CSS_SELECTOR, ".who").text
        driver.find_element(By.ID, "q").send_keys("ACC0000001", Keys.ENTER)
        _arrive(driver, base + "/accounts?q=ACC0000001&name=&email=&stage=&status=&segment=")   # the form's fields
        links = driver.find_elements(By.CSS_SELECTOR, "table a[href^='/accounts/']")
        assert len(links) == 10
        _shot(driver, tmp_path, "accounts")
        target = links[3].get_attribute("href")
        links[3].click()
        _arrive(driver, target)
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Account ACC00000")
        verdict = driver.find_element(By.CSS_SELECTOR, ".verdict").text
        assert verdict == "No contact now." or "stage" in verdict
        stages = driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=ladder-h] tbody tr")
        assert len(stages) >= 5
        _shot(driver, tmp_path, "account")
        assert console_errors(driver) == []
        driver.find_element(By.CSS_SELECTOR, ".who button").click()
        _arrive(driver, base + "/login")
    # the same database, served again: the same demo login still works
    with served(db, tmp_path) as (_base, again):
        assert again == (user, password)


def test_keyboard_only_login(tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    with served(tmp_path / "demo.db", tmp_path) as (base, (user, password)), chromium() as driver:
        driver.get(base + "/login")
        actions = ActionChains(driver)
        # the username field has the focus; Tab reaches the password, Enter submits
        actions.send_keys(user).send_keys(Keys.TAB).send_keys(password).send_keys(Keys.ENTER).perform()
        _arrive(driver, base + "/accounts")
        assert driver.switch_to.active_element.get_attribute("id") == "q"
        assert console_errors(driver) == []


def _report_data(db, meta_text: str, segment: str | None = None):
    """The figures the framed report was drawn from, computed here from the served store: the
    currencies in scope, and the contact attempts per day and channel kind of its period."""
    import re
    from datetime import date

    from arrears.engine.domain.batch import epoch_day
    from arrears.engine.kpis import Tally, ledger_from_store
    from arrears.engine.kpis.compute import default_policy
    from arrears.engine.store import Store
    start, end = (date.fromisoformat(d) for d in re.search(r"(\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", meta_text).groups())
    policy = default_policy()
    with Store(f"sqlite:///{db}") as store:
        tally = Tally(ledger_from_store(store, policy, segment_days=[epoch_day(end)]), policy)
    within = None if segment is None else (segment, epoch_day(end))
    assert f"{tally.accounts(within):,} accounts" in meta_text
    currencies = [r.currency for r in tally.report(epoch_day(start), epoch_day(end), within=within).total]
    per_day = tally.attempts_per_day(epoch_day(start), epoch_day(end), within)
    return currencies, per_day, (end - start).days + 1


def _charts_against_the_data(driver, db, meta_text: str, segment: str | None = None) -> None:
    """In the framed report: four charts per currency and the contacts chart; the contacts chart's
    points are the attempts per day of each channel kind, and the work queue's call capacity."""
    from selenium.webdriver.common.by import By

    from arrears.engine.domain.model import CHANNEL_KINDS
    currencies, per_day, days = _report_data(db, meta_text, segment)
    sections = driver.find_elements(By.CSS_SELECTOR, "section[id^=portfolio-]")
    assert [s.get_attribute("id") for s in sections] and len(sections) == len(currencies)
    for section in sections:
        assert len(section.find_elements(By.CSS_SELECTOR, "figure.chart svg")) == 4   # aging, rolls, DSO, channels
    contacts = driver.find_element(By.CSS_SELECTOR, "#contacts figure.chart svg")
    assert contacts.get_attribute("data-periods") == str(days)
    series = {g.get_attribute("data-series"): [float(c.get_attribute("data-value"))
                                               for c in g.find_elements(By.CSS_SELECTOR, "circle")]
              for g in contacts.find_elements(By.CSS_SELECTOR, "g[data-series]")}
    expected = {kind: [float(v) for v in per_day[:, code]] for code, kind in enumerate(CHANNEL_KINDS)
                if per_day[:, code].any() or kind == "call"}
    expected["capacity:call"] = [100.0] * days                  # api.work_queue_capacity's default
    assert series == expected
    assert len(driver.find_elements(By.CSS_SELECTOR, "figure.chart")) == 4 * len(currencies) + 1


def test_the_dashboard_is_computed_at_start_and_shown_without_errors(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    db = tmp_path / "demo.db"
    with served(db, tmp_path) as (base, (user, password)), chromium() as driver:
        driver.get(base + "/dashboard")
        driver.find_element(By.ID, "username").send_keys(user)
        driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)

        def framed():
            driver.get(base + "/dashboard")
            return driver.find_elements(By.CSS_SELECTOR, "iframe.report")
        frame = wait_until(framed, 120, 1.0, what="the dashboard computed by serve --demo")[0]
        meta = driver.find_element(By.CSS_SELECTOR, ".meta").text
        assert "500 accounts" in meta
        driver.switch_to.frame(frame)
        _charts_against_the_data(driver, db, meta)
        driver.switch_to.default_content()
        _shot(driver, tmp_path, "dashboard")
        # A segment's dashboard: chosen from the list, its own address, its own figures.
        link = driver.find_elements(By.CSS_SELECTOR, "nav.segments a")[1]
        segment = link.text
        link.click()
        _arrive(driver, f"{base}/dashboard?segment={segment}")
        assert driver.find_element(By.CSS_SELECTOR, "nav.segments a[aria-current=page]").text == segment
        meta = driver.find_element(By.CSS_SELECTOR, ".meta").text
        assert meta.startswith(f"Segment {segment}")
        driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "iframe.report"))
        assert driver.find_element(By.CSS_SELECTOR, "header .meta").text.startswith(f"Segment {segment}")
        _charts_against_the_data(driver, db, meta, segment)
        driver.switch_to.default_content()
        _shot(driver, tmp_path, "dashboard-segment")
        assert console_errors(driver) == []         # no CSP violation, nothing refused


def test_htmx_updates_the_search_results_and_the_queue_row_without_a_page_load(tmp_path):
    """Typing into the search shows the results (debounced) and claiming or giving back a call
    changes its row, each without loading the page again: a marker set on the page survives."""
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.keys import Keys
    swapped = (StaleElementReferenceException,)      # the row read while htmx swaps it: not yet
    demo_with_calls(tmp_path / "demo.db")                 # calls in the queue, whatever the day
    with served(tmp_path / "demo.db", tmp_path, scheduler=False) as (base, (user, password)), \
            chromium() as driver:
        driver.get(base + "/login")
        driver.find_element(By.ID, "username").send_keys(user)
        driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
        _arrive(driver, base + "/accounts")
        wait_until(lambda: driver.execute_script("return !!window.htmx"), 30, 0.05, what="htmx loaded")
        driver.execute_script("window.notReloaded = true")
        driver.find_element(By.ID, "q").send_keys("ACC0000001")            # no Enter: as you type
        wait_until(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#results a[href^='/accounts/']")) == 10,
                   30, 0.05, what="the results as typed")
        assert driver.execute_script("return window.notReloaded === true")
        assert driver.current_url == base + "/accounts?q=ACC0000001&name=&email=&stage=&status=&segment="
        driver.get(base + "/queue")
        items = driver.find_elements(By.CSS_SELECTOR, "table tbody[id^='queue-']")
        assert items, "the demo's queue has no call: " + driver.find_element(By.TAG_NAME, "main").text
        item_id = items[0].get_attribute("id")
        item = lambda: driver.find_element(By.ID, item_id)       # noqa: E731 (found again after each swap)
        driver.execute_script("window.notReloaded = true")
        item().find_element(By.CSS_SELECTOR, "form button").click()
        wait_until(lambda: "you until" in item().text, 30, 0.05, what="the row claimed", ignore=swapped)
        assert "Claimed: yours for 30 minutes." in item().text
        mine = driver.find_element(By.ID, "queue-mine")           # swapped out of band with the row
        assert mine.is_displayed() and mine.text == f"You hold: {item_id.removeprefix('queue-')}."
        assert item().find_elements(By.CSS_SELECTOR, "tr.work")
        assert driver.current_url == base + "/queue"
        assert driver.execute_script("return window.notReloaded === true")
        _shot(driver, tmp_path, "queue-claimed")
        item().find_element(By.CSS_SELECTOR, "tr:first-child form button").click()        # give it back
        wait_until(lambda: "Back in the queue." in item().text, 30, 0.05, what="the row given back",
                   ignore=swapped)
        assert not item().find_elements(By.CSS_SELECTOR, "tr.work")
        wait_until(lambda: not driver.find_element(By.ID, "queue-mine").is_displayed(), 30, 0.05,
                   what="the You hold line emptied", ignore=swapped)
        item().find_element(By.CSS_SELECTOR, "form button").click()                       # claim again
        wait_until(lambda: item().find_elements(By.CSS_SELECTOR, "tr.work input[value=no_answer]"), 30, 0.05,
                   what="the outcome form in the row", ignore=swapped)
        item().find_element(By.CSS_SELECTOR, "tr.work input[value=no_answer]").click()
        item().find_element(By.CSS_SELECTOR, "tr.work form.outcome button[type=submit]").click()
        wait_until(lambda: "No answer recorded for" in item().text, 30, 0.05, what="the outcome recorded",
                   ignore=swapped)
        assert "leaves the queue once decided again" in item().text
        assert not item().find_elements(By.CSS_SELECTOR, "tr.work")
        assert driver.execute_script("return window.notReloaded === true")
        assert console_errors(driver) == []


def test_an_agent_claims_a_call_records_a_promise_and_the_account_leaves_the_queue(tmp_path):
    """The collector's whole round from the keyboard: claim the top call, open its work page,
    choose "promise to pay", type the amount and the date, record it; the account is decided
    again at once (the console launches a tick), leaves the queue, and its decision shows the
    promise's pause with its date."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    db = tmp_path / "demo.db"
    demo_with_calls(db)
    added = subprocess.run([sys.executable, "-m", "arrears.engine", "users", "add", "collector", "--role", "agent",
                            "--password-stdin", "--db", f"sqlite:///{db}"],
                           input="collector-pass-2026\n", capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    with served(db, tmp_path, scheduler=False, has_users=True) as (base, _), chromium() as driver:
        driver.get(base + "/login")
        driver.find_element(By.ID, "username").send_keys("collector")
        driver.find_element(By.ID, "password").send_keys("collector-pass-2026", Keys.ENTER)
        _arrive(driver, base + "/accounts")
        driver.find_element(By.CSS_SELECTOR, "nav a[href='/queue']").click()
        _arrive(driver, base + "/queue")
        items = driver.find_elements(By.CSS_SELECTOR, "table tbody[id^='queue-']")
        assert items, "the demo's queue has no call: " + driver.find_element(By.TAG_NAME, "main").text
        account = items[0].get_attribute("id").removeprefix("queue-")
        button = items[0].find_element(By.CSS_SELECTOR, "form button")
        assert button.text.startswith("Claim")
        button.send_keys(Keys.ENTER)                                        # claim it from the keyboard
        wait_until(lambda: driver.find_element(By.ID, "queue-mine").text == f"You hold: {account}.",
                   30, 0.05, what="the claim", ignore=(StaleElementReferenceException,))   # htmx swaps it
        driver.get(f"{base}/queue/{account}")                               # its work page
        _arrive(driver, f"{base}/queue/{account}")
        assert driver.find_element(By.ID, "outcome-h").text == "What happened"
        driver.find_element(By.CSS_SELECTOR, "input[name=outcome][value=promise]").send_keys(Keys.SPACE)
        amount = driver.find_element(By.ID, "amount")
        amount.send_keys("120.00")
        until = driver.find_element(By.ID, "until")
        promised = datetime.now(timezone.utc).date() + timedelta(days=10)
        until.send_keys(promised.strftime("%m%d%Y"))                      # typed as mm/dd/yyyy
        assert until.get_attribute("value") == promised.isoformat()
        note = driver.find_element(By.ID, "note")
        note.send_keys("pays in ten days")
        _shot(driver, tmp_path, "work")
        note.send_keys(Keys.ENTER)
        _arrive(driver, base + "/queue")
        flash = driver.find_element(By.TAG_NAME, "main").text
        assert f"Promise to pay recorded for {account}" in flash, flash

        def left():
            driver.get(base + "/queue")
            return not driver.find_elements(By.ID, f"queue-{account}")
        wait_until(left, 60, 0.5, what="the account decided again and out of the queue")
        driver.get(f"{base}/accounts/{account}")
        held = driver.find_element(By.CSS_SELECTOR, "section.decision ul").text
        last_day = (promised + timedelta(days=2)).isoformat()            # the shipped policy's 2 days' tolerance
        assert "pause.promise_to_pay" in held and f"last day {last_day}" in held, held
        decision = driver.find_element(By.CSS_SELECTOR, "section.decision").text
        assert "Promise to pay:" in decision and "120.00" in decision, decision
        assert console_errors(driver) == []
