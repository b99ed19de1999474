"""The warnings where they are shown: `arrears validate` (--strict, --against, --db), `arrears test`
(events at their line), `arrears simulate` (JSON), POST /v1/policies:validate; and the stage
rename mapping end to end: activated, the next decision continues instead of restarting."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from arrears.engine.cli import main
from arrears.engine.decisions.core import decide
from arrears.engine.domain.model import Account, Event
from arrears.engine.policy.load import load_policy
from arrears.engine.policy.registry import PolicyRegistry
from arrears.engine.store import Store
from arrears.policies import DEFAULT_POLICY
from tests.policyedits import RENAMED, SOURCE, VIP_GRACE_20, edited, line_of

NOW = datetime(2026, 11, 24, 10, tzinfo=timezone.utc)
MAPPING = "\nstage_renames: {friendly_reminder: gentle_reminder}\n"


def _write(tmp_path, name, text) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _account() -> Account:
    return Account.from_dict({"id": "A-1", "currency": "EUR", "debtor_type": "consumer",
                              "timezone": "Europe/London", "contact": {"email": "a@example.com"},
                              "invoices": [{"id": "I-1", "amount": "1000.00", "due_date": "2026-11-17"}]})


def _history() -> list[Event]:
    """A pre-due reminder, and the first friendly reminder two days ago (the second is due in 7)."""
    return [Event.from_dict({"type": "contact_attempt", "at": "2026-11-14T09:00:00Z", "channel": "email",
                             "outcome": "sent", "stage": "pre_due_reminder"}),
            Event.from_dict({"type": "contact_attempt", "at": "2026-11-22T09:00:00Z", "channel": "email",
                             "outcome": "sent", "stage": "friendly_reminder"})]


@pytest.fixture
def store(db_url):
    """A store with the shipped policy active and one account part-way through the ladder."""
    with Store(db_url) as s:
        policy = load_policy(DEFAULT_POLICY)
        s.record_policy(policy.name, policy.version, policy.digest, SOURCE, now=NOW)
        s.upsert_accounts([_account()], now=NOW)
        s.append_events([("A-1", e, None) for e in _history()], now=NOW)
        yield s


# -- arrears validate ------------------------------------------------------------------------------------
def test_validate_prints_warnings_and_only_strict_fails(tmp_path, capsys):
    path = _write(tmp_path, "vip.yaml", edited(VIP_GRACE_20))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    line = line_of(edited(VIP_GRACE_20), "id: friendly_reminder") + 1
    assert f"{path}:{line}:22: warning W-stages-same-day: stage 'friendly_reminder'" in out
    assert out.strip().endswith("all valid; 1 warning")
    assert main(["validate", "--strict", str(path)]) == 1


def test_strict_passes_when_every_warning_is_silenced(tmp_path, capsys):
    silence = "\nsilence:\n  - {warning: W-stages-same-day, at: friendly_reminder, reason: on purpose}\n"
    path = _write(tmp_path, "vip.yaml", edited(VIP_GRACE_20) + silence)
    assert main(["validate", "--strict", str(path)]) == 0
    out = capsys.readouterr().out
    assert "[silenced: on purpose]" in out and out.strip().endswith("1 warning (1 silenced)")


def test_validate_against_a_file(tmp_path, capsys):
    path = _write(tmp_path, "renamed.yaml", edited(RENAMED))
    assert main(["validate", str(path), "--against", str(DEFAULT_POLICY)]) == 0
    out = capsys.readouterr().out
    assert "warning W-stage-ids-changed: stage 'friendly_reminder' of the active policy looks renamed" in out
    assert "accounts part-way through the ladder" in out


def test_validate_against_the_active_policy_counts_the_accounts(store, db_url, tmp_path, capsys):
    path = _write(tmp_path, "renamed.yaml", edited(RENAMED))
    assert main(["validate", str(path), "--against", "active", "--db", db_url, "--strict"]) == 1
    assert "1 account in the store with contacts under it" in capsys.readouterr().out
    mapped = _write(tmp_path, "mapped.yaml", edited(RENAMED) + MAPPING)
    assert main(["validate", str(mapped), "--against", "active", "--db", db_url, "--strict"]) == 0
    assert "warning" not in capsys.readouterr().out


def test_validate_db_reads_the_stored_contacts(store, db_url, tmp_path, capsys):
    # A policy without the friendly reminder: the stored contact under it would not count.
    text = edited(RENAMED)
    path = _write(tmp_path, "renamed.yaml", text)
    assert main(["validate", str(path), "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert ("warning W-event-unknown-stage: 1 contact event in the store names stage "
            "'friendly_reminder'") in out


def test_against_active_without_an_active_policy_is_a_usage_error(db_url, tmp_path, capsys):
    Store(db_url).close()
    assert main(["validate", str(DEFAULT_POLICY), "--against", "active", "--db", db_url]) == 2
    assert "no policy is active" in capsys.readouterr().err


# -- arrears test ------------------------------------------------------------------------------------------
SUITE = """policy: default.yaml
defaults:
  now: "2026-11-24T10:00:00Z"
  account:
    currency: EUR
    timezone: Europe/London
    contact: {email: a@example.com}
    invoices: [{id: I1, amount: "1000.00", due_date: "2026-11-17"}]
cases:
  - name: a contact under an old stage id does not count
    events:
      - {type: contact_attempt, at: "2026-11-22T09:00:00Z", channel: email, outcome: sent,
         stage: friendly_remider}
    expect: {stage: friendly_reminder}
"""


def test_policy_test_events_naming_an_unknown_stage_warn_at_the_event_line(tmp_path, capsys):
    shutil.copy(DEFAULT_POLICY, tmp_path / "default.yaml")
    suite = _write(tmp_path, "mine_test.yaml", SUITE)
    assert main(["test", str(suite)]) == 0
    out = capsys.readouterr().out
    line = line_of(SUITE, "stage: friendly_remider")
    assert f"{suite}:{line}:" in out and "warning W-event-unknown-stage" in out
    assert "'friendly_remider'" in out
    assert main(["test", "--strict", str(suite)]) == 1
    capsys.readouterr()
    fixed = _write(tmp_path, "mine_test.yaml", SUITE.replace("friendly_remider", "friendly_reminder"))
    assert main(["test", "--strict", str(fixed)]) == 0
    assert "warning" not in capsys.readouterr().out


# -- arrears simulate --------------------------------------------------------------------------------------
def test_simulate_lists_the_candidates_warnings_in_its_json(store, db_url, tmp_path, capsys):
    path = _write(tmp_path, "renamed.yaml", edited(RENAMED))
    code = main(["simulate", "--candidate", str(path), "--db", db_url, "--at", "2026-11-24T10:00:00Z",
                 "--format", "json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    found = {w["rule"]: w for w in data["warnings"]}
    assert set(found) == {"W-stage-ids-changed", "W-event-unknown-stage"}     # the stored contact's stage
    assert found["W-stage-ids-changed"]["silenced"] is False
    assert "1 account in the store" in found["W-stage-ids-changed"]["detail"]


# -- the rename mapping end to end -------------------------------------------------------------------------
def _next(store, registry):
    account, events = store.get_account("A-1")
    return decide(account, events, registry.active(force=True), NOW)


def test_activating_a_renamed_policy_with_the_mapping_continues_the_ladder(store, tmp_path):
    registry = PolicyRegistry(store, DEFAULT_POLICY)
    before = _next(store, registry)
    assert (before.stage, before.action) == ("friendly_reminder", None)     # attempt 2 waits 7 days
    renamed = edited(RENAMED)
    registry.activate(registry.load(renamed, "renamed.yaml"), renamed)
    restarted = _next(store, registry)
    assert restarted.stage == "gentle_reminder"                             # without it: again, now
    assert (restarted.action.stage, restarted.action.attempt) == ("gentle_reminder", 1)
    mapped = renamed + MAPPING
    registry.activate(registry.load(mapped, "mapped.yaml"), mapped)
    continued = _next(store, registry)
    assert (continued.stage, continued.action) == ("gentle_reminder", None)  # waits, as before
    assert store.active_policy()["source"] == mapped
