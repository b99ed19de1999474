"""Helpers for the tick tests: fixed times, account factories, the bench portfolio, and
the dispatcher configuration that sends every channel to one recording HTTP server."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import text

from arrears.engine.demo import generate
from arrears.engine.domain.model import Account

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)     # a Sunday, 15:00 UTC
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # inside every contact window
TODAY = date(2026, 11, 22)
ROUTES = {name: "webhook" for name in ("email", "sms", "letter", "call", "crm", "review")}
KEY_HEADER = "X-Arrears-Idempotency-Key"
WEBHOOK_SECRET = "test-secret-0123456789abcdef0123456789"     # at least MIN_SECRET_BYTES


def dispatcher_config(url: str) -> dict:
    """Every policy channel delivered by the signed webhook to `url`."""
    return {"channels": {"webhook": {"url": url + "/hook", "secret": WEBHOOK_SECRET, "timeout": 5}},
            "routes": dict(ROUTES), "creditor": {"name": "Example Ltd"}}


def load_portfolio(n: int, seed: int = 1, today: date = TODAY):
    """The demo generator's portfolio of `n` accounts: (accounts, histories)."""
    return generate(n, seed=seed, today=today)


def account(account_id: str = "A1", *, amount: str = "1000.00", due: str = "2026-11-10", **extra) -> Account:
    """A consumer in London owing `amount` since `due`, reachable by email only."""
    data = {"id": account_id, "currency": "GBP", "timezone": "Europe/London", "jurisdiction": "GB-ENG",
            "language": "en", "contact": {"email": f"{account_id.lower()}@example.com"},
            "invoices": [{"id": "I1", "amount": amount, "due_date": due}]}
    data.update(extra)
    return Account.from_dict(data)


def load(store, accounts, histories=None, now=NOW) -> None:
    """Store accounts and their histories."""
    store.upsert_accounts(list(accounts), now=now)
    pairs = [(a.id, e, None) for a, h in zip(accounts, histories or []) for e in h]
    if pairs:
        store.append_events(pairs, now=now)


def rows(store, sql: str, **params) -> list:
    """Rows of a raw SQL query (tests read the tables directly)."""
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def keys_received(server) -> Counter:
    """How many requests the server received per idempotency key."""
    return Counter(r.headers.get(KEY_HEADER) for r in server.requests)


# Everything a tick can change: a tick at the same instant that changed none of it is settled.
# (A cancelled contact makes its account due again, a failed one records a contact event:
# stopping at "nothing evaluated or delivered" would leave those accounts due.)
ACTIVITY = ("evaluated", "stale", "actions_queued", "delivered", "failed", "retrying", "cancelled",
            "deferred", "unknown")


def busy(summary) -> bool:
    """True if the tick (a `TickSummary`) changed anything: tick again at the same instant."""
    return any(getattr(summary, name) for name in ACTIVITY)


SETTLE_LIMIT = 30


def settle(tick, now, first=None, *, step=None):
    """Tick until a tick changes nothing; returns (the instant of that tick, its summary).

    `tick(now)` runs one tick and returns its `TickSummary`; `first` is a summary already in hand
    at `now` (None: tick first); `step` (a timedelta) moves each further tick that much later
    (None: all at `now`). Fails, with the last ticks' summaries, after `SETTLE_LIMIT` ticks: an
    engine that keeps changing an account at one instant would otherwise hold the test forever."""
    summary = tick(now) if first is None else first
    seen = [summary]
    while busy(summary):
        if len(seen) >= SETTLE_LIMIT:
            last = [{k: getattr(s, k) for k in ACTIVITY if getattr(s, k)} for s in seen[-3:]]
            raise AssertionError(f"still changing after {len(seen)} ticks (the last at {now}): {last}")
        if step is not None:
            now += step
        summary = tick(now)
        seen.append(summary)
    return now, summary


def assert_consistent(store, policy, server, settled_at: int) -> dict:
    """The act-once and no-lost-decision invariants, after ticking settled at `settled_at`.

    - no contact reached the provider twice, and every one that did has an outbox row
      that is `sent` (received exactly once) or `unknown` (a crash hid the outcome);
    - no row is left `sending`; every `sent` row has exactly one contact event;
    - every account's latest evaluation is recorded, is not due, and its stored decision
      key is what the engine decides again from the same data at the same instant.
    Returns the outbox status counts.
    """
    import numpy as np

    from arrears.engine.decisions.core import decide_batch
    from arrears.engine.domain.clock import from_epoch
    from arrears.engine.tick.columns import summarise

    received = keys_received(server)
    assert received and max(received.values()) == 1, received.most_common(3)
    outbox = rows(store, "SELECT o.id, a.id, o.stage, o.attempt, o.episode_key, o.status FROM outbox o "
                         "JOIN accounts a USING (acct_no)")
    statuses = Counter(r[5] for r in outbox)
    assert set(statuses) <= {"pending", "sent", "cancelled", "failed", "unknown"}, statuses
    # the provider sees Message.idempotency_key: account:stage:attempt:episode:channel
    outbox = rows(store, "SELECT o.id, a.id, o.stage, o.attempt, o.episode_key, o.status, o.channel "
                         "FROM outbox o JOIN accounts a USING (acct_no)")
    by_key = {f"{acct}:{stage}:{attempt}:{episode}:{channel}": (oid, status)
              for oid, acct, stage, attempt, episode, status, channel in outbox}
    assert len(by_key) == len(outbox)            # one row per contact (single episode here)
    for key in received:
        assert by_key[key][1] in ("sent", "unknown"), (key, by_key[key])
    events = Counter(k for (k,) in rows(store, "SELECT event_key FROM events WHERE event_key LIKE 'outbox:%'"))
    for key, (oid, status) in by_key.items():
        if status == "sent":
            assert received[key] == 1 and events[f"outbox:{oid}"] == 1, (key, oid)
        elif status != "failed":
            assert events[f"outbox:{oid}"] == 0, (key, oid, status)
    state = rows(store, "SELECT acct_no, revision, evaluated_revision, next_evaluation_at, "
                        "last_evaluated_at, decision_key, decision_id FROM accounts ORDER BY acct_no")
    for acct_no, rev, seen_rev, nea, last, key, did in state:
        assert rev == seen_rev and nea is not None and nea > settled_at and key and did, \
            dict(acct_no=acct_no, revision=rev, evaluated_revision=seen_rev, next_evaluation_at=nea,
                 last_evaluated_at=last, settled_at=settled_at, decision_key=key, decision_id=did)
    by_time: dict = {}
    for acct_no, *_r, last, key, _did in state:
        by_time.setdefault(last, []).append((acct_no, key))
    for last, group in by_time.items():
        nos = np.array([a for a, _ in group], dtype=np.int64)
        cols = summarise(decide_batch(store.load_batch(nos), policy, from_epoch(last)))
        assert list(cols.keys) == [k for _, k in group], last
    assert store.verify_audit().ok
    return dict(statuses)
