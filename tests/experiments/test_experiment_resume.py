"""A paused experiment is resumed once the cause of its pause is gone (audited, each debtor back
under its recorded strategy at the next tick), and refused, nothing written, while the cause holds,
once it has ended, or after its end date."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from arrears.engine.domain.errors import InputError
from arrears.engine.experiments import lifecycle
from arrears.engine.store import Store
from arrears.engine.tick.runner import run_tick
from tests.experiments.test_experiment_failures import TAMPER, _digests, _started
from tests.tick.tickkit import NOW, rows

pytestmark = pytest.mark.also_postgresql

UNTAMPER = ("UPDATE policy_versions SET source = replace(source, 'max_attempts: 9', 'max_attempts: 3') "
            "WHERE digest = :digest")


@pytest.fixture
def store(db_url):
    with Store(db_url) as s:
        yield s


def _sql(store, sql: str, **params) -> int:
    with store.engine.begin() as conn:
        return conn.execute(text(sql), params).rowcount


def _audited(store, kind: str) -> list:
    return rows(store, f"SELECT body FROM audit WHERE kind = '{kind}' ORDER BY seq")


def test_resumed_once_the_tampered_challenger_is_restored(store, tmp_path):
    champion, challenger, n = _started(store, tmp_path)
    run_tick(store, champion, NOW)                                  # every debtor assigned
    row = store.experiments.get("sms-first")
    arms_before = store.experiments.account_arms(row["id"])
    assert {arm for _, _, arm, _ in arms_before} == {"champion", "sms-first"}
    assert _sql(store, TAMPER, digest=challenger.digest) == 1
    run_tick(store, champion, NOW)
    assert store.experiments.get("sms-first")["status"] == "paused"
    # The cause holds: refused with the tick's own reason, nothing written.
    seq = rows(store, "SELECT max(seq) FROM audit")[0][0]
    with pytest.raises(InputError, match="cannot be resumed, the cause still holds: challenger 'sms-first'.*"
                                         "edited in the database"):
        lifecycle.resume(store, "sms-first", by="test", now=NOW)
    assert rows(store, "SELECT max(seq) FROM audit")[0][0] == seq
    assert store.experiments.get("sms-first")["status"] == "paused"
    # Restored: resumed, audited with the reason it was paused for, every account due again.
    assert _sql(store, UNTAMPER, digest=challenger.digest) == 1
    resumed = lifecycle.resume(store, "sms-first", by="test", now=NOW)
    assert (resumed["status"], resumed["paused_reason"]) == ("running", None)
    body = _audited(store, "experiment.resumed")
    assert len(body) == 1 and "edited in the database" in body[0][0] and '"by":"test"' in body[0][0]
    assert rows(store, "SELECT count(*) FROM accounts WHERE next_evaluation_at IS NULL")[0][0] == n
    # The next tick decides each debtor under the strategy recorded before the pause.
    summary = run_tick(store, champion, NOW.replace(minute=30))
    assert summary.evaluated == n
    assert store.experiments.account_arms(row["id"]) == arms_before
    latest = rows(store, "SELECT d.strategy, d.policy_digest FROM decisions d JOIN accounts a "
                         "ON a.decision_id = d.id")
    assert {(s, p) for s, p in latest} == {("champion", champion.digest), ("sms-first", challenger.digest)}
    assert _digests(store) == {champion.digest, challenger.digest}


def test_refused_when_running_ended_or_past_its_end(store, tmp_path):
    champion, challenger, _ = _started(store, tmp_path)
    with pytest.raises(InputError, match="is running: only a paused experiment can be resumed"):
        lifecycle.resume(store, "sms-first", by="test", now=NOW)
    _sql(store, TAMPER, digest=challenger.digest)
    run_tick(store, champion, NOW)
    _sql(store, UNTAMPER, digest=challenger.digest)
    after_end = datetime(2027, 3, 2, 9, tzinfo=timezone.utc)        # the file's end is 2027-03-01
    with pytest.raises(InputError, match="ended on 2027-03-01 .*cannot be resumed: stop it"):
        lifecycle.resume(store, "sms-first", by="test", now=after_end)
    lifecycle.stop(store, "sms-first", by="test", now=NOW)
    with pytest.raises(InputError, match="is stopped: only a paused experiment can be resumed; it has ended"):
        lifecycle.resume(store, "sms-first", by="test", now=NOW)
    with pytest.raises(InputError, match="no experiment called 'nope'"):
        lifecycle.resume(store, "nope", by="test", now=NOW)
    assert _audited(store, "experiment.resumed") == []
