"""Plugin authors (issue 15): a provider's `Retry-After` schedules the next try without burning
the row's tries or falling back, and a fallback channel gets its own idempotency key. Real HTTP
servers, real ticks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from arrears.engine.domain.clock import as_epoch
from arrears.engine.tick import run_tick
from arrears.engine.tick.dispatch import Backoff
from arrears.engine.tick.trial import TickTrial
from arrears.plugins.testing import RecordingServer, plugin_manager
from tests.tick.tickkit import KEY_HEADER, MONDAY, account, dispatcher_config, load, rows


def _row(store):
    return rows(store, "SELECT channel, status, tries, next_attempt_at, last_error FROM outbox")


def test_a_429_with_retry_after_seconds_is_tried_then_without_burning_a_try(store, policy, server,
                                                                           dispatcher):
    load(store, [account("A1", contact={"email": "a1@example.com", "mobile": "+447700900123"})])
    server.reply(429, b'{"error": "slow down"}', headers={"Retry-After": "120"})
    first = run_tick(store, policy, MONDAY, dispatcher=dispatcher)
    assert (first.delivered, first.retrying, first.failed) == (0, 1, 0)
    [(channel, status, tries, nxt, error)] = _row(store)
    assert (channel, status, tries) == ("email", "pending", 0)
    # not the 60 s backoff, the provider's time: 120 s after the channel's clock (the tick's time
    # advanced by the run's whole seconds, so a second later on a busy machine)
    assert 120 <= nxt - as_epoch(MONDAY) <= 122
    assert "Retry-After: 120" in error
    audit = rows(store, "SELECT body FROM audit WHERE kind = 'delivery.retry'")
    assert '"rate_limited":true' in audit[0][0]
    # Before that time nothing is sent; at it, the same row goes out on the same channel.
    due = datetime.fromtimestamp(nxt, timezone.utc)
    assert run_tick(store, policy, due - timedelta(seconds=1), dispatcher=dispatcher).delivered == 0
    assert run_tick(store, policy, due, dispatcher=dispatcher).delivered == 1
    assert _row(store)[0][:3] == ("email", "sent", 1)          # the one try that counted
    assert len(server.requests) == 2 and len(set(r.headers[KEY_HEADER] for r in server.requests)) == 1


def test_an_http_date_follows_the_ticks_simulated_clock(store, policy, server, dispatcher):
    load(store, [account("A1")])
    later = MONDAY + timedelta(minutes=45)
    server.reply(503, headers={"Retry-After": format_datetime(later, usegmt=True)})
    run_tick(store, policy, MONDAY, dispatcher=dispatcher)
    assert _row(store)[0][1:4] == ("pending", 0, as_epoch(later))


def test_rate_limits_never_exhaust_the_row_nor_fall_back(store, policy, server):
    from arrears.plugins.dispatch import Dispatcher
    dispatcher = Dispatcher(plugin_manager(), dispatcher_config(server.url))
    load(store, [account("A1", contact={"email": "a1@example.com", "mobile": "+447700900123"})])
    backoff = Backoff(max_tries=2)
    at = MONDAY
    for _ in range(5):                                    # more 429s than the row has tries
        server.reply(429, headers={"Retry-After": "30"})
        run_tick(store, policy, at, dispatcher=dispatcher, backoff=backoff)
        # 30 s after the channel's clock: the tick's time advanced by the run's whole seconds
        # (engine/tick/dispatch.py), so a second later when the machine is busy
        next_at = rows(store, "SELECT next_attempt_at FROM outbox")[0][0]
        assert 30 <= next_at - as_epoch(at) <= 32
        at = datetime.fromtimestamp(next_at, timezone.utc)
    assert _row(store)[0][:3] == ("email", "pending", 0)
    assert rows(store, "SELECT COUNT(*) FROM events WHERE type = 'contact_attempt'") == [(0,)]
    assert run_tick(store, policy, at, dispatcher=dispatcher, backoff=backoff).delivered == 1
    assert [r.json()["message"]["channel"] for r in server.requests] == ["email"] * 6


def test_a_fallback_gets_its_own_key_at_a_provider_that_drops_repeated_keys(store, policy, server,
                                                                             dispatcher):
    seen, delivered = set(), []

    def provider(request):             # one provider carrying both channels, deduplicating keys
        key = request.headers[KEY_HEADER]
        if request.json()["message"]["channel"] == "email":
            seen.add(key)
            return 400, {"error": "mailbox unknown"}       # a permanent failure: fall back
        if key in seen:
            return 200, {"id": "dup", "duplicate": True}  # dropped as a repeat
        seen.add(key)
        delivered.append(key)
        return 200, {"id": f"m{len(delivered)}"}

    server.respond(provider)
    load(store, [account("A1", contact={"email": "a1@example.com", "mobile": "+447700900123"})])
    assert run_tick(store, policy, MONDAY, dispatcher=dispatcher).failed == 1
    assert run_tick(store, policy, MONDAY + timedelta(minutes=5), dispatcher=dispatcher).delivered == 1
    keys = [r.headers[KEY_HEADER] for r in server.requests]
    assert keys == ["A1:friendly_reminder:1:2026-11-10:email", "A1:friendly_reminder:1:2026-11-10:sms"]
    assert delivered == [keys[1]]                         # the SMS really went out
    assert rows(store, "SELECT id, channel, status FROM outbox") == [(1, "sms", "sent")]


def test_the_trial_bench_pushes_a_message_through_a_real_outbox_and_tick():
    with RecordingServer() as server, TickTrial(plugin_manager(), dispatcher_config(server.url)) as trial:
        server.reply(429, headers={"Retry-After": "90"})
        trial.add({"id": "A1", "contact": {"email": "a1@example.com"}})
        assert trial.tick().retrying == 1
        [row] = trial.outbox()
        retry_at = MONDAY + timedelta(seconds=90)
        assert (row["status"], row["tries"], row["next_attempt_at"]) == ("pending", 0, retry_at)
        assert trial.tick(row["next_attempt_at"]).delivered == 1
        assert [e.outcome for e in trial.history() if e.type == "contact_attempt"] == ["sent"]
        # the channel's clock is the tick's time: the signed webhook's timestamp says so
        stamp = int(server.requests[-1].headers["X-Arrears-Timestamp"])
        assert as_epoch(MONDAY) + 90 <= stamp <= as_epoch(MONDAY) + 95
