"""`arrears outbox unknown` / `arrears outbox resolve` on a real SQLite store: contacts left
`unknown` by a dispatcher that died are listed with the key to look up at the provider, and
each is settled once, audited, with its contact event."""
from __future__ import annotations

import getpass
import json
import threading
from datetime import timedelta

import pytest

from arrears.engine.cli import main
from arrears.engine.domain.errors import InputError
from arrears.engine.store import Store, outboxstore
from arrears.engine.tick import run_tick
from arrears.engine.tick.resolve import resolve_unknown
from arrears.policies import DEFAULT_POLICY
from tests.tick.tickkit import MONDAY, account, load, rows

pytestmark = pytest.mark.also_postgresql


def _unknown(store, policy, dispatcher, ids=("A1", "A2"), *, record_policy=True):
    """Queue a contact per account, claim each for a run that then dies, and let the next
    dispatch mark them `unknown` (as after a crash)."""
    if record_policy:      # as the tick's runtime does when it starts
        store.record_policy(policy.name, policy.version, policy.digest, DEFAULT_POLICY.read_text(), now=MONDAY)
    load(store, [account(i) for i in ids])
    assert run_tick(store, policy, MONDAY).actions_queued == len(ids)
    with store.transaction(now=MONDAY) as w:
        for row_id in range(1, len(ids) + 1):
            assert outboxstore.claim(w.conn, row_id, "dead/run", int(MONDAY.timestamp()))
    assert run_tick(store, policy, MONDAY + timedelta(minutes=1), dispatcher=dispatcher).unknown == len(ids)


def _events(store, key):
    return rows(store, "SELECT type FROM events WHERE event_key = :k", k=key)


def test_nothing_unknown(store, capsys):
    assert main(["outbox", "unknown", "--db", store.url]) == 0
    assert capsys.readouterr().out == "no contacts with an unknown outcome\n"


def test_unknown_contacts_are_listed_with_the_key_the_provider_saw(store, policy, dispatcher, server, capsys):
    _unknown(store, policy, dispatcher)
    assert server.requests == []                        # never re-sent
    assert main(["outbox", "unknown", "--db", store.url, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["account_id"], r["stage"], r["attempt"], r["channel"], r["idempotency_key"],
             r["claimed_at"], r["claimed_by"]) for r in listed] == [
        (1, "A1", "friendly_reminder", 1, "email", "A1:friendly_reminder:1:2026-11-10:email",
         "2026-11-23T10:00:00Z",
         "dead/run"),
        (2, "A2", "friendly_reminder", 1, "email", "A2:friendly_reminder:1:2026-11-10:email",
         "2026-11-23T10:00:00Z",
         "dead/run")]
    assert "may or may not have gone out" in listed[0]["last_error"]
    assert main(["outbox", "unknown", "--db", store.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["1", "A1", "friendly_reminder", "attempt", "1", "by", "email", "claimed",
                              "2026-11-23T10:00:00Z", "by", "dead/run"]
    assert out[1].strip() == "idempotency key A1:friendly_reminder:1:2026-11-10:email"
    assert out[-1].startswith("2 contacts with an unknown outcome; settle each with")


def test_resolve_settles_once_audited_with_its_contact_event(store, policy, dispatcher, capsys):
    _unknown(store, policy, dispatcher)
    assert main(["outbox", "resolve", "1", "--as", "sent", "--provider-id", "esp-77", "--note", "in the ESP log",
                 "--by", "ops", "--db", store.url]) == 0
    assert capsys.readouterr().out.startswith("outbox row 1: recorded as sent (audited: delivery.resolved.sent")
    assert rows(store, "SELECT status, provider_id, last_error FROM outbox WHERE id = 1") == [("sent", "esp-77", None)]
    _, history = store.get_account("A1")
    (event,) = [e for e in history if e.type == "contact_attempt"]
    assert (event.channel, event.stage, event.outcome, event.at) == ("email", "friendly_reminder", "sent", MONDAY)
    (body,) = [json.loads(b) for (b,) in rows(store, "SELECT body FROM audit WHERE kind = 'delivery.resolved.sent'")]
    assert body.pop("seals")["outbox"]["rows"] == 1       # the entry re-seals the row it settled
    assert body == {"outbox_id": 1, "stage": "friendly_reminder", "attempt": 1, "channel": "email",
                    "note": "in the ESP log", "provider_id": "esp-77", "by": "ops"}
    assert store.verify_audit().ok
    # a second attempt changes nothing: exit 1, the row, its event and the audit stay as they are
    assert main(["outbox", "resolve", "1", "--as", "failed", "--db", store.url]) == 1
    assert "outbox row 1 is not unknown (it is sent)" in capsys.readouterr().err
    assert rows(store, "SELECT status FROM outbox WHERE id = 1") == [("sent",)]
    assert len(_events(store, "outbox:1")) == 1
    # the other one never went out
    assert main(["outbox", "resolve", "2", "--as", "failed", "--note", "not in the ESP log", "--db", store.url]) == 0
    assert f"by {getpass.getuser()})" in capsys.readouterr().out       # --by defaults to the login name
    assert rows(store, "SELECT status, last_error FROM outbox WHERE id = 2") == [("failed", "not in the ESP log")]
    _, history = store.get_account("A2")
    assert [e.outcome for e in history if e.type == "contact_attempt"] == ["failed"]
    assert main(["outbox", "unknown", "--db", store.url]) == 0
    assert capsys.readouterr().out.startswith("no contacts with an unknown outcome")
    assert store.verify_audit().ok


def test_a_row_that_is_not_unknown_or_does_not_exist(store, policy, dispatcher, capsys):
    _unknown(store, policy, dispatcher, ids=("A1",))
    assert main(["outbox", "resolve", "99", "--as", "sent", "--db", store.url]) == 1
    assert "outbox row 99 is not unknown (no such row)" in capsys.readouterr().err


def test_without_the_policy_that_queued_it_the_channel_kind_is_unknown(store, policy, dispatcher, capsys):
    _unknown(store, policy, dispatcher, ids=("A1",), record_policy=False)
    assert main(["outbox", "resolve", "1", "--as", "sent", "--db", store.url]) == 1
    assert "cannot tell the kind of channel 'email'" in capsys.readouterr().err
    assert rows(store, "SELECT status FROM outbox") == [("unknown",)]
    # a caller holding the policy can still settle it
    resolve_unknown(store, policy, 1, sent=True, now=MONDAY + timedelta(hours=1))
    assert rows(store, "SELECT status FROM outbox") == [("sent",)]


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path, capsys):
    missing = tmp_path / "nope.db"
    assert main(["outbox", "unknown", "--db", f"sqlite:///{missing}"]) == 3
    assert "no database file" in capsys.readouterr().err and not missing.exists()


def test_two_operators_settling_the_same_row_at_once_settle_it_once(store, policy, dispatcher):
    _unknown(store, policy, dispatcher, ids=("A1",))
    barrier, outcomes = threading.Barrier(2), []

    def settle(sent: bool):
        with Store(store.url) as own:           # each operator with their own connection
            barrier.wait()
            try:
                resolve_unknown(own, None, 1, sent=sent, now=MONDAY + timedelta(hours=1), by=str(sent))
                outcomes.append("sent" if sent else "failed")
            except InputError as exc:
                outcomes.append(str(exc))

    threads = [threading.Thread(target=settle, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    settled = [o for o in outcomes if o in ("sent", "failed")]
    assert len(settled) == 1 and len(outcomes) == 2, outcomes
    assert rows(store, "SELECT status FROM outbox") == [(settled[0],)]
    assert len(_events(store, "outbox:1")) == 1
    assert len(rows(store, "SELECT seq FROM audit WHERE kind LIKE 'delivery.resolved.%'")) == 1
