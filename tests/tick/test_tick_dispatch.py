"""The delivery half against a real HTTP provider: sent once, re-checked before sending,
retried with backoff, failures recorded, orphans never re-sent."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.model import Event
from arrears.engine.store import outboxstore
from arrears.engine.tick import Backoff, dispatch_due, run_tick
from arrears.plugins import hookimpl
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import plugin_manager
from tests.tick.tickkit import MONDAY, NOW, account, dispatcher_config, keys_received, load, rows

pytestmark = pytest.mark.also_postgresql


def _queue(store, policy, accounts, at=MONDAY):
    load(store, accounts)
    summary = run_tick(store, policy, at)          # no dispatcher: evaluate and queue only
    assert summary.actions_queued == len(accounts)
    return summary


def test_a_due_contact_is_delivered_once_and_recorded(store, policy, server, dispatcher):
    load(store, [account("A1")])
    summary = run_tick(store, policy, MONDAY, dispatcher=dispatcher)
    assert (summary.actions_queued, summary.delivered, summary.failed) == (1, 1, 0)
    assert keys_received(server) == {"A1:friendly_reminder:1:2026-11-10:email": 1}
    body = server.requests[0].json()
    assert body["message"]["recipient"]["email"] == "a1@example.com" and body["message"]["body"]
    assert (body["message"]["metadata"]["outbox_id"], body["message"]["metadata"]["episode"]) == (1, "2026-11-10")
    status, tries, provider, payload = rows(store, "SELECT status, tries, provider_id, payload FROM outbox")[0]
    assert (status, tries, provider) == ("sent", 1, "msg-1") and '"message":' in payload
    _, history = store.get_account("A1")
    (event,) = [e for e in history if e.type == "contact_attempt"]
    assert (event.channel, event.stage, event.outcome, event.at) == ("email", "friendly_reminder", "sent", MONDAY)
    kinds = [k for (k,) in rows(store, "SELECT kind FROM audit ORDER BY seq")]
    assert "delivery.sent" in kinds and "events.appended" in kinds and store.verify_audit().ok
    # the contact made the account due again; the engine now waits for the next step
    after = run_tick(store, policy, MONDAY + timedelta(minutes=5), dispatcher=dispatcher)
    assert after.evaluated == 1 and after.decisions_written == 1 and after.delivered == 0
    assert len(server.requests) == 1


EVENTS = {
    "payment": {"type": "payment", "amount": "1000.00"},
    "promise": {"type": "promise_to_pay", "amount": "1000.00", "until": "2026-12-10"},
    "dispute": {"type": "dispute_opened", "invoice_id": "I1"},
    "cease": {"type": "cease_communication"},
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_an_event_recorded_after_the_decision_cancels_the_send(store, policy, server, dispatcher, name):
    _queue(store, policy, [account("A1")])
    event = Event.from_dict({**EVENTS[name], "at": "2026-11-23T09:59:00Z"})
    store.append_events([("A1", event, None)], now=MONDAY)
    counts = dispatch_due(store, policy, dispatcher, MONDAY + timedelta(minutes=1))
    assert (counts.cancelled, counts.delivered) == (1, 0)
    assert server.requests == []
    status, error = rows(store, "SELECT status, last_error FROM outbox")[0]
    # a payment or a promise is acknowledged instead (the shipped policy's event_messages)
    thanks = {"payment": "payment_thanks", "promise": "promise_acknowledgement"}.get(name)
    expected = f"the next step is now {thanks} attempt 1" if thanks else "no contact is due any more"
    assert status == "cancelled" and error.startswith(expected)
    assert "delivery.cancelled" in [k for (k,) in rows(store, "SELECT kind FROM audit")]


def test_a_changed_channel_cancels_and_the_next_tick_sends_on_the_new_one(store, policy, server, dispatcher):
    _queue(store, policy, [account("A1", contact={"email": "a1@example.com", "address": "1 High St"})])
    store.append_events([("A1", Event.from_dict({"type": "channel_opt_out", "channel": "email",
                                                 "at": "2026-11-23T09:00:00Z"}), None)], now=MONDAY)
    later = MONDAY + timedelta(minutes=1)
    counts = dispatch_due(store, policy, dispatcher, later)
    assert counts.cancelled == 1 and "now letter" in rows(store, "SELECT last_error FROM outbox")[0][0]
    summary = run_tick(store, policy, later + timedelta(minutes=1), dispatcher=dispatcher)
    assert (summary.actions_queued, summary.delivered) == (1, 1)
    assert rows(store, "SELECT channel, status FROM outbox") == [("letter", "sent")]
    assert server.requests[0].json()["message"]["channel"] == "letter"


def test_a_contact_whose_time_moved_waits_instead_of_going_out(store, policy, server, dispatcher):
    _queue(store, policy, [account("A1")])
    night = MONDAY.replace(hour=22, minute=30)          # after UK reasonable hours
    counts = dispatch_due(store, policy, dispatcher, night)
    assert (counts.deferred, counts.delivered, len(server.requests)) == (1, 0, 0)
    status, nxt = rows(store, "SELECT status, next_attempt_at FROM outbox")[0]
    assert status == "pending" and nxt > as_epoch(night)
    assert dispatch_due(store, policy, dispatcher, night + timedelta(seconds=nxt - as_epoch(night))).delivered == 1


def test_retryable_failures_back_off_then_give_up(store, policy, server, dispatcher):
    _queue(store, policy, [account("A1", contact={"email": "a1@example.com", "address": "1 High St"})])
    backoff = Backoff(base=60, factor=2, cap=3600, max_tries=3)
    t = MONDAY
    for attempt in (1, 2):
        server.reply(503, b"busy")
        counts = dispatch_due(store, policy, dispatcher, t, backoff=backoff)
        assert counts.retrying == 1
        status, tries, nxt, error = rows(store, "SELECT status, tries, next_attempt_at, last_error FROM outbox")[0]
        assert (status, tries) == ("pending", attempt) and "503" in error
        assert nxt == as_epoch(t) + backoff.delay(attempt, 1)
        assert dispatch_due(store, policy, dispatcher, t, backoff=backoff).retrying == 0   # not yet
        t += timedelta(seconds=nxt - as_epoch(t))
    _, history = store.get_account("A1")
    assert not [e for e in history if e.type == "contact_attempt"]   # retries are not attempts
    server.reply(503, b"still busy")
    assert dispatch_due(store, policy, dispatcher, t, backoff=backoff).failed == 1
    assert rows(store, "SELECT status, tries FROM outbox") == [("failed", 3)]
    _, history = store.get_account("A1")
    (event,) = [e for e in history if e.type == "contact_attempt"]
    assert (event.channel, event.outcome) == ("email", "failed")
    # the engine moves on to the stage's next channel: letter
    summary = run_tick(store, policy, t + timedelta(minutes=1), dispatcher=dispatcher)
    assert summary.actions_queued == 1 and summary.delivered == 1
    assert rows(store, "SELECT channel, status FROM outbox") == [("letter", "sent")]
    assert len(server.requests) == 4


def test_a_permanent_failure_is_final(store, policy, server, dispatcher):
    _queue(store, policy, [account("A1")])
    server.reply(400, b"bad address")
    counts = dispatch_due(store, policy, dispatcher, MONDAY)
    assert counts.failed == 1
    status, error = rows(store, "SELECT status, last_error FROM outbox")[0]
    assert status == "failed" and "400" in error


def test_backoff_grows_is_capped_and_jitter_is_bounded():
    b = Backoff(base=60, factor=2, cap=600, max_tries=5)
    raw = [60, 120, 240, 480, 600, 600]
    for tries, expected in enumerate(raw, start=1):
        for row_id in (1, 2, 99):
            assert expected <= b.delay(tries, row_id) <= expected * 1.1
    assert not b.exhausted(4) and b.exhausted(5)


class Exploding:
    """A plugin whose delivery and observer hooks raise."""

    def __init__(self):
        self.decisions = []

    @hookimpl
    def arrears_deliver(self, message, channel):
        raise RuntimeError("provider SDK blew up")

    @hookimpl
    def arrears_delivery(self, message, result):
        raise ValueError("CRM down")

    @hookimpl
    def arrears_decision(self, decision):
        self.decisions.append(decision)
        raise ValueError("CRM down")


def test_plugin_errors_are_recorded_never_raised(store, policy, server):
    plugin = Exploding()
    dispatcher = Dispatcher(plugin_manager(plugin), dispatcher_config(server.url))
    load(store, [account("A1"), account("A2")])
    summary = run_tick(store, policy, MONDAY, dispatcher=dispatcher)
    assert summary.ran and summary.retrying == 2 and summary.delivered == 0
    assert {d.account_id for d in plugin.decisions} == {"A1", "A2"}     # full decisions observed
    assert len(summary.plugin_failures) == 4                            # 2 decisions, 2 deliveries
    errors = [e for (e,) in rows(store, "SELECT last_error FROM outbox")]
    assert all("provider SDK blew up" in e for e in errors)
    kinds = [k for (k,) in rows(store, "SELECT kind FROM audit")]
    assert kinds.count("plugin.failed") == 3 and kinds.count("delivery.retry") == 2
    assert server.requests == []


def test_a_row_left_sending_by_a_dead_process_becomes_unknown_and_is_never_sent(store, policy, server,
                                                                                 dispatcher):
    _queue(store, policy, [account("A1")])
    with store.transaction(now=MONDAY) as w:
        assert outboxstore.claim(w.conn, 1, "dead-host:1:abc/run", as_epoch(MONDAY))
    summary = run_tick(store, policy, MONDAY + timedelta(minutes=1), dispatcher=dispatcher)
    assert (summary.unknown, summary.delivered) == (1, 0) and server.requests == []
    assert rows(store, "SELECT status FROM outbox") == [("unknown",)]
    assert "delivery.unknown" in [k for (k,) in rows(store, "SELECT kind FROM audit")]
    # still never re-sent, however often we tick
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE accounts SET next_evaluation_at = NULL")
    again = run_tick(store, policy, MONDAY + timedelta(hours=1), dispatcher=dispatcher)
    assert again.delivered == again.actions_queued == 0 and server.requests == []


def test_a_run_that_outlived_its_lease_still_records_what_it_sent(store, policy):
    _queue(store, policy, [account("A1")])
    now = as_epoch(MONDAY)
    with store.transaction(now=now) as w:
        assert outboxstore.claim(w.conn, 1, "old/run", now)
    with store.transaction(now=now) as w:                       # the new lease holder sweeps
        assert [r[0] for r in outboxstore.abandon_orphans(w.conn, "new/run", now)] == [1]
    with store.transaction(now=now) as w:                       # the old run finishes its send
        assert outboxstore.finish(w.conn, 1, "old/run", now, status="sent", tries=1)
        assert not outboxstore.finish(w.conn, 1, "someone/else", now, status="failed")
    assert rows(store, "SELECT status FROM outbox") == [("sent",)]


def test_an_unknown_row_is_settled_by_hand_and_escalation_resumes(store, policy, server, dispatcher):
    from arrears.engine.domain.errors import InputError
    from arrears.engine.tick.resolve import resolve_unknown
    _queue(store, policy, [account("A1")])
    with store.transaction(now=MONDAY) as w:
        outboxstore.claim(w.conn, 1, "dead/run", as_epoch(MONDAY))
    run_tick(store, policy, MONDAY + timedelta(minutes=1), dispatcher=dispatcher)
    with pytest.raises(InputError, match="not unknown"):
        resolve_unknown(store, policy, 99, sent=True, now=MONDAY)
    resolve_unknown(store, policy, 1, sent=True, now=MONDAY + timedelta(hours=1), note="in the provider log")
    assert rows(store, "SELECT status FROM outbox") == [("sent",)]
    _, history = store.get_account("A1")
    (event,) = [e for e in history if e.type == "contact_attempt"]
    assert (event.outcome, event.at, event.stage) == ("sent", MONDAY, "friendly_reminder")
    with pytest.raises(InputError, match="it is sent"):
        resolve_unknown(store, policy, 1, sent=False, now=MONDAY)
    # the account is due again and moves on: friendly_reminder attempt 1 is done
    run_tick(store, policy, MONDAY + timedelta(hours=2), dispatcher=dispatcher)
    assert server.requests == []
    (key,) = rows(store, "SELECT decision_key FROM accounts")[0]
    assert not key.startswith("friendly_reminder|reminder|email|1|")


def test_a_new_delinquency_episode_may_repeat_a_stage(store, policy, server, dispatcher):
    first = account("A1", amount="100.00", due="2026-11-10")
    load(store, [first])
    assert run_tick(store, policy, MONDAY, dispatcher=dispatcher).delivered == 1
    # paid, then a new invoice falls due and is not paid: a second episode begins
    store.append_events([("A1", Event.from_dict({"type": "payment", "at": "2026-11-24T10:00:00Z",
                                                 "amount": "100.00", "invoice_id": "I1"}), "psp-1")], now=MONDAY)
    second = account("A1", invoices=[{"id": "I1", "amount": "100.00", "due_date": "2026-11-10"},
                                     {"id": "I2", "amount": "80.00", "due_date": "2026-12-10"}])
    store.upsert_accounts([second], now=MONDAY)
    later = MONDAY + timedelta(days=21)             # 2026-12-14: four days late on I2
    summary = run_tick(store, policy, later, dispatcher=dispatcher)
    assert summary.delivered == 1
    episodes = [r.json()["message"]["metadata"]["episode"] for r in server.requests]
    keys = [r.json()["idempotency_key"] for r in server.requests]
    assert episodes == ["2026-11-10", "2026-12-10"]
    # the idempotency key carries the episode, so a provider that remembers keys keeps both
    assert keys == ["A1:friendly_reminder:1:2026-11-10:email", "A1:friendly_reminder:1:2026-12-10:email"]
    assert rows(store, "SELECT stage, attempt, episode_key, status FROM outbox ORDER BY id") == [
        ("friendly_reminder", 1, "2026-11-10", "sent"), ("friendly_reminder", 1, "2026-12-10", "sent")]


def test_a_representation_dated_later_is_decided_when_it_starts_and_its_review_task_goes_out(
        store, policy, server, dispatcher):
    # A debtor no channel of the step reaches is held until long after NOW. A `represented`
    # event naming nobody reachable, stored now but dated two hours later, turns the step into
    # a staff review task from that moment: the tick must decide the account again then, not
    # at the time worked out before the representation began (it used to wait for that time,
    # the task due and nothing queued).
    load(store, [account("A1", contact={"phone": "+447700900123"})], now=NOW)
    starts = NOW + timedelta(hours=2)
    store.append_events([("A1", Event.from_dict({"type": "represented", "at": starts.isoformat(),
                                                 "representative": {"name": "Ana Law"}}), None)], now=NOW)
    first = run_tick(store, policy, NOW, dispatcher=dispatcher)
    assert (first.actions_queued, first.delivered) == (0, 0)
    assert rows(store, "SELECT next_evaluation_at FROM accounts") == [(as_epoch(starts),)]
    later = NOW + timedelta(hours=6)
    run_tick(store, policy, later, dispatcher=dispatcher)
    [(stage, attempt, channel, status, not_before)] = rows(
        store, "SELECT stage, attempt, channel, status, next_attempt_at FROM outbox")
    assert (stage, attempt, channel) == ("friendly_reminder", 1, "review")
    if status == "pending":         # queued for a later moment: it goes out then
        run_tick(store, policy, max(later, datetime.fromtimestamp(not_before, timezone.utc)),
                 dispatcher=dispatcher)
    assert rows(store, "SELECT status FROM outbox") == [("sent",)]
    [request] = server.requests
    message = request.json()["message"]
    assert (message["channel"], message["template"]) == ("review", "representation_review")


def test_a_represented_debtors_message_reaches_the_representative_not_the_debtor(store, policy, server,
                                                                                   dispatcher):
    load(store, [account("A1")])
    rep = {"name": "Ana Law", "firm": "Law & Co", "email": "ana@law.example"}
    store.append_events([("A1", Event.from_dict({"type": "represented", "at": "2026-11-20T09:00:00Z",
                                                 "representative": rep}), None)], now=MONDAY)
    summary = run_tick(store, policy, MONDAY, dispatcher=dispatcher)
    assert (summary.actions_queued, summary.delivered) == (1, 1)
    message = server.requests[0].json()["message"]
    assert message["recipient"]["email"] == "ana@law.example"
    assert b"a1@example.com" not in server.requests[0].body        # nowhere in what was sent
    assert message["template"] == "representative_notice" and "Dear Ana Law," in message["body"]
