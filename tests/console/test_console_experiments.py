"""The experiments pages (`/experiments`): each view's role check and CSRF, the results page
against the engine's own results for a seeded experiment, starting from pasted text with the
file's problems at line and column, stopping, resuming a paused one, and promoting through maker-checker (one user
proposes, another approves; the proposer cannot), audited with the users."""
from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
import yaml

from arrears.api import create_app
from arrears.console import experiments as console_experiments
from arrears.console.passwords import hash_password
from arrears.engine.domain.model import Event
from arrears.engine.experiments.results import experiment_results
from arrears.engine.kpis.catalogue import BY_NAME
from arrears.engine.policy.load import load_policy
from arrears.engine.report.html import experiment_view
from arrears.policies import DEFAULT_POLICY
from tests.console.consolekit import PASSWORDS, csrf_of, logged_in, make_store
from tests.experiments.expkit import CHALLENGER, spec
from tests.tick.tickkit import account, load, rows

START = datetime(2026, 11, 1, tzinfo=UTC)
SECOND = ("carla", "carla's long secret 9")     # a second compliance user, the checker


def _experiment_text(challenger_digest: str, name: str = "sms-first") -> str:
    doc = spec(name=name, challengers=[{"name": "sms-first", "policy": challenger_digest, "share": 50}],
               start="2026-11-01", end="2027-03-01")
    doc.pop("eligibility")
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture()
def world(tmp_path):
    """A store with nine debtors owing 100.00 since 1 October, the default policy active and the
    SMS-first challenger stored, the users of every role and a second compliance user."""
    store = make_store(tmp_path / "exp.db", demo=False)
    store.users.add(SECOND[0], "compliance", hash_password(SECOND[1]), by="test")
    champion = load_policy(DEFAULT_POLICY)
    store.record_policy(champion.name, champion.version, champion.digest, DEFAULT_POLICY.read_text(encoding="utf-8"),
                        now=START)
    challenger = load_policy(CHALLENGER, filename="challenger.yaml")
    store.record_policy(challenger.name, challenger.version, challenger.digest, CHALLENGER, activate=False, now=START)
    load(store, [account(f"D{i}", amount="100.00", due="2026-10-01") for i in range(1, 10)], now=START)
    app = create_app({"database_url": store.url}, store=store)
    app.config["TESTING"] = True
    yield {"store": store, "app": app, "challenger": challenger}
    store.close()


def _client(app, user):
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    name, password = user if isinstance(user, tuple) else (user, PASSWORDS[user])
    client.post("/login", data={"username": name, "password": password, "csrf_token": token})
    return client


def _post(client, path, **form):
    token = csrf_of(client.get("/experiments").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **form})


def _start(world, client=None):
    client = client or logged_in(world["app"], "compliance")
    return _post(client, "/experiments/start", source=_experiment_text(world["challenger"].digest))


def _seed(world) -> None:
    """Assign the debtors by hand and record payments and a dispute (as the results tests do)."""
    store = world["store"]
    row = store.experiments.get("sms-first")
    arms = {f"D{i}": ("champion" if i <= 4 else "sms-first" if i <= 8 else "ineligible") for i in range(1, 10)}
    store.experiments.record_assignments(row["id"], sorted(arms.items()), now=START)
    pays = (("D1", "100.00"), ("D2", "50.00"), ("D5", "100.00"), ("D6", "100.00"), ("D7", "30.00"))
    store.append_events([(a, Event.from_dict({"type": "payment", "amount": amt, "at": "2026-11-10T10:00:00Z"}), None)
                         for a, amt in pays], now=START)
    store.append_events([("D6", Event.from_dict({"type": "dispute_opened", "at": "2026-11-12T10:00:00Z"}), None)],
                        now=START)


def _table(page: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.DOTALL)
    assert found, f"no table {table_id}"
    return found.group(1)


def test_roles_each_view(world):
    app = world["app"]
    assert _start(world).status_code == 303
    for role, status in (("agent", 403), ("manager", 200), ("compliance", 200), ("admin", 200)):
        client = logged_in(app, role)
        assert client.get("/experiments").status_code == status, role
        assert client.get("/experiments/sms-first").status_code == status, role
    manager = logged_in(app, "manager")
    page = manager.get("/experiments").get_data(as_text=True)
    assert "sms-first" in page and 'id="start-form"' not in page          # read only
    token = csrf_of(manager.get("/experiments/sms-first").get_data(as_text=True))
    for path, form in (("/experiments/start", {"source": "name: x"}), ("/experiments/sms-first/stop", {}),
                       ("/experiments/sms-first/resume", {}),
                       ("/experiments/sms-first/propose", {"challenger": "sms-first"}),
                       ("/experiments/sms-first/approve", {}), ("/experiments/sms-first/withdraw", {})):
        assert manager.post(path, data={"csrf_token": token, **form}).status_code == 403, path
    agent = logged_in(app, "agent")
    assert agent.post("/experiments/sms-first/refresh", data={"csrf_token": token}).status_code in (400, 403)
    assert app.test_client().get("/experiments").status_code == 302                # not logged in: to the login
    assert world["store"].experiments.get("sms-first")["status"] == "running"


def test_every_action_needs_the_csrf_token(world):
    assert _start(world).status_code == 303
    client = logged_in(world["app"], "compliance")
    for path, form in (("/experiments/start", {"source": _experiment_text(world["challenger"].digest, "other")}),
                       ("/experiments/sms-first/stop", {}), ("/experiments/sms-first/propose", {"challenger": "sms-first"}),
                       ("/experiments/sms-first/resume", {}), ("/experiments/sms-first/approve", {}), ("/experiments/sms-first/withdraw", {}),
                       ("/experiments/sms-first/refresh", {})):
        response = client.post(path, data=form)
        assert response.status_code == 400, path
        assert "did not come from this site" in response.get_data(as_text=True)
    assert world["store"].experiments.get("sms-first")["status"] == "running"
    assert world["store"].experiments.get("other") is None


def test_a_file_with_problems_is_shown_at_its_lines_and_nothing_starts(world):
    text = _experiment_text(world["challenger"].digest).replace("share: 50\nstart", "share: 40\nstart")
    text = text.replace("kpi: cure_rate", "kpi: cure_rat")
    client = logged_in(world["app"], "compliance")
    response = _post(client, "/experiments/start", source=text)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    problems = re.findall(r'<li class="error">([^<]+)</li>', page)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "kpi: cure_rat" in t)
    assert any(p.startswith(f"&lt;experiment&gt;:{line}:") and "unknown KPI" in p for p in problems), problems
    assert any("the shares add up to 90" in html.unescape(p) for p in problems), problems
    assert html.escape(text, quote=False).splitlines()[0] in page          # the text is kept to fix it
    assert world["store"].experiments.listing() == []


def test_starting_when_one_runs_is_refused_with_the_reason(world):
    assert _start(world).status_code == 303
    response = _post(logged_in(world["app"], "compliance"), "/experiments/start",
                     source=_experiment_text(world["challenger"].digest, "second"))
    assert response.status_code == 409 and "is running; stop it first" in html.unescape(response.get_data(as_text=True))


def test_the_page_shows_the_engines_results(world):
    store = world["store"]
    assert _start(world).status_code == 303
    _seed(world)
    client = logged_in(world["app"], "manager")
    assert client.get("/experiments/sms-first").status_code == 200
    _post(client, "/experiments/sms-first/refresh")                       # Compute now
    kept = store.snapshot(console_experiments.snapshot_name("sms-first"))
    expected = experiment_results(store, "sms-first", now=datetime.fromtimestamp(kept["computed_at"], UTC))
    expected = expected.to_dict()
    assert json.loads(kept["body"]) == expected
    view = experiment_view(expected)
    page = html.unescape(client.get("/experiments/sms-first").get_data(as_text=True))
    assert expected["debtors"] == {"champion": 4, "sms-first": 4, "ineligible": 1}
    kpis = _table(page, "kpis")
    arms = list(expected["kpis"])
    assert arms == ["champion", "sms-first"]
    for name in expected["kpis"]["champion"]:
        cells = "".join(f'<td class="num">{expected["kpis"][arm][name] or "n/a"}</td>' for arm in arms)
        assert re.search(rf'<th scope="row">{re.escape(BY_NAME[name].label)}</th>\s*{re.escape(cells)}</tr>', kpis), name
    assert expected["kpis"]["sms-first"]["cure_rate"] == "50.00"
    comparisons = _table(page, "comparisons")
    (name, diff, ci, p), = view["comparisons"]
    assert f'<th scope="row">{name}</th><td class="num">{diff}</td><td>{ci}</td><td class="num">{p}</td>' in comparisons
    assert diff == "+25.00"
    ratio = _table(page, "sample-ratio")
    assert f"chi-square {view['sample_ratio']['chi_square']}, p = {view['sample_ratio']['p_value']}: no mismatch" in ratio
    guardrails = _table(page, "guardrails")
    assert "disputes</td><td class=\"num\">0.00%</td><td class=\"num\">25.00%</td>" in guardrails
    assert expected["verdict"] in page and "no significant difference on cure rate yet" in page


def test_the_page_says_how_many_paused_days_the_results_leave_out(world):
    store = world["store"]
    assert _start(world).status_code == 303
    _seed(world)
    store.experiments.pause("sms-first", "challenger 'sms-first' was edited in the database", by="tick",
                            now=datetime(2026, 11, 12, 9, tzinfo=UTC))
    store.experiments.resume("sms-first", by="test", now=datetime(2026, 11, 13, 18, tzinfo=UTC))
    client = logged_in(world["app"], "manager")
    _post(client, "/experiments/sms-first/refresh")
    assert json.loads(store.snapshot(console_experiments.snapshot_name("sms-first"))["body"])["paused"] == {
        "days_excluded": 2, "stretches": [{"from": "2026-11-12", "to": "2026-11-13",
                                           "reason": "challenger 'sms-first' was edited in the database"}]}
    page = html.unescape(client.get("/experiments/sms-first").get_data(as_text=True))
    line = re.search(r'<p class="meta" id="paused-days">(.*?)</p>', page, re.DOTALL).group(1)
    assert " ".join(line.split()) == ("2 paused days left out of every strategy's figures (the champion decided "
                                      "everyone then): 2026-11-12 to 2026-11-13 (challenger 'sms-first' was "
                                      "edited in the database).")
    # D6's dispute on the 12th is left out with the pause: no guardrail difference any more.
    assert "disputes</td><td class=\"num\">0.00%</td><td class=\"num\">0.00%</td>" in _table(page, "guardrails")


def test_the_job_keeps_results_of_the_running_and_newly_ended_experiments(world):
    store, app = world["store"], world["app"]
    assert _start(world).status_code == 303
    first = store.snapshot(console_experiments.snapshot_name("sms-first"))
    assert "no debtor has been assigned yet" in json.loads(first["body"])["verdict"]       # kept at the start
    _seed(world)
    console_experiments.ExperimentsJob(app.extensions["arrears"])()
    assert json.loads(store.snapshot("experiment:sms-first")["body"])["debtors"]["champion"] == 4
    assert console_experiments.stale(store) == ["sms-first"]                                  # running: always
    store.experiments.end("sms-first", by="test")
    assert console_experiments.stale(store) == ["sms-first"]                                  # ended since
    console_experiments.refresh(app.extensions["arrears"])
    assert console_experiments.stale(store) == []
    assert json.loads(store.snapshot("experiment:sms-first")["body"])["status"] == "stopped"


def test_stop_is_audited_with_the_user(world):
    assert _start(world).status_code == 303
    client = logged_in(world["app"], "compliance")
    response = _post(client, "/experiments/sms-first/stop")
    assert response.status_code == 303
    assert world["store"].experiments.get("sms-first")["status"] == "stopped"
    (body,) = rows(world["store"], "SELECT body FROM audit WHERE kind = 'experiment.stopped'")
    assert json.loads(body[0])["by"] == "compliance"
    page = html.unescape(client.get("/experiments/sms-first", follow_redirects=True).get_data(as_text=True))
    assert "Stopped sms-first" in page and 'id="stop"' not in page
    _post(client, "/experiments/sms-first/stop")
    page = html.unescape(client.get("/experiments/sms-first").get_data(as_text=True))
    assert "Not stopped: experiment 'sms-first' is not running (it was stopped)" in page


def test_a_paused_experiment_shows_why_and_is_resumed_once_the_cause_is_gone(world):
    from sqlalchemy import text

    from arrears.engine.tick.runner import run_tick
    from tests.experiments.test_experiment_failures import TAMPER
    from tests.experiments.test_experiment_resume import UNTAMPER
    store, digest = world["store"], world["challenger"].digest
    assert _start(world).status_code == 303
    with store.engine.begin() as conn:
        conn.execute(text(TAMPER), {"digest": digest})
    run_tick(store, load_policy(DEFAULT_POLICY), datetime(2026, 11, 22, 15, tzinfo=UTC))
    client = logged_in(world["app"], "compliance")
    page = html.unescape(client.get("/experiments/sms-first").get_data(as_text=True))
    assert 'id="paused"' in page and "edited in the database" in page
    assert 'id="resume"' in page and 'id="stop"' in page and "has ended" not in page
    assert 'id="resume"' not in logged_in(world["app"], "manager").get("/experiments/sms-first").get_data(as_text=True)
    assert _post(client, "/experiments/sms-first/resume").status_code == 303
    page = html.unescape(client.get("/experiments/sms-first").get_data(as_text=True))
    assert "Not resumed: experiment 'sms-first' cannot be resumed, the cause still holds" in page
    assert store.experiments.get("sms-first")["status"] == "paused"
    with store.engine.begin() as conn:
        conn.execute(text(UNTAMPER), {"digest": digest})
    assert _post(client, "/experiments/sms-first/resume").status_code == 303
    page = html.unescape(client.get("/experiments/sms-first").get_data(as_text=True))
    assert "Resumed sms-first" in page and 'id="resume"' not in page and 'id="propose"' in page
    assert store.experiments.get("sms-first")["status"] == "running"
    (body,) = rows(store, "SELECT body FROM audit WHERE kind = 'experiment.resumed'")
    assert json.loads(body[0])["by"] == "compliance"


def test_promote_is_proposed_by_one_user_and_approved_by_another(world):
    store, app = world["store"], world["app"]
    maker = logged_in(app, "compliance")
    assert _start(world, maker).status_code == 303
    response = _post(maker, "/experiments/sms-first/propose", challenger="sms-first", note="cure rate up")
    assert response.status_code == 303
    page = html.unescape(maker.get("/experiments/sms-first").get_data(as_text=True))
    assert "compliance proposed promoting <strong>sms-first</strong>" in page and "cure rate up" in page and "Awaiting another approver." in page
    assert 'id="approve"' not in page
    # the maker cannot approve their own proposal, even by posting the form
    assert _post(maker, "/experiments/sms-first/approve").status_code == 403
    assert store.experiments.get("sms-first")["status"] == "running"
    assert store.active_policy()["digest"] != world["challenger"].digest
    checker = _client(app, SECOND)
    assert 'id="approve"' in checker.get("/experiments/sms-first").get_data(as_text=True)
    assert _post(checker, "/experiments/sms-first/approve").status_code == 303
    row = store.experiments.get("sms-first")
    assert (row["status"], row["promoted"], row["ended_by"]) == ("promoted", "sms-first", SECOND[0])
    assert store.active_policy()["digest"] == world["challenger"].digest
    audit = {kind: json.loads(body) for kind, body in
             rows(store, "SELECT kind, body FROM audit WHERE kind IN ('policy.proposed', 'policy.approved', "
                         "'experiment.promoted')")}
    assert audit["policy.proposed"]["by"] == "compliance" and audit["policy.proposed"]["experiment"] == "sms-first"
    assert (audit["policy.approved"]["by"], audit["policy.approved"]["proposed_by"]) == (SECOND[0], "compliance")
    assert (audit["experiment.promoted"]["by"], audit["experiment.promoted"]["proposed_by"]) == (SECOND[0], "compliance")
    # nothing is pending any more; a second approval finds nothing
    assert _post(checker, "/experiments/sms-first/approve").status_code == 404


def test_a_proposal_can_be_withdrawn_and_an_unknown_challenger_is_refused(world):
    store, app = world["store"], world["app"]
    maker = logged_in(app, "compliance")
    assert _start(world, maker).status_code == 303
    response = _post(maker, "/experiments/sms-first/propose", challenger="nope")
    page = html.unescape(maker.get(response.headers["Location"]).get_data(as_text=True))
    assert "Not proposed: 'nope' is not a challenger of 'sms-first'" in page
    assert _post(maker, "/experiments/sms-first/propose", challenger="sms-first").status_code == 303
    assert _post(maker, "/experiments/sms-first/withdraw").status_code == 303
    assert 'id="propose"' in maker.get("/experiments/sms-first").get_data(as_text=True)
    # approving a promotion of a stopped experiment is refused, and nothing is activated
    assert _post(maker, "/experiments/sms-first/propose", challenger="sms-first").status_code == 303
    store.experiments.end("sms-first", by="test")
    checker = _client(app, SECOND)
    response = _post(checker, "/experiments/sms-first/approve")
    assert response.status_code == 303
    assert "Not approved" in html.unescape(checker.get("/experiments/sms-first").get_data(as_text=True))
    assert store.active_policy()["digest"] != world["challenger"].digest


def test_a_stored_experiments_file_fills_the_start_form(world):
    assert _start(world).status_code == 303
    client = logged_in(world["app"], "compliance")
    page = html.unescape(client.get("/experiments?from=sms-first").get_data(as_text=True))
    assert "name: sms-first" in page and world["challenger"].digest in page
    assert client.get("/experiments?from=nothing").status_code == 404
    assert client.get("/experiments/nothing").status_code == 404


def test_the_workbench_says_a_proposal_is_a_promotion_and_approving_it_there_promotes(world):
    store, app = world["store"], world["app"]
    maker = logged_in(app, "compliance")
    assert _start(world, maker).status_code == 303
    assert _post(maker, "/experiments/sms-first/propose", challenger="sms-first").status_code == 303
    checker = _client(app, SECOND)
    page = html.unescape(checker.get("/policies").get_data(as_text=True))
    assert '<button type="submit" class="approve">Approve: promote challenger sms-first of experiment ' \
           'sms-first</button>' in page
    assert "Approve and activate" not in page           # no plain activation is pending
    digest = world["challenger"].digest
    assert _post(checker, f"/policies/{digest}/approve").status_code == 303
    page = html.unescape(checker.get("/policies").get_data(as_text=True))
    assert "challenger sms-first of experiment sms-first is promoted and its policy is the active policy" in page
    assert store.experiments.get("sms-first")["status"] == "promoted"
    assert store.active_policy()["digest"] == digest
