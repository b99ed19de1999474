"""POST /v1/decide under a stored version or an inline candidate policy: compliance and admin
keys only, nothing stored or activated, an invalid candidate reported with line and column."""
from __future__ import annotations

import pytest

from arrears.engine import Account, Event, decide
from arrears.engine.policy.load import load_policy
from arrears.policies import DEFAULT_POLICY
from tests.api.apikit import AT, NOW, account, events

pytestmark = pytest.mark.also_postgresql

SOURCE = DEFAULT_POLICY.read_text(encoding="utf-8")
# The formal notice (the example account's next step) goes by email first, not by letter.
CANDIDATE = (SOURCE.replace('version: "1.0.0"', 'version: "9.9.9-candidate"')
             .replace("channels: [letter, email]", "channels: [email, letter]", 1))
BROKEN = SOURCE.replace("days_past_due: 30", "days_past_due: thirty", 1)


def engine_decision(policy_text: str) -> dict:
    """What the engine decides for the example account under `policy_text`, without trace."""
    acc, history = Account.from_dict(account()), [Event.from_dict(e) for e in events()]
    return decide(acc, history, load_policy(CANDIDATE if policy_text is None else policy_text,
                                            filename="<candidate>"), NOW).to_dict()


def state_of(api, state) -> tuple:
    return (api.get("/v1/policies", role="compliance").get_json(), state.store.counts())


@pytest.mark.parametrize("role", ["compliance", "admin"])
def test_a_candidate_decides_without_being_stored_or_activated(api, state, role):
    before = state_of(api, state)
    r = api.post("/v1/decide", {"account": account(), "events": events(), "at": AT, "candidate": CANDIDATE},
                 role=role)
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert got == {k: v for k, v in engine_decision(CANDIDATE).items() if k != "trace"}
    assert got["policy"]["version"] == "9.9.9-candidate" and got["action"]["channel"] == "email"
    active = api.post("/v1/decide", {"account": account(), "events": events(), "at": AT}).get_json()
    assert active["policy"]["version"] == "1.0.0" and active["action"]["channel"] == "letter"
    assert state_of(api, state) == before               # no version stored, none activated, no audit


def test_a_batch_under_a_candidate(api):
    items = [{"account": account(), "events": events()}, {"account": account(id="OTHER-1")}]
    body = {"items": items, "at": AT, "candidate": CANDIDATE}
    r = api.post("/v1/decide?trace=true", body, role="compliance")
    assert r.status_code == 200
    assert {d["policy"]["version"] for d in r.get_json()["decisions"]} == {"9.9.9-candidate"}


def test_a_stored_version_that_is_not_active(api, state):
    v2 = load_policy(CANDIDATE, filename="v2.yaml")
    state.store.record_policy(v2.name, v2.version, v2.digest, CANDIDATE, activate=False)
    body = {"account": account(), "events": events(), "at": AT, "policy": v2.digest}
    r = api.post("/v1/decide", body, role="compliance")
    assert r.status_code == 200 and r.get_json()["policy"]["digest"] == v2.digest
    assert state.policies.active().version == "1.0.0"
    denied = api.post("/v1/decide", body, role="integrator")
    assert denied.status_code == 403
    problem = denied.get_json()
    assert problem["type"] == "urn:arrears:problem:forbidden" and "compliance or admin" in problem["detail"]
    active = state.policies.active().digest
    assert api.post("/v1/decide", {**body, "policy": active}, role="integrator").status_code == 200


@pytest.mark.parametrize("role", ["integrator", "agent"])
def test_other_roles_may_not_try_a_candidate(api, role):
    r = api.post("/v1/decide", {"account": account(), "at": AT, "candidate": CANDIDATE}, role=role)
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.get_json()["status"] == 403


def test_an_invalid_candidate_is_422_with_line_and_column(api, state):
    before = state_of(api, state)
    r = api.post("/v1/decide", {"account": account(), "at": AT, "candidate": BROKEN}, role="compliance")
    assert r.status_code == 422
    problem = r.get_json()
    assert problem["type"] == "urn:arrears:problem:invalid-policy"
    error = problem["errors"][0]
    assert error["pointer"] == "/candidate" and "days_past_due" in error["detail"]
    assert BROKEN.splitlines()[error["line"] - 1][error["column"] - 1:].startswith("thirty")
    assert state_of(api, state) == before


@pytest.mark.parametrize("body, status, fragment", [
    ({"candidate": "/etc/passwd"}, 422, "candidate"),                   # text, never a path to read
    ({"candidate": "metadata: [unclosed\n"}, 422, "candidate"),
    ({"candidate": SOURCE, "policy": "sha256:x"}, 422, "not both"),
    ({"candidate": ""}, 422, "candidate"),
])
def test_bad_candidates(api, body, status, fragment):
    r = api.post("/v1/decide", {"account": account(), "at": AT, **body}, role="compliance")
    assert r.status_code == status, r.get_json()
    assert fragment in (r.get_json()["detail"] + str(r.get_json().get("errors")))
