"""The decision micro-batcher: concurrent decisions come out exactly as lone `decide()` calls."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from arrears.api.batcher import THREAD_NAME, MicroBatcher, Unavailable
from arrears.engine import Account, decide
from arrears.engine.domain.errors import InputError
from arrears.engine.policy.load import load_policy
from arrears.policies import DEFAULT_POLICY
from tests.api.apikit import NOW
from tests.api.apikit import portfolio as generate


@pytest.fixture(scope="module")
def policy():
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="module")
def portfolio():
    """60 generated accounts across jurisdictions, with histories; some share a debtor."""
    accounts, histories = generate(60)
    shared = [Account(**{**{f: getattr(a, f) for f in a.__slots__}, "debtor_id": "D-1"}) if i % 7 == 0 else a
              for i, a in enumerate(accounts)]
    return shared, histories


def test_concurrent_decisions_equal_lone_decisions(policy, portfolio):
    accounts, histories = portfolio
    batcher = MicroBatcher(max_batch=16, max_wait=0.05)     # a long wait for company: batched even on a starved machine
    sizes = []
    batcher.on_batch = sizes.append
    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            got = list(pool.map(lambda p: batcher.decide(p[0], p[1], policy, NOW), zip(accounts, histories)))
    finally:
        batcher.close()
    for acc, hist, decision in zip(accounts, histories, got):
        assert decision.to_json() == decide(acc, hist, policy, NOW).to_json(), acc.id
    assert max(sizes) > 1, "nothing was batched"


def test_each_batch_is_prepared_on_the_batcher_thread_before_its_requests_wake(policy, portfolio, state):
    # The API's batcher makes each batch's answer columns before waking its requests, so the
    # request threads find them made (none builds them while the others queue for it).
    from arrears.api.decision_json import columns_of

    accounts, histories = portfolio
    assert state.batcher.prepare is columns_of
    prepared = []

    def prepare(result):
        prepared.append((threading.current_thread().name, result))
        result.cache["prepared"] = True

    batcher = MicroBatcher(max_batch=16, max_wait=0.005, prepare=prepare)
    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            got = list(pool.map(lambda p: batcher.evaluate(p[0], p[1], policy, NOW),
                                zip(accounts, histories)))
    finally:
        batcher.close()
    assert all(batch.cache.get("prepared") for batch, _ in got)
    assert {name for name, _ in prepared} == {THREAD_NAME}
    assert len(prepared) == len({id(batch) for batch, _ in got}) < len(accounts)


def test_groups_keep_debtors_apart_and_times_and_policies_separate(policy, portfolio):
    accounts, histories = portfolio
    other = load_policy(DEFAULT_POLICY.read_text().replace('version: "1.0.0"', 'version: "9"'))

    class P:
        def __init__(self, acc, pol, now):
            self.account, self.policy, self.now, self.debtor = acc, pol, now, acc.debtor_id or acc.id
            self.store = None

    later = int((NOW + timedelta(hours=1)).timestamp())
    now_s = int(NOW.timestamp())
    items = ([P(a, policy, now_s) for a in accounts[:20]] + [P(accounts[0], policy, None)]
             + [P(accounts[1], other, now_s), P(accounts[2], policy, later)])
    groups = MicroBatcher.groups(items, now_s)
    for group in groups:
        assert len({g.debtor for g in group}) == len(group)
        assert len({(g.policy.digest, g.now) for g in group}) == 1
    assert sum(len(g) for g in groups) == len(items)
    shared = [g for g in groups if any(i.debtor == "D-1" for i in g)]
    assert len(shared) >= 3          # accounts 0, 7 and 14 share debtor D-1


def test_an_error_reaches_only_its_own_request(policy, portfolio):
    accounts, histories = portfolio
    batcher = MicroBatcher(max_batch=8, max_wait=0.05)
    bad = Account.from_dict({"id": "BAD", "currency": "EUR",
                             "invoices": [{"id": "I", "amount": "1.001", "due_date": "2026-10-01"}]})
    results = {}

    def run(key, acc, hist):
        try:
            results[key] = batcher.decide(acc, hist, policy, NOW)
        except InputError as exc:
            results[key] = exc

    threads = [threading.Thread(target=run, args=(i, a, h))
               for i, (a, h) in enumerate(zip(accounts[:6], histories))]
    threads.append(threading.Thread(target=run, args=("bad", bad, [])))
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        batcher.close()
    assert isinstance(results.pop("bad"), InputError)
    assert all(not isinstance(r, Exception) for r in results.values())


def test_closed_batcher_refuses_work(policy, portfolio):
    batcher = MicroBatcher()
    batcher.close()
    with pytest.raises(Unavailable):
        batcher.decide(portfolio[0][0], [], policy, NOW)


@pytest.fixture
def stored(tmp_path, policy, portfolio):
    """The portfolio (some accounts sharing debtor D-1) in a fresh SQLite store."""
    from arrears.engine.store import Store
    accounts, histories = portfolio
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    store.upsert_accounts(accounts)
    store.append_events([(a.id, e, None) for a, h in zip(accounts, histories) for e in h])
    yield store
    store.close()


def test_stored_accounts_are_read_and_decided_together_as_alone(policy, portfolio, stored):
    from arrears.engine.store import UnknownAccount
    accounts, _ = portfolio
    batcher = MicroBatcher(max_batch=32, max_wait=0.05)     # as above
    sizes = []
    batcher.on_batch = sizes.append
    asks = [a.id for a in accounts] + [accounts[3].id, accounts[7].id, "NOPE"]   # repeats, an unknown id

    def ask(account_id):
        try:
            batch, row = batcher.evaluate_stored(stored, account_id, policy, NOW)
        except UnknownAccount as exc:
            return exc
        return batch.decision(row)

    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            got = dict(zip(asks, pool.map(ask, asks)))
    finally:
        batcher.close()
    assert isinstance(got.pop("NOPE"), UnknownAccount)
    for account_id, decision in got.items():
        account, history = stored.get_account(account_id)
        assert decision.to_json() == decide(account, history, policy, NOW).to_json(), account_id
    assert max(sizes) > 1, "nothing was batched"
