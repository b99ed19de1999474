"""The decision explorer's search by email, stage and status (with the id, debtor and manager
search): every filter combined, a page at a time, on a real store the tick has decided; each
answer checked against the whole store read row by row."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from arrears.engine.cli import main
from arrears.engine.store import accountreads
from tests.console.consolekit import logged_in


@pytest.fixture(scope="module")
def ticked(demo_store):
    """The demo portfolio decided now by a tick (latest decisions with stages and statuses)."""
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    assert main(["tick", "--db", demo_store.url, "--no-dispatch", "--at", now]) == 0
    return demo_store


def _everything(store) -> list[dict]:
    """Every account with its email and latest decision, read plainly (the oracle)."""
    with store.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.id, a.acct_no, a.contact, a.decision_id, a.decision_key, d.stage, d.action_type "
            "FROM accounts a "
            "LEFT JOIN decisions d ON d.id = a.decision_id ORDER BY a.id")).all()
    out = []
    for r in rows:
        if r.decision_id is None:
            status = "undecided"
        elif r.action_type is not None:
            status = "contact"
        else:
            status = "none" if r.decision_key.endswith("|") else "held"
        contact = json.loads(r.contact)
        out.append({"id": r.id, "email": (contact.get("email") or "").lower(), "stage": r.stage,
                    "status": status, "name": contact.get("name") or "", "acct_no": r.acct_no})
    return out


def _ids(page: str) -> list[str]:
    return re.findall(r'<tr><td><a href="/accounts/([^"]+)">', page)


def _all_pages(client, query: str) -> list[str]:
    """The ids of every page of a search, following its "Next page" links."""
    ids, url = [], f"/accounts?{query}"
    for _ in range(200):
        page = client.get(url).get_data(as_text=True)
        ids += _ids(page)
        nxt = re.search(r'<a href="([^"]+)" rel="next">', page)
        if not nxt:
            return ids
        url = nxt[1].replace("&amp;", "&")
    raise AssertionError("the pages never end")


def test_email_any_case_finds_exactly_that_account(app, ticked):
    every = _everything(ticked)
    target = next(a for a in every if a["email"])
    client = logged_in(app, "manager")
    page = client.get(f"/accounts?email={target['email'].upper()}").get_data(as_text=True)
    assert _ids(page) == [a["id"] for a in every if a["email"] == target["email"]]
    assert target["email"] in page


def _name_words(name: str) -> list[str]:
    """The oracle's words of a name: split at spaces and hyphens, case-folded, an apostrophe's
    tail a word too (O'Brien: o'brien, brien)."""
    out = []
    for part in re.split(r"[\s-]+", name.casefold()):
        if part:
            out += [part] + ([part.split("'")[-1]] if "'" in part else [])
    return out


def _by_words(every, typed: str) -> list[str]:
    """The ids a name search for `typed` lists, in its order: each typed word starts a word of
    the name; by the first name word the probe starts, then acct_no (the probe: the typed word
    starting the fewest distinct name words of the accounts, then the longest, then the first)."""
    words = _name_words(typed)
    entries = [sum(len({w for w in _name_words(a["name"]) if w.startswith(t)}) for a in every) for t in words]
    probe = words[min(range(len(words)), key=lambda i: (entries[i], -len(words[i]), i))]
    found = []
    for a in every:
        mine = _name_words(a["name"])
        if all(any(w.startswith(t) for w in mine) for t in words):
            found.append((min(w for w in mine if w.startswith(probe)), a["acct_no"], a["id"]))
    return [i for *_, i in sorted(found)]


def test_a_name_by_any_words_start_in_any_case_alone_and_with_a_stage(app, ticked):
    every = _everything(ticked)
    assert sum(bool(a["name"]) for a in every) == len(every)       # the demo debtors have names
    client = logged_in(app, "manager")
    for typed in ("ada", "ADA ADEYEMI", "adeyemi ada", "Tomás", "o'b", "brien", "a", "SMI", "van d", "müll"):
        expected = _by_words(every, typed)
        assert _all_pages(client, f"name={typed}") == expected, typed
        assert expected or typed == "SMI", typed
    smith = [a for a in every if "Schmidt" in a["name"]]
    assert set(_all_pages(client, "name=schmidt")) == {a["id"] for a in smith} and smith  # not its start
    first = next(a for a in every if a["name"].startswith("Ada") and a["stage"])
    both = [i for i in _by_words(every, "ada") if next(a for a in every if a["id"] == i)["stage"] == first["stage"]]
    assert _all_pages(client, f"name=ada&stage={first['stage']}") == both
    page = client.get(f"/accounts?name={first['name']}").get_data(as_text=True)
    assert f"<td>{first['name']}</td>" in page.replace("&#39;", "'")
    assert _ids(client.get("/accounts?name=zzz").get_data(as_text=True)) == []
    assert _ids(client.get("/accounts?name=--").get_data(as_text=True)) == []


def test_a_name_search_folds_unicode_case_on_sqlite(app, ticked):
    """SQLite's lower() folds ASCII only; the words are folded in Python, so ÖZTÜRK finds Öztürk."""
    from arrears.engine.domain.model import Account
    acc, _ = ticked.get_account("ACC00000011")
    renamed = {**_as_dict(acc), "contact": {**_as_dict(acc)["contact"], "name": "Ayşe Öztürk-Straße"}}
    ticked.upsert_accounts([Account.from_dict(renamed)], now=datetime.now(timezone.utc))
    client = logged_in(app, "manager")
    for typed in ("ÖZTÜRK", "öztürk", "STRASSE", "straße", "ayşe öz"):
        assert "ACC00000011" in _ids(client.get(f"/accounts?name={typed}").get_data(as_text=True)), typed
    old = next(w for w in _name_words(acc.contact.name) if len(w) > 3)     # its former name is gone
    assert "ACC00000011" not in _all_pages(client, f"name={old}")


def test_a_name_is_shown_on_the_account_page_as_text(app, ticked):
    from arrears.engine.domain.model import Account
    acc, _ = ticked.get_account("ACC00000007")
    ticked.upsert_accounts([Account.from_dict({**_as_dict(acc), "contact": {"name": "<b>Eve</b> & co"}})],
                           now=datetime.now(timezone.utc))
    client = logged_in(app, "manager")
    page = client.get("/accounts/ACC00000007").get_data(as_text=True)
    assert '<span id="debtor-name">&lt;b&gt;Eve&lt;/b&gt; &amp; co</span>' in page
    assert "ACC00000007" in _ids(client.get("/accounts?name=%3Cb%3Eeve").get_data(as_text=True))


def _as_dict(acc) -> dict:
    from arrears.api.serialize import account_to_dict
    return account_to_dict(acc)


def test_stage_and_status_each_and_combined_match_the_store(app, ticked, monkeypatch):
    every = _everything(ticked)
    monkeypatch.setattr(accountreads, "SCAN_WINDOW", 120)        # several bounded windows per search
    client = logged_in(app, "manager")
    stages = sorted({a["stage"] for a in every if a["stage"]})
    statuses = sorted({a["status"] for a in every})
    assert len(stages) >= 3 and {"contact", "none"} <= set(statuses), (stages, statuses)
    for stage in stages:
        assert _all_pages(client, f"stage={stage}") == [a["id"] for a in every if a["stage"] == stage], stage
    for status in statuses:
        assert _all_pages(client, f"status={status}") == [a["id"] for a in every if a["status"] == status]
    stage = stages[0]
    assert _all_pages(client, f"stage={stage}&status=contact") == \
        [a["id"] for a in every if a["stage"] == stage and a["status"] == "contact"]
    prefix = every[len(every) // 2]["id"][:-2]
    assert _all_pages(client, f"q={prefix}&status=contact") == \
        [a["id"] for a in every if a["id"].startswith(prefix) and a["status"] == "contact"]


def test_a_long_list_comes_a_page_at_a_time(app, ticked):
    every = _everything(ticked)
    client = logged_in(app, "manager")
    first = client.get("/accounts?status=contact").get_data(as_text=True)
    contact = [a["id"] for a in every if a["status"] == "contact"]
    assert len(contact) > 50 and _ids(first) == contact[:50] and 'rel="next"' in first
    assert _all_pages(client, "status=contact") == contact


def test_as_you_type_the_results_come_alone_and_without_javascript_the_whole_page(app, ticked):
    client = logged_in(app, "manager")
    partial = client.get("/accounts?q=ACC0000001", headers={"HX-Request": "true"}).get_data(as_text=True)
    whole = client.get("/accounts?q=ACC0000001").get_data(as_text=True)
    assert "<html" not in partial and "<form" not in partial and _ids(partial) == _ids(whole) and _ids(whole)
    assert "<html" in whole and 'id="results"' in whole and 'hx-get="/accounts"' in whole


def test_an_unknown_stage_or_status_is_said_at_its_field(app, ticked):
    client = logged_in(app, "manager")
    r = client.get("/accounts?stage=nope&status=weird")
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="stage-error"' in page and "the active policy has no stage &#39;nope&#39;" in page
    assert 'id="status-error"' in page and _ids(page) == []


def test_segment_now_alone_and_with_other_filters_matches_the_engine(ticked, monkeypatch):
    """A segment is a policy condition on the account's facts now: the oracle decides every account.
    The console's "now" is the oracle's instant (its clock), or a search run after midnight would
    put accounts in other age segments than the oracle found before it."""
    from arrears.api import create_app
    from arrears.console import explorer
    from arrears.engine.decisions.core import decide
    now = datetime.now(timezone.utc).replace(microsecond=0)
    app = create_app({"database_url": ticked.url}, store=ticked, clock=lambda: now)
    app.config["TESTING"] = True
    policy = app.extensions["arrears"].policies.active()
    every = _everything(ticked)
    segments = {}
    for a in every:
        account, events = ticked.get_account(a["id"])
        segments[a["id"]] = set(decide(account, events, policy, now).segments)
    monkeypatch.setattr(explorer, "SEGMENT_BUDGET", 300)          # several bounded pages per search
    client = logged_in(app, "manager")
    names = sorted({s for found in segments.values() for s in found})
    assert len(names) >= 3, names
    for name in names:
        expected = [a["id"] for a in every if name in segments[a["id"]]]
        assert _all_pages(client, f"segment={name}") == expected, name
    name = names[0]
    assert _all_pages(client, f"segment={name}&status=contact") == \
        [a["id"] for a in every if name in segments[a["id"]] and a["status"] == "contact"]
    r = client.get("/accounts?segment=nope")
    assert r.status_code == 422 and 'id="segment-error"' in r.get_data(as_text=True)
