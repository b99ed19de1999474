"""The policy workbench (`/policies`): roles, the check endpoint, saving with the policy tests,
the what-if, versions and diffs, and maker-checker (propose, approve by another user)."""
from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select

from arrears.engine.store.schema import audit
from arrears.policies import DEFAULT_POLICY
from tests.console.consolekit import csrf_of, log_in

SHIPPED = DEFAULT_POLICY.read_text(encoding="utf-8")
TESTS = (DEFAULT_POLICY.parent / "default_test.yaml").read_text(encoding="utf-8")


def _variant(version: str, grace: int = 3) -> str:
    """The shipped policy under another version number (and consumer grace days)."""
    text = SHIPPED.replace('version: "1.0.0"', f'version: "{version}"', 1)
    return text.replace("default_days: 3", f"default_days: {grace}", 1)


def _as(app, role):
    client = app.test_client()
    log_in(client, role)
    client.token = csrf_of(client.get("/policies").get_data(as_text=True)) if role != "agent" else \
        csrf_of(client.get("/accounts").get_data(as_text=True))
    return client


def _post(client, path, **form):
    return client.post(path, data={"csrf_token": client.token, **form})


def _audits(store, kind):
    with store.engine.connect() as conn:
        return [(r.subject, json.loads(r.body)) for r in
                conn.execute(select(audit.c.subject, audit.c.body).where(audit.c.kind == kind).order_by(audit.c.seq))]


@pytest.mark.parametrize("role,status", [("compliance", 200), ("admin", 200), ("manager", 200), ("agent", 403)])
def test_who_may_open_the_workbench(app, role, status):
    client = _as(app, role)
    page = client.get("/policies")
    assert page.status_code == status
    if status == 200:
        html = page.get_data(as_text=True)
        assert 'id="policy-source"' in html and "metadata:" in html
        assert '<script src="/console/static/workbench.js"' in html
        assert ("Propose for approval" in html) == (role != "manager")
        csp = page.headers["Content-Security-Policy"]
        assert csp.startswith("default-src 'none'; script-src 'self';")     # no inline script, ever
        nonce = re.search(r'data-style-nonce="([^"]+)"', html)[1]     # CodeMirror's <style>: by nonce only
        assert f"style-src 'self' 'nonce-{nonce}';" in csp and "unsafe-inline" not in csp


def test_logged_out_goes_to_the_login(client):
    assert client.get("/policies").headers["Location"].startswith("/login?next=/policies")


def test_the_schema_serves_completion(app):
    schema = _as(app, "manager").get("/policies/schema.json").get_json()
    assert {"metadata", "escalation", "pauses"} <= set(schema["properties"])


def test_check_reports_problems_at_their_line_and_column(app):
    client = _as(app, "compliance")
    typo = SHIPPED.replace("  default_days: 3", "  default_dayz: 3", 1)
    line = SHIPPED[:SHIPPED.index("  default_days: 3")].count("\n") + 1
    answer = client.post("/policies/check", data=typo, headers={"X-CSRF-Token": client.token}).get_json()
    assert answer["valid"] is False
    assert any(p["line"] == line and p["column"] == 3 and "default_dayz" in p["detail"] for p in answer["problems"])
    fine = client.post("/policies/check", data=SHIPPED, headers={"X-CSRF-Token": client.token}).get_json()
    assert fine["valid"] and fine["problems"] == [] and fine["policy"]["name"] == "default"
    assert isinstance(fine["warnings"], list) and fine["ms"] >= 0


def test_check_needs_the_csrf_token_and_the_role(app):
    assert _as(app, "compliance").post("/policies/check", data=SHIPPED).status_code == 400
    manager = _as(app, "manager")
    assert manager.post("/policies/check", data=SHIPPED, headers={"X-CSRF-Token": manager.token}).status_code == 403


@pytest.mark.parametrize("path", ["/policies/save", "/policies/whatif", "/policies/propose"])
def test_managers_change_nothing(app, path):
    assert _post(_as(app, "manager"), path, source=SHIPPED, tests=TESTS).status_code == 403


def test_an_invalid_policy_is_not_saved(app, demo_store):
    before = len(_audits(demo_store, "policy.stored"))
    page = _post(_as(app, "compliance"), "/policies/save", source="metadata: {name: x}\n", tests=TESTS)
    assert page.status_code == 422
    assert "line 1, column 1: error:" in page.get_data(as_text=True)
    assert len(_audits(demo_store, "policy.stored")) == before


def test_save_stores_a_draft_and_runs_the_tests(app, demo_store):
    client = _as(app, "compliance")
    page = _post(client, "/policies/save", source=_variant("2.0.0"), tests=TESTS)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:2000]
    assert re.search(r"Policy tests: \d+ passed, 0 failed", html)
    subject, body = _audits(demo_store, "console.policy_saved")[-1]
    assert body["by"] == "compliance" and body["version"] == "2.0.0"
    stored = demo_store.policy_version(subject)
    assert stored["version"] == "2.0.0" and demo_store.active_policy()["digest"] != subject
    # the tests are kept: the next page shows the suite saved
    assert demo_store.users.setting("console.workbench_tests") == TESTS


def test_a_failing_case_shows_its_mismatch_and_trace(app):
    page = _post(_as(app, "compliance"), "/policies/save", source=_variant("2.0.1", grace=5), tests=TESTS)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert re.search(r"Policy tests: \d+ passed, [1-9]\d* failed", html)
    assert "consumer grace (3 days) holds the friendly reminder" in html
    assert "next_evaluation_at: expected" in html and '<pre class="trace">facts: owes' in html


def test_tests_that_do_not_load_are_reported(app):
    page = _post(_as(app, "compliance"), "/policies/save", source=_variant("2.0.2"), tests="cases: []\n")
    assert page.status_code == 422
    assert "the tests must name their policy file" in page.get_data(as_text=True)


def _digest(html: str) -> str:
    return re.search(r'hx-get="/policies/whatif/(sha256:[0-9a-f]+)"', html)[1]


def test_the_what_if_runs_as_a_job_and_shows_progress_then_the_result(app, demo_store):
    client = _as(app, "compliance")
    page = _post(client, "/policies/whatif", source=_variant("2.1.0", grace=5), tests=TESTS)
    html = page.get_data(as_text=True)
    assert page.status_code == 202, html[:2000]           # back at once: the job runs beside the request
    assert 'id="whatif-progress"' in html and 'hx-trigger="every 1s"' in html and "accounts decided" in html
    assert 'default_days: 5' in html                         # the editor keeps the text
    digest = _digest(html)
    assert app.extensions["arrears.whatif"].wait(digest, 120)
    # htmx polls the panel alone; the result replaces the progress and polling stops
    panel = client.get(f"/policies/whatif/{digest}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert panel.startswith("{#") is False and "<html" not in panel and "hx-trigger" not in panel
    summary = re.search(r'id="whatif-summary">(\d+) accounts? change stage', panel)
    assert summary and int(summary[1]) > 0
    for heading in ("Accounts per stage", "Stage changes", "Explained samples", "Held and released",
                    "Incentive cost", "Contacts per day against capacity"):
        assert heading in panel
    assert "Nothing was stored or sent." in panel and "Asked by compliance" in panel
    # the result is kept in the database: who, which candidate, when
    kept = demo_store.snapshot(f"whatif:{digest}")
    assert kept["meta"]["state"] == "done" and kept["meta"]["by"] == "compliance"
    assert kept["meta"]["version"] == "2.1.0" and kept["meta"]["done"] == kept["meta"]["total"] > 0
    assert json.loads(kept["body"])["changes"]["stage"] == int(summary[1])
    # its own page (without script) for a manager too; no self-reload once done
    own = _as(app, "manager").get(f"/policies/whatif/{digest}")
    assert own.status_code == 200 and 'id="whatif-summary"' in own.get_data(as_text=True)
    assert 'http-equiv="refresh"' not in own.get_data(as_text=True)
    assert _audits(demo_store, "console.whatif_requested")[-1] == (
        digest, {"by": "compliance", "name": "default", "version": "2.1.0", "joined": False})


def test_a_second_request_joins_the_running_job_and_progress_is_kept(app, demo_store):
    from arrears.api.app import state_of
    from arrears.console.whatifjobs import WhatIfJobs
    from arrears.engine.policy.load import load_checked
    jobs = WhatIfJobs(state_of(app), batch_size=20)          # small pages: many progress steps
    candidate = load_checked(_variant("2.2.0", grace=6), filename="<test>")[0]
    first, joined = jobs.start(candidate, "compliance")
    assert not joined and first["state"] == "running" and first["done"] == 0
    second, joined = jobs.start(candidate, "admin")
    assert joined and second["by"] == "compliance" and second["requested_at"] == first["requested_at"]
    seen = set()
    while not jobs.wait(candidate.digest, 0.02):
        status = jobs.status(candidate.digest)
        seen.add((status["state"], status["done"]))
    done = jobs.status(candidate.digest)
    assert done["state"] == "done" and done["done"] == done["total"] == demo_store.account_count()
    assert any(state == "running" and 0 < n < done["total"] for state, n in seen), seen
    assert [b["joined"] for _, b in _audits(demo_store, "console.whatif_requested")[-2:]] == [False, True]
    third, joined = jobs.start(candidate, "admin")            # ended: asked again, it runs again
    assert not joined and third["by"] == "admin"
    assert jobs.wait(candidate.digest, 120)


def test_a_job_stopped_with_the_server_says_why(app):
    from arrears.api.app import state_of
    from arrears.console.whatifjobs import WhatIfJobs
    from arrears.engine.policy.load import load_checked
    jobs = WhatIfJobs(state_of(app), batch_size=10)
    candidate = load_checked(_variant("2.3.0", grace=7), filename="<test>")[0]
    jobs.start(candidate, "compliance")
    jobs.shutdown()
    failed = jobs.status(candidate.digest)
    assert failed["state"] == "failed" and failed["error"] == "the server stopped while it ran"
    page = _as(app, "compliance").get(f"/policies/whatif/{candidate.digest}").get_data(as_text=True)
    # the app's own jobs object did not run it, but reads what is kept
    assert 'id="whatif-failed">The what-if failed: the server stopped while it ran.' in page


def test_a_job_that_fails_says_why(tmp_path):
    from sqlalchemy import text

    from arrears.api import create_app
    from arrears.api.app import state_of
    from arrears.console.whatifjobs import WhatIfJobs
    from arrears.engine.policy.load import load_checked
    from tests.console.consolekit import make_store
    store = make_store(tmp_path / "broken.db", demo=False)
    try:
        jobs = WhatIfJobs(state_of(create_app({"database_url": store.url}, store=store)))
        with store.engine.begin() as conn:                     # a store the simulation cannot read
            conn.execute(text("DROP TABLE accounts"))
        candidate = load_checked(_variant("2.4.0"), filename="<test>")[0]
        jobs.start(candidate, "compliance")
        assert jobs.wait(candidate.digest, 60)
        failed = jobs.status(candidate.digest)
        assert failed["state"] == "failed" and "no such table: accounts" in failed["error"]
    finally:
        store.close()


def test_a_job_whose_process_stopped_reads_as_interrupted(app, demo_store):
    from arrears.console.whatifjobs import PREFIX
    meta = {"state": "running", "digest": "sha256:gone", "name": "default", "version": "9", "by": "x",
            "requested_at": "2026-12-01T00:00:00+00:00", "done": 10, "total": 500, "error": None,
            "runner": "another process", "finished_at": None}
    # kept as running, but nobody holds its claim (the process stopped and the claim lapsed)
    demo_store.put_snapshot(PREFIX + "sha256:gone", "", computed_at=int(time.time()), seconds=1.0, meta=meta)
    page = _as(app, "manager").get("/policies/whatif/sha256:gone").get_data(as_text=True)
    assert "The what-if failed: it was interrupted" in page
    assert demo_store.start_job(PREFIX + "sha256:gone", "another process", ttl=60, meta=meta) is None
    assert demo_store.keep_job(PREFIX + "sha256:gone", "another process", ttl=60, seconds=1.0, meta=meta)
    page = _as(app, "manager").get("/policies/whatif/sha256:gone").get_data(as_text=True)
    assert "10</span> of <span id=\"whatif-total\">500" in page      # another process's job, moving
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page    # reloads without script
    assert _as(app, "manager").get("/policies/whatif/sha256:never").status_code == 404


def test_a_diff_between_two_versions(app, demo_store):
    client = _as(app, "compliance")
    _post(client, "/policies/save", source=_variant("3.0.0", grace=4), tests=TESTS)
    new = _audits(demo_store, "console.policy_saved")[-1][0]
    old = demo_store.active_policy()["digest"]
    html = client.get(f"/policies?a={old}&b={new}").get_data(as_text=True)
    assert "-  default_days: 3" in html and "+  default_days: 4" in html
    assert '+  version: &#34;3.0.0&#34;' in html
    assert client.get(f"/policies?a={old}&b=sha256:nope").status_code == 404
    assert f'value="{new}"' in html                     # both versions are offered in the choosers


def test_propose_then_another_user_approves(app, demo_store):
    maker, checker = _as(app, "compliance"), _as(app, "admin")
    made = _post(maker, "/policies/propose", source=_variant("4.0.0"), tests=TESTS, note="longer review")
    assert made.status_code == 303
    digest = _audits(demo_store, "policy.proposed")[-1][0]
    assert _audits(demo_store, "policy.proposed")[-1][1]["by"] == "compliance"
    page = maker.get("/policies").get_data(as_text=True)
    assert "Awaiting another approver." in page and "longer review" in page
    # the proposer cannot approve their own proposal
    own = _post(maker, f"/policies/{digest}/approve")
    assert own.status_code == 403 and "another user must approve it" in own.get_data(as_text=True)
    assert demo_store.active_policy()["digest"] != digest
    assert 'class="approve"' in checker.get("/policies").get_data(as_text=True)
    done = _post(checker, f"/policies/{digest}/approve")
    assert done.status_code == 303
    assert demo_store.active_policy()["digest"] == digest
    approved = _audits(demo_store, "policy.approved")[-1]
    assert approved == (digest, {**approved[1], "by": "admin", "proposed_by": "compliance"})
    activated = _audits(demo_store, "policy.activated")[-1]
    assert activated[0] == digest and "accounts_made_due" in activated[1]      # activation re-decides
    assert "None." in checker.get("/policies").get_data(as_text=True)           # nothing pending now
    # approving again: nothing is pending
    assert _post(checker, f"/policies/{digest}/approve").status_code == 303
    assert _audits(demo_store, "policy.approved")[-1] == approved


def test_a_proposal_needs_passing_tests(app, demo_store):
    before = len(_audits(demo_store, "policy.proposed"))
    page = _post(_as(app, "compliance"), "/policies/propose", source=_variant("5.0.0", grace=6), tests=TESTS)
    assert page.status_code == 422 and "not proposed: its tests do not pass" in page.get_data(as_text=True)
    assert len(_audits(demo_store, "policy.proposed")) == before


def test_a_proposal_can_be_withdrawn(app, demo_store):
    client = _as(app, "compliance")
    assert _post(client, "/policies/propose", source=_variant("6.0.0"), tests=TESTS).status_code == 303
    digest = _audits(demo_store, "policy.proposed")[-1][0]
    assert _post(client, f"/policies/{digest}/withdraw").status_code == 303
    assert _audits(demo_store, "policy.withdrawn")[-1] == (digest, {"by": "compliance"})
    assert _post(_as(app, "admin"), f"/policies/{digest}/approve").status_code == 303
    assert demo_store.active_policy()["digest"] != digest


def test_the_policy_text_is_shown_as_text(app):
    client = _as(app, "compliance")
    evil = SHIPPED.replace("  description:", "  description: \"</textarea><script>alert(1)</script>\"\n  x_description:", 1)
    html = _post(client, "/policies/save", source=evil, tests=TESTS).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;/textarea&gt;&lt;script&gt;" in html


def test_the_active_text_cannot_be_proposed(app, demo_store):
    active = demo_store.active_policy()["source"]
    page = _post(_as(app, "compliance"), "/policies/propose", source=active, tests=TESTS)
    assert page.status_code == 409 and "is the active policy already" in page.get_data(as_text=True)


def test_managers_read_versions_and_diffs(app, demo_store):
    manager = _as(app, "manager")
    digest = demo_store.active_policy()["digest"]
    page = manager.get(f"/policies?a={digest}&b={digest}").get_data(as_text=True)
    assert "The two versions&#39; texts are the same." in page
    assert 'data-readonly="1"' in page and 'class="approve"' not in page
