"""A channel plugin's test bench: push messages through a real outbox and tick.

    from arrears.engine.tick.trial import TickTrial
    from arrears.plugins.testing import RecordingServer, plugin_manager

    with RecordingServer() as server, TickTrial(plugin_manager(MyPlugin()), config) as trial:
        server.reply(429, headers={"Retry-After": "120"})
        trial.add({"id": "A1", "contact": {"mobile": "+447700900123"}})
        summary = trial.tick(trial.now)                 # one real tick: decide, queue, deliver
        [row] = trial.outbox()                          # status, tries, next_attempt_at, ...
        trial.tick(trial.now + timedelta(minutes=2))    # the retry

It uses a fresh SQLite database (a temporary file unless `db_url` is given), the shipped
policy (or `policy`), the plugins' `Dispatcher` built from `config` (the service config's
`channels`, `routes`, `creditor`...) and `run_tick`: the same retries, backoff, act-once
claims, fallback and contact history as production. Channels read the tick's `now` from
their `clock()`, so a simulated morning is the morning the channel sees.
"""
from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.model import Account, Event
from arrears.engine.store import Store, outboxstore
from arrears.engine.store.db import read_transaction
from arrears.engine.tick.dispatch import Backoff
from arrears.engine.tick.runner import run_tick

# A Monday morning inside every shipped contact window.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ACCOUNT = {"currency": "GBP", "timezone": "Europe/London", "jurisdiction": "GB-ENG", "language": "en",
           "invoices": [{"id": "I1", "amount": "1000.00", "due_date": "2026-11-10"}]}


class TickTrial:
    """A store, a policy and a dispatcher, ticked at the times a test chooses."""

    def __init__(self, pm, config: dict, *, policy=None, db_url: str | None = None,
                 now: datetime = MONDAY, backoff: Backoff = Backoff()):
        from arrears.engine.policy.load import load_policy
        from arrears.plugins.dispatch import Dispatcher
        from arrears.policies import DEFAULT_POLICY
        self._tmp = None
        if db_url is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="arrears-trial-")
            db_url = f"sqlite:///{Path(self._tmp.name) / 'trial.db'}"
        self.store = Store(db_url)
        self.policy = policy or load_policy(DEFAULT_POLICY)
        self.dispatcher = Dispatcher(pm, config)
        self.now, self.backoff = now, backoff

    def add(self, *accounts, events=()) -> None:
        """Store accounts (an `Account`, or a dict merged over a consumer in London owing
        1000.00 GBP since 2026-11-10) and `events`: (account id, event dict) pairs."""
        objs = [a if isinstance(a, Account) else Account.from_dict({**ACCOUNT, **a}) for a in accounts]
        if objs:
            self.store.upsert_accounts(objs, now=self.now)
        pairs = [(aid, Event.from_dict(e), None) for aid, e in events]
        if pairs:
            self.store.append_events(pairs, now=self.now)

    def tick(self, now: datetime | None = None):
        """One tick at `now` (default `self.now`); returns its `TickSummary`."""
        return run_tick(self.store, self.policy, now or self.now, dispatcher=self.dispatcher,
                        backoff=self.backoff)

    def outbox(self) -> list[dict]:
        """Every outbox row, oldest first (`next_attempt_at` as an aware datetime)."""
        with read_transaction(self.store.engine) as conn:
            out = outboxstore.listing(conn)
        for row in out:
            row["next_attempt_at"] = from_epoch(row["next_attempt_at"])
        return out

    def history(self, account_id: str = "A1") -> list[Event]:
        """The account's events, in order (contact attempts, receipts, ...)."""
        return list(self.store.get_account(account_id)[1])

    def close(self) -> None:
        """Close the store and remove the temporary database."""
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> TickTrial:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
