"""The tick's column-wise decision keys and summaries agree with the full `Decision`."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.tick.columns import bodies, summarise
from tests.tick.tickkit import NOW


def test_keys_and_suppressions_match_the_materialised_decisions(policy):
    from tests.tick.tickkit import load_portfolio
    accounts, histories = load_portfolio(600, seed=11)
    seen = set()
    for days, hours in [(0, 0), (0, 6), (1, 0), (3, 17), (17, 6), (45, 0)]:
        now = NOW + timedelta(days=days, hours=hours)
        _compare(decide_batch(Batch.from_objects(accounts, histories), policy, now), seen)
    # holds, grace, deferring guardrails (contact hours, holidays), no usable channel
    assert {"pause.dispute", "grace", "uk.reasonable-hours", "house.consumer", "house.business",
            "channel.unavailable", "stop.bankruptcy"} <= seen


def _compare(db, seen: set) -> None:
    cols = summarise(db)
    for row in range(len(db)):
        d = db.decision(row)
        a = d.action
        supp = ",".join(sorted({s.rule for s in d.suppressions}))
        expected = (f"{d.stage or ''}|{a.type if a else ''}|{a.channel if a else ''}|"
                    f"{a.attempt if a else ''}|{supp}")
        assert cols.keys[row] == expected, (row, d.account_id)
        assert cols.action_ok[row] == (a is not None)
        if a is not None:
            assert int(cols.not_before[row]) == int(a.not_before.timestamp())
        assert int(cols.next_eval[row]) == int(d.next_evaluation_at.timestamp())
        seen.update(s.rule for s in d.suppressions)


def test_summary_bodies_are_canonical_json_with_the_decision_values(portfolio, policy):
    accounts, histories = portfolio
    db = decide_batch(Batch.from_objects(accounts, histories), policy, NOW)
    cols = summarise(db)
    rows = np.arange(len(db))
    for row, text in zip(rows, bodies(db, cols, rows)):
        body = json.loads(text)
        assert json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == text
        d = db.decision(int(row))
        assert body["stage"] == d.stage and body["format"] == "summary/1"
        assert body["suppressions"] == sorted({s.rule for s in d.suppressions})
        assert body["days_past_due"] == d.days_past_due and body["bucket"] == d.bucket
        assert body["currency"] == d.balance.currency
        assert body["priority"] == round(d.priority.score, 2)
        if d.action:
            assert (body["action"], body["channel"], body["attempt"], body["reason"]) == (
                d.action.type, d.action.channel, d.action.attempt, d.action.reason)
        else:
            assert body["action"] is body["channel"] is body["attempt"] is None


def test_episode_key_is_the_oldest_unpaid_due_date(policy):
    from tests.tick.tickkit import account
    acc = account("E1", invoices=[{"id": "a", "amount": "10.00", "due_date": "2026-09-01"},
                                  {"id": "b", "amount": "10.00", "due_date": "2026-10-01"}])
    db = decide_batch(Batch.from_objects([acc], [[]]), policy, NOW)
    assert summarise(db).episode_key(db, 0) == "2026-09-01"


def test_outbox_payloads_are_canonical_json_of_the_action(portfolio, policy):
    from arrears.engine.tick.columns import payloads
    accounts, histories = portfolio
    db = decide_batch(Batch.from_objects(accounts, histories), policy, NOW)
    cols = summarise(db)
    rows = np.flatnonzero(cols.action_ok)
    episodes, texts = payloads(db, cols, rows, 123)
    assert len(texts) == len(rows) > 10
    for row, episode, text in zip(rows, episodes, texts):
        body = json.loads(text)
        assert json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == text
        d = db.decision(int(row))
        assert body == {"action": d.action.type, "attempt": d.action.attempt, "channel": d.action.channel,
                        "episode": episode, "evaluated_at": 123, "stage": d.action.stage,
                        "not_before": int(d.action.not_before.timestamp())}
        assert episode == cols.episode_key(db, int(row))
