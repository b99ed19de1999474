"""The delivery half of a tick: send the queued contacts whose time has come, at most once.

For each pending outbox row due at `now` (one at a time):

1. claim it (pending -> sending) in a committed transaction, *before* any channel is
   called: a crash from here on leaves it `sending`, and it is never sent again;
2. re-check: decide the account again at `now` from fresh store data, together with the
   debtor's other accounts (a per-debtor cap then counts what was delivered to them since
   the tick, in this run too); deliver only if
   the engine still wants this very contact (stage, attempt, channel, episode) now. A
   payment, promise, dispute or cease recorded since is respected: the row is cancelled
   with the reason (or put back to wait if only its time moved);
3. compose and deliver through the plugins' `Dispatcher` (which never raises);
4. in one transaction: the row's outcome, the `contact_attempt` event that lets
   frequency caps and stage progress see it (on the channel that carried it; keyed
   `outbox:ID`, or `outbox:ID/N` when a revived row records its N-th outcome, such as
   the fallback channel's delivery after a failed attempt), and an audit entry.

Every change of an outbox row (claimed, deferred, cancelled, retried, sent, failed, unknown)
has its audit entry, which re-seals the row (`arrears.engine.store.seals`).

A retryable failure with the provider's `retry_at` (a 429 with `Retry-After`) goes back to
`pending` for that time, its try not counted. Other retryable failures go back to `pending`
with exponential backoff and no history event
(a timeout is not an attempt on the debtor, and recording it as `failed` would make the
engine abandon the channel); after `Backoff.max_tries`, or on a permanent failure, the
row is `failed` and a `failed` contact attempt is recorded, so the engine moves on to
the stage's next channel.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.model import Event
from arrears.engine.store import due, outboxstore
from arrears.engine.store.codec import canonical, sha256
from arrears.engine.store.db import read_transaction
from arrears.engine.tick.recheck import Verdict, recheck


@dataclass(frozen=True)
class Backoff:
    """Retry schedule for `failed_retryable` deliveries: `base * factor**(tries-1)` seconds,
    at most `cap`, plus up to 10% deterministic jitter; give up after `max_tries` tries."""

    base: int = 60
    factor: float = 2.0
    cap: int = 6 * 3600
    max_tries: int = 6

    def delay(self, tries: int, row_id: int = 0) -> int:
        """Seconds to wait after the `tries`-th failed try."""
        raw = min(self.cap, int(self.base * self.factor ** max(tries - 1, 0)))
        return raw + (row_id * 7919) % (raw // 10 + 1)

    def exhausted(self, tries: int) -> bool:
        """True when `tries` tries is all there will be."""
        return tries >= self.max_tries


@dataclass
class DispatchCounts:
    """What the delivery half did."""

    delivered: int = 0
    failed: int = 0             # given up: permanent failure or retries exhausted
    retrying: int = 0           # retryable failure, scheduled again
    cancelled: int = 0
    deferred: int = 0           # the re-check moved the send time: waiting again
    unknown: int = 0            # left `sending` by a run that died: reported, never re-sent
    plugin_failures: list = field(default_factory=list)


def dispatch_due(store, policy, dispatcher, now: datetime, *, lease=None, backoff: Backoff = Backoff(),
                 limit: int | None = None, stop=None, progress=None, strategies=None) -> DispatchCounts:
    """Deliver the outbox rows due at `now`; see the module docstring. Never raises for a
    plugin's failure. `limit` caps the deliveries attempted in this run. `strategies` (a
    running experiment's, `arrears.engine.experiments.live.Strategies`): each contact is
    re-checked under its debtor's strategy, the policy that queued it."""
    now_s = as_epoch(now)
    token = f"{lease.holder if lease else 'dispatch'}/{uuid.uuid4().hex[:12]}"
    counts = DispatchCounts()
    _set_clock(dispatcher, now)
    _abandon_orphans(store, token, now_s, counts)
    total = _due_total(store, now_s) if progress else 0
    after, seen, done = 0, set(), 0
    while limit is None or done < limit:
        with read_transaction(store.engine) as conn:
            rows = outboxstore.due_rows(conn, now_s, after, 200)
        if not rows:
            break
        for row in rows:
            after = row.id
            if (stop and stop()) or (limit is not None and done >= limit):
                return counts
            if row.acct_no in seen:      # one contact per account per run
                continue
            if lease is not None:
                lease.keep()
            with store.transaction(now=now_s) as w:
                if not outboxstore.claim(w.conn, row.id, token, now_s):
                    continue
                _audit_claim(w, row, token)
            done += 1
            if _attempt(store, _policy_of(store, policy, strategies, row.acct_no), dispatcher, row, token, now,
                        now_s, backoff, counts):
                seen.add(row.acct_no)
            if progress:
                progress(done, max(total, done))
    return counts


def deliver_rows(store, policy, dispatcher, rows: list[tuple[int, int]], now: datetime, *, token: str,
                 backoff: Backoff = Backoff(), limiter=None, stop=None, strategies=None) -> DispatchCounts:
    """Deliver the outbox rows `rows` ((id, acct_no) each) that are due at `now`, as
    `dispatch_due` does, for one delivery task of the distributed tick
    (`arrears.engine.tick.distributed`).

    Each row is claimed with `outboxstore.claim_next` (`FOR UPDATE SKIP LOCKED` on
    PostgreSQL) in a committed transaction before any channel is called, then re-checked,
    delivered and recorded exactly as `dispatch_due` does: a task the broker runs twice, or
    two tasks given the same rows, deliver each row at most once. `limiter.wait(channel)`
    (a `broker.RateLimiter`) is called before each delivery. The rows of one debtor must be
    in one task: one contact per account per run, and per-debtor caps re-checked in order.
    Orphans (rows left `sending`) are the leader's to mark `unknown`, not a task's.
    `strategies`: as for `dispatch_due`.
    """
    now_s = as_epoch(now)
    counts, seen = DispatchCounts(), set()
    _set_clock(dispatcher, now)
    left = sorted((int(i), int(a)) for i, a in rows)
    while not (stop and stop()):
        left = [(i, a) for i, a in left if a not in seen]     # one contact per account per run
        if not left:
            break
        with store.transaction(now=now_s) as w:
            row = outboxstore.claim_next(w.conn, [i for i, _ in left], token, now_s)
            if row is not None:
                _audit_claim(w, row, token)
        if row is None:
            break
        left = [(i, a) for i, a in left if i > row.id]
        if limiter is not None:
            limiter.wait(row.channel)
        if _attempt(store, _policy_of(store, policy, strategies, row.acct_no), dispatcher, row, token, now, now_s,
                    backoff, counts):
            seen.add(row.acct_no)
    return counts


def _policy_of(store, policy, strategies, acct_no: int):
    """The policy a contact of `acct_no` is re-checked under: its debtor's strategy's while an
    experiment runs (`strategies`), else `policy`."""
    return policy if strategies is None else strategies.policy_of(strategies.arm_of(store, acct_no))


def abandon_orphans(store, token: str, now: datetime) -> DispatchCounts:
    """Mark `unknown` the rows left `sending` by runs other than `token` (a dispatcher that
    died mid-delivery); the distributed tick's leader calls it before enqueueing delivery."""
    counts = DispatchCounts()
    _abandon_orphans(store, token, as_epoch(now), counts)
    return counts


def _set_clock(dispatcher, now: datetime) -> None:
    # Channels read the tick's time, not the wall clock: a simulated or replayed tick and
    # a `Retry-After` in seconds then agree with the outbox's schedule. It advances with the
    # run (whole seconds), so a long live run still stamps and signs its messages in time.
    if hasattr(dispatcher, "set_clock"):
        started = time.monotonic()
        dispatcher.set_clock(lambda: now + timedelta(seconds=int(time.monotonic() - started)))


def _audit_claim(w, row, token: str) -> None:
    w.audit("delivery.claimed", row.account_id, {**_ident(row), "claimed_by": token}, reseal=_sealed(row.id))


def _due_total(store, now_s: int) -> int:
    with read_transaction(store.engine) as conn:
        return outboxstore.due_count(conn, now_s)


def _abandon_orphans(store, token: str, now_s: int, counts: DispatchCounts) -> None:
    with store.transaction(now=now_s) as w:
        for oid, account_id, stage, holder in outboxstore.abandon_orphans(w.conn, token, now_s):
            w.audit("delivery.unknown", account_id, {"outbox_id": oid, "stage": stage, "claimed_by": holder},
                    reseal=_sealed(oid))
            counts.unknown += 1


def _attempt(store, policy, dispatcher, row, token, now, now_s, backoff, counts) -> bool:
    """Re-check, deliver and record one claimed row; True if a contact went out."""
    try:
        account, history = store.get_account(row.account_id)
        # With the debtor's other accounts (row 0 stays this one), so a per-debtor cap
        # counts the contacts delivered to them since the tick, earlier in this very run.
        others = [store.get_account(other) for other in store.debtor_siblings(row.account_id)]
        batch = Batch.from_objects([account, *(a for a, _ in others)], [history, *(h for _, h in others)])
        db = decide_batch(batch, policy, now)
        verdict = recheck(db, row, now_s)
    except Exception as exc:    # a bad stored history must not stop the other contacts
        verdict = Verdict("error", f"re-check failed: {type(exc).__name__}: {exc}")
    if verdict.kind in ("cancel", "defer"):
        _settle(store, row, token, now_s, verdict, counts)
        return False
    if verdict.kind == "error":
        _record(store, policy, row, token, now, now_s, None, _retryable(verdict.reason), backoff, counts)
        return False
    decision = db.decision(0)
    message = None
    try:
        message = dispatcher.compose(decision, account)
        # Channels and observers can tell this contact from the same stage and attempt
        # in a later collection episode (the idempotency key alone cannot).
        message = replace(message, metadata={**message.metadata, "outbox_id": row.id,
                                             "episode": row.episode_key})
        # A payment link is minted once per outbox row: a retry gets the one stored by _record.
        message, link_failures = dispatcher.attach_payment_link(message, _stored_link(row))
        _note_failures(store, now_s, row, link_failures, counts)
        message, result = dispatcher.deliver_rendered(message)
    except Exception as exc:    # compose or a misbehaving plugin: recorded, never raised
        result = _retryable(f"delivery raised {type(exc).__name__}: {exc}")
    _record(store, policy, row, token, now, now_s, message, result, backoff, counts)
    if message is not None:
        try:
            failures = dispatcher.notify_delivery(message, result)
        except Exception as exc:   # pragma: no cover - notify_delivery never raises
            failures = [f"notify_delivery raised {exc!r}"]
        _note_failures(store, now_s, row, failures, counts)
    return result.ok


def _stored_link(row) -> dict | None:
    """The payment link an earlier try of this outbox row carried, if any."""
    return json.loads(row.payload).get("payment_link")


def _keep_link(row, message) -> dict:
    """The row's payload with the message's payment link, so a retry shows the same link."""
    link = (message.context.get("payment_link") if message is not None else None) or _stored_link(row)
    if link is None:
        return {}
    return {"payload": canonical({**json.loads(row.payload), "payment_link": link})}


def _retryable(detail: str):
    from arrears.plugins.message import DeliveryResult
    return DeliveryResult.retryable(detail)


def _settle(store, row, token, now_s: int, verdict: Verdict, counts: DispatchCounts) -> None:
    """A re-check that did not send: cancel (and make the account due again), or wait."""
    with store.transaction(now=now_s) as w:
        if verdict.kind == "defer":
            outboxstore.release(w.conn, row.id, token, now_s, verdict.until, f"waiting: {verdict.reason}")
            w.audit("delivery.deferred", row.account_id, {**_ident(row), "until": verdict.until,
                                                          "reason": verdict.reason}, reseal=_sealed(row.id))
            counts.deferred += 1
            return
        outboxstore.finish(w.conn, row.id, token, now_s, status="cancelled", last_error=verdict.reason)
        # Decide the account again on the next tick rather than at its scheduled time.
        due.make_due(w.conn, row.acct_no)
        w.audit("delivery.cancelled", row.account_id, {**_ident(row), "reason": verdict.reason},
                reseal=_sealed(row.id))
        counts.cancelled += 1


def _record(store, policy, row, token, now, now_s, message, result, backoff, counts) -> None:
    # A provider that said when to come back (Retry-After) was busy, not failing: the try
    # is not counted, so a rate limit neither exhausts the row nor moves it to the next channel.
    limited = result.status == "failed_retryable" and result.retry_at is not None
    tries = row.tries if limited else row.tries + 1
    retry = limited or (result.status == "failed_retryable" and not backoff.exhausted(tries))
    body = {**_ident(row), "tries": tries, "status": result.status, "provider_id": result.provider_id,
            "detail": result.detail}
    with store.transaction(now=now_s) as w:
        if retry:
            nxt = _retry_time(result, row, tries, now_s, backoff)
            outboxstore.finish(w.conn, row.id, token, now_s, status="pending", tries=tries,
                               next_attempt_at=nxt, claimed_by=None, claimed_at=None,
                               last_error=result.detail, **_keep_link(row, message))
            w.audit("delivery.retry", row.account_id,
                    {**body, "next_attempt_at": nxt, "rate_limited": limited}, reseal=_sealed(row.id))
            counts.retrying += 1
            return
        status = "sent" if result.ok else "failed"
        payload = json.loads(row.payload)
        if message is not None:
            payload["message"] = message.to_dict()
            body["message_sha256"] = sha256(canonical(payload["message"]))
        finished = outboxstore.finish(w.conn, row.id, token, now_s, status=status, tries=tries,
                                      provider_id=result.provider_id, payload=canonical(payload),
                                      last_error=None if result.ok else result.detail)
        # Only the run that still owns the row records its contact (a row settled by hand
        # meanwhile has its event already). Each outcome of a row gets a key of its own: the
        # fallback channel's delivery after a failed attempt is a contact too (issue 11 #18).
        if finished:
            event = Event.from_dict(_contact_event(policy, row, message, result, now))
            key = outboxstore.contact_event_key(w.conn, row.acct_no, row.id)
            w.append_events([(row.account_id, event, key)])
        w.audit(f"delivery.{status}", row.account_id, {**body, "outcome": result.contact_outcome},
                reseal=_sealed(row.id))
    if result.ok:
        counts.delivered += 1
    else:
        counts.failed += 1


def _retry_time(result, row, tries: int, now_s: int, backoff: Backoff) -> int:
    """When to try a retryable failure again: the provider's `retry_at` (whole seconds, rounded
    up, at most `backoff.cap` away), else the backoff after the `tries`-th try."""
    if result.retry_at is not None:
        stamp = result.retry_at.timestamp()
        return min(max(now_s, int(stamp) + (stamp % 1 > 0)), now_s + backoff.cap)
    return now_s + backoff.delay(tries, row.id)


def _contact_event(policy, row, message, result, now) -> dict:
    if message is not None:
        from arrears.plugins.message import contact_event
        return contact_event(message, result, now)
    from arrears.engine.domain.decision import rfc3339
    return {"type": "contact_attempt", "at": rfc3339(now), "channel": policy.channels[row.channel],
            "stage": row.stage, "outcome": result.contact_outcome}


def _note_failures(store, now_s: int, row, failures, counts: DispatchCounts) -> None:
    if not failures:
        return
    items = [f.to_dict() if hasattr(f, "to_dict") else {"error": str(f)} for f in failures]
    counts.plugin_failures += items
    store.audit("plugin.failed", row.account_id, {"outbox_id": row.id, "failures": items}, now=now_s)


def _sealed(row_id: int) -> dict:
    """The outbox row an audit entry re-seals: every transition of a row is audited."""
    return {"outbox": [row_id]}


def _ident(row) -> dict:
    return {"outbox_id": row.id, "stage": row.stage, "attempt": row.attempt, "episode": row.episode_key,
            "channel": row.channel}
