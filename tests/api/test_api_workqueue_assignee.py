"""GET /v1/work-queue?assignee=…|unassigned=true: an account manager's calls, and the general
call list without them, before the first tick (computed) and from the tick after."""
from __future__ import annotations

from datetime import timedelta

import pytest

from arrears.engine.tick import evaluate_due
from arrears.policies import DEFAULT_POLICY
from tests.api.apikit import NOW, call_account

pytestmark = pytest.mark.also_postgresql

MONDAY = NOW + timedelta(hours=19)      # the house hours call no consumer on the suite's Sunday
AT = "2026-11-23T10:00:00Z"
ROUTED = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
    "      template: {call: call_script, written: firm_reminder}\n",
    "      template: {call: call_script, written: firm_reminder}\n      assign_to: account_manager\n")
MANAGERS = {2: None, 3: "Priya Shah", 4: "Sam Okoye", 5: "Priya Shah"}


def _setup(api):
    assert api.request("POST", "/v1/policies", data=ROUTED.encode(), content_type="application/yaml",
                       role="compliance").status_code == 201
    for i, manager in MANAGERS.items():
        api.put(f"/v1/accounts/CALL-{i:03d}", call_account(i, account_manager=manager))


def _queue(api, query=""):
    body = api.get(f"/v1/work-queue?at={AT}{query}", role="agent").get_json()
    return body["source"], [(i["account_id"], i["assignee"]) for i in body["items"]]


def _check(api, source):
    assert _queue(api) == (source, [("CALL-005", "Priya Shah"), ("CALL-004", "Sam Okoye"),
                                    ("CALL-003", "Priya Shah"), ("CALL-002", None)])
    assert _queue(api, "&assignee=Priya%20Shah") == (source, [("CALL-005", "Priya Shah"), ("CALL-003", "Priya Shah")])
    assert _queue(api, "&unassigned=true") == (source, [("CALL-002", None)])
    assert _queue(api, "&assignee=Nobody") == (source, [])
    assert _queue(api, "&channel=email&assignee=Priya%20Shah") == (source, [])


def test_computed_before_any_tick(api):
    _setup(api)
    _check(api, "computed")


def test_from_the_tick_once_it_ran(api, state):
    _setup(api)
    evaluate_due(state.store, state.policies.active(), MONDAY, horizon=300)
    _check(api, "tick")


def test_bad_filters_are_refused(api):
    assert api.get("/v1/work-queue?unassigned=yes", role="agent").status_code == 400
    assert api.get("/v1/work-queue?assignee=", role="agent").status_code == 400
