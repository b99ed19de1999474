"""The tick pages by debtor: a debtor's accounts are decided in one page, due or not, so a
per-debtor cap sees every one of them, whatever the page size."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from arrears.engine.domain.model import Account, Event
from arrears.engine.store.debtors import DebtorCursor
from arrears.engine.tick import run_tick
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import plugin_manager
from tests.debtorcase import CAP_ID, NOW, account, cap_policy, straddling
from tests.tick.tickkit import dispatcher_config, load, rows

pytestmark = pytest.mark.also_postgresql


def queued(store) -> set[str]:
    return {r[0] for r in rows(store, "SELECT a.id FROM outbox o JOIN accounts a USING (acct_no)")}


def held_by(store, account_id: str) -> str:
    return rows(store, "SELECT decision_key FROM accounts WHERE id = :i", i=account_id)[0][0]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_debtor_straddling_a_page_boundary_is_capped_in_one_page(store, tmp_path, workers):
    accounts, histories = straddling()
    load(store, accounts, histories, now=NOW)
    summary = run_tick(store, cap_policy(tmp_path), NOW, batch_size=2, workers=workers)
    assert summary.evaluated == 3
    assert queued(store) == {"B"}                   # C would be the debtor's third call in 7 days
    assert CAP_ID in held_by(store, "C") and CAP_ID in held_by(store, "A")


def test_a_per_account_cap_lets_c_be_called(store, tmp_path):
    """The same data without the debtor scope: what the page split used to do to D1."""
    accounts, histories = straddling()
    load(store, accounts, histories, now=NOW)
    run_tick(store, cap_policy(tmp_path, scope="account"), NOW, batch_size=2, workers=0)
    assert queued(store) == {"B", "C"}


def test_a_due_account_is_decided_with_its_debtors_accounts_that_are_not_due(store, tmp_path):
    accounts, histories = straddling()
    policy = cap_policy(tmp_path)
    load(store, accounts[:2], histories[:2], now=NOW - timedelta(days=5))
    run_tick(store, policy, NOW - timedelta(hours=1), batch_size=2, workers=0)
    load(store, accounts[2:], histories[2:], now=NOW)     # C arrives: only C is due
    nea = dict(rows(store, "SELECT id, next_evaluation_at FROM accounts"))
    assert nea["C"] is None and nea["A"] is not None and nea["A"] > NOW.timestamp()
    summary = run_tick(store, policy, NOW, batch_size=2, workers=0)
    assert summary.evaluated == 2                   # C, and A with it (B is not due)
    assert "C" not in queued(store) and CAP_ID in held_by(store, "C")


def test_no_account_is_decided_twice_in_one_tick(store, tmp_path):
    """Pages of one account each: C's page was taken with A's, and is skipped."""
    accounts, histories = straddling()
    load(store, accounts, histories, now=NOW)
    pages = []
    summary = run_tick(store, cap_policy(tmp_path), NOW, batch_size=1, workers=0,
                       progress=lambda phase, done, total: pages.append(done))
    assert summary.evaluated == 3 and pages == [2, 3]


def test_the_cursor_completes_pages_and_forgets_what_it_passed(store, tmp_path):
    accounts, histories = straddling()
    lone = Account.from_dict({"id": "E", "currency": "AUD", "invoices": []})     # no debtor_id: its own
    load(store, [*accounts, lone], [*histories, []], now=NOW)
    with store.engine.connect() as conn:
        cursor = DebtorCursor()
        nos, revs = cursor.complete(conn, np.array([1, 2]), np.array([1, 1]))
        assert nos.tolist() == [1, 2, 3] and revs.tolist() == [1, 1, 1] and cursor.after == 2
        assert cursor._ahead.tolist() == [3]
        nos, _ = cursor.complete(conn, np.array([3, 4]), np.array([1, 1]))
        assert nos.tolist() == [4] and cursor.after == 4       # C was taken with A
        assert cursor._ahead.tolist() == []


def test_an_event_still_counts_for_the_debtor(store, tmp_path):
    """A call recorded on C after the tick makes both of D1's accounts due; A is held too."""
    accounts, histories = straddling()
    histories[0] = histories[0][:1]                 # A: one call in the window
    load(store, accounts, histories, now=NOW)
    policy = cap_policy(tmp_path)
    run_tick(store, policy, NOW, batch_size=2, workers=0)
    store.append_events([("C", Event.from_dict({"type": "contact_attempt", "at": NOW.isoformat(),
                                                "channel": "call", "outcome": "no_answer", "stage": "calls"}),
                          None)], now=NOW)
    run_tick(store, policy, NOW + timedelta(minutes=5), batch_size=1, workers=0)
    assert CAP_ID in held_by(store, "A") and CAP_ID in held_by(store, "C")


def test_delivery_rechecks_with_the_debtors_other_accounts(store, tmp_path, server):
    """Three of D1's accounts are due at once and the decision core lets each call (none was
    called yet); the re-check before each call counts the calls just made to the others,
    so the cap of two holds at delivery."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.en.j2").write_text("Call {{ account.id }}.\n", encoding="utf-8")
    config = {**dispatcher_config(server.url), "templates": {"dirs": [str(templates)]}}
    accounts = [account("A", "D1"), account("C", "D1"), account("E", "D1")]
    load(store, accounts, [[], [], []], now=NOW)
    summary = run_tick(store, cap_policy(tmp_path), NOW, dispatcher=Dispatcher(plugin_manager(), config),
                       workers=0)
    assert summary.actions_queued == 3
    assert (summary.delivered, summary.cancelled) == (2, 1)
    assert len(server.requests) == 2
    cancelled = rows(store, "SELECT last_error FROM outbox WHERE status = 'cancelled'")
    assert "per debtor" in cancelled[0][0]
