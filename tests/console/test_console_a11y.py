"""Every console page passes axe-core (run in the page, in a real browser) with no serious or
critical violation: labels, contrast, landmarks, names, ARIA.

axe-core is test-only: `tests/console/axe/` holds its package.json and lockfile (`npm ci && npm
run build` there refreshes `axe.min.js`, the built file committed beside them, so the tests need
no npm). The app never serves it: Selenium injects it into each page through the DevTools
protocol, which the page's Content-Security-Policy does not govern.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from arrears.engine.kpis.compute import default_policy
from tests.console.browser import chromium, console_errors, demo_with_calls, screenshot, served
from tests.waiting import wait_until

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
FAILING = ("serious", "critical")
ALL: list = []          # every page's violations, the minor and moderate too (shown with -s)
# Page -> its path; the account pages take the first account the explorer lists.
PAGES = {"accounts": "/accounts?q=ACC0000001", "queue": "/queue", "dashboard": "/dashboard", "users": "/admin/users",
         "keys": "/admin/keys", "audit": "/admin/audit", "tick runs": "/admin/ticks"}
SHOTS = {"users": "users", "tick runs": "ticks"}          # the pages no other browser test pictures
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {iframes: false})
   .then(r => done({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact,
        help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))}))
   .catch(e => done({passes: 0, violations: [{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]}));
"""


def _violations(driver) -> list[dict]:
    """axe's serious and critical violations on the loaded page."""
    wait_until(lambda: driver.execute_script("return document.readyState") == "complete", 30, 0.05,
               what="the page to load")
    driver.execute_script(AXE.read_text(encoding="utf-8") + "\n;window.axe = axe;")
    driver.set_script_timeout(60)
    result = driver.execute_async_script(RUN_AXE)
    assert result["passes"] > 10, result             # axe ran its rules on this page
    ALL.append((driver.current_url, result["violations"]))
    return [v for v in result["violations"] if v["impact"] in FAILING]


def _report(found: dict) -> str:
    return "\n".join(f"{page}: {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
                     for page, vs in found.items() for v in vs)


@pytest.mark.slow
def test_no_console_page_has_serious_accessibility_violations(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    found = {}
    demo_with_calls(tmp_path / "demo.db", dashboard=True)    # an account to claim, whatever the day
    with served(tmp_path / "demo.db", tmp_path, scheduler=False) as (base, (user, password)), \
            chromium() as driver:
        driver.get(base + "/login")
        found["login"] = _violations(driver)
        driver.find_element(By.ID, "username").send_keys(user)
        driver.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
        wait_until(lambda: driver.current_url.startswith(base + "/accounts"), 30, 0.05, what="the login")
        for name, path in PAGES.items():
            driver.get(base + path)
            found[name] = _violations(driver)
            if name in SHOTS:
                screenshot(driver, tmp_path, SHOTS[name])
        driver.get(base + PAGES["accounts"])
        account = driver.find_element(By.CSS_SELECTOR, "table a[href^='/accounts/']").get_attribute("href")
        driver.get(account)
        found["account"] = _violations(driver)
        # The pages in their other states: a key just made, a verification's answer, the report
        # the dashboard frames, an account claimed from the queue.
        driver.get(base + "/admin/keys")
        driver.find_element(By.ID, "key-label").send_keys("a11y check", Keys.ENTER)
        wait_until(lambda: driver.find_elements(By.ID, "new-key-value"), 30, 0.05, what="the new key")
        found["keys, a key made"] = _violations(driver)
        screenshot(driver, tmp_path, "keys")
        driver.get(base + "/admin/audit")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/verify'] button").click()
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".verdict"), 60, 0.05, what="the verification")
        found["audit, verified"] = _violations(driver)
        screenshot(driver, tmp_path, "audit")
        driver.get(base + "/dashboard/report")
        found["dashboard report"] = _violations(driver)
        segment = next(iter(default_policy().segments))
        driver.get(f"{base}/dashboard?segment={segment}")
        found["dashboard of a segment"] = _violations(driver)
        driver.get(f"{base}/dashboard/report?segment={segment}")
        found["dashboard report of a segment"] = _violations(driver)
        driver.get(base + "/queue")
        driver.find_element(By.CSS_SELECTOR, "table form button").click()   # htmx: the row says it is
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "table a[href^='/queue/']"), 30, 0.05,  # yours
                   what="the claimed row")
        found["queue, a row claimed"] = _violations(driver)
        driver.find_element(By.CSS_SELECTOR, "table a[href^='/queue/']").click()
        wait_until(lambda: "/queue/" in driver.current_url, 30, 0.05, what="the claimed account")
        found["queue, an account claimed"] = _violations(driver)
        errors = console_errors(driver)
        # The check can fail: a field without a label, put into the page, is found.
        driver.execute_script("document.querySelector('main').insertAdjacentHTML('beforeend', "
                              "'<input id=unlabelled-probe>')")
        probe = _violations(driver)
    assert any(v["id"] == "label" and "#unlabelled-probe" in " ".join(v["nodes"]) for v in probe), probe
    for url, vs in ALL:
        print(url, [(v["id"], v["impact"]) for v in vs])
    found = {page: vs for page, vs in found.items() if vs}
    assert not found, _report(found)
    assert errors == []


@pytest.mark.parametrize("path", ["/static/axe.min.js", "/console/static/axe.min.js", "/axe.min.js"])
def test_axe_is_not_served_by_the_app(client, path):
    assert client.get(path).status_code == 404
