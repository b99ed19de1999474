"""A company's own profiles directory (config, CLI, API), refused loosening, and the shipped
profiles as released: they can only ever tighten."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arrears.api import create_app
from arrears.engine import Account, Event, decide, load_policy
from arrears.engine.domain.errors import PolicyError
from arrears.engine.policy import baselinegen
from arrears.engine.policy.baseline import SHIPPED
from arrears.engine.tick.settings import load_settings
from arrears.policies import DEFAULT_POLICY, PROFILES_DIR
from tests.api.apikit import KEYS, Api

ROOT = Path(__file__).resolve().parents[1]
UTC = timezone.utc
NY = "America/New_York"

STRICTER = """\
id: acme
name: ACME's own rules
applies_to:
  jurisdictions: [US]
rules:
  - id: acme.calls-in-office-hours
    kind: contact_window
    channels: [call, email]
    weekdays: {start: "09:00", end: "17:00"}
    weekends: closed
    source: ACME collections manual 4.2
"""

LOOSER = STRICTER + """\
  - id: acme.final-letters
    kind: cease_communication
    allowed_actions: [write_off]
    channels: [letter]
    source: ACME collections manual 9
"""


@pytest.fixture
def company(tmp_path):
    folder = tmp_path / "company"
    folder.mkdir()
    (folder / "acme.yaml").write_text(STRICTER)
    return folder


def local(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def us_account():
    return Account.from_dict({"id": "A", "currency": "USD", "jurisdiction": "US-TX", "timezone": NY,
                              "contact": {"email": "a@example.com"},
                              "invoices": [{"id": "I1", "amount": "800.00", "due_date": "2026-11-16"}]})


def test_the_recorded_baseline_is_the_shipped_profiles():
    assert baselinegen.current() == SHIPPED, f"run {baselinegen.COMMAND}"
    assert baselinegen.main(["--check"]) == 0


def test_a_company_profile_tightens_the_hours(company):
    now = local(NY, 2026, 11, 24, 8, 30)                     # house hours open at 08:00
    plain = decide(us_account(), [], load_policy(DEFAULT_POLICY), now)
    assert plain.action.not_before == now
    strict = load_policy(DEFAULT_POLICY, company_profiles=company)
    d = decide(us_account(), [], strict, now)
    assert d.action.not_before == local(NY, 2026, 11, 24, 9, 0)
    assert "acme" in d.profiles and d.suppressions[0].rule == "acme.calls-in-office-hours"


def test_a_company_profile_that_would_loosen_a_stop_is_refused_at_its_position(company):
    (company / "acme.yaml").write_text(LOOSER)
    with pytest.raises(PolicyError) as err:
        load_policy(DEFAULT_POLICY, company_profiles=company)
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.col) == (str(company / "acme.yaml"), 13, 11)
    assert "lets steps through stop.cease_communication" in problem.message


def test_a_company_profile_cannot_replace_a_shipped_one(company):
    (company / "acme.yaml").write_text(STRICTER.replace("id: acme\n", "id: us-ma\n", 1))
    with pytest.raises(PolicyError, match="duplicate profile id 'us-ma'.*cannot replace a shipped one"):
        load_policy(DEFAULT_POLICY, company_profiles=company)


def test_a_shipped_profile_edited_to_loosen_is_refused(tmp_path):
    shipped = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, shipped)
    path = shipped / "us-ma.yaml"
    path.write_text(path.read_text().replace('weekdays: {start: "08:00"', 'weekdays: {start: "06:00"'))
    with pytest.raises(PolicyError) as err:
        load_policy(DEFAULT_POLICY, profiles_dir=shipped)
    (problem,) = err.value.problems
    assert problem.file == str(path) and "'us-ma' differs from the one released" in problem.message
    assert "--profiles DIR" in problem.message


def test_a_shipped_profile_removed_is_refused(tmp_path):
    shipped = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, shipped)
    (shipped / "au-accc-asic.yaml").unlink()
    with pytest.raises(PolicyError, match="the shipped profile 'au-accc-asic' is missing"):
        load_policy(DEFAULT_POLICY, profiles_dir=shipped)


def test_comments_in_a_shipped_profile_do_not_count_as_an_edit(tmp_path):
    shipped = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, shipped)
    path = shipped / "us-ma.yaml"
    path.write_text(path.read_text() + "# reviewed by legal, 2026-11\n")
    assert load_policy(DEFAULT_POLICY, profiles_dir=shipped).profiles["us-ma"].digest == SHIPPED["us-ma"]


def test_the_tick_settings_take_the_directory_from_flag_environment_and_config(company, tmp_path):
    assert load_settings(environ={}).profiles_path is None
    assert load_settings(profiles=str(company), environ={}).profiles_path == company
    assert load_settings(environ={"ARREARS_PROFILES": str(company)}).profiles_path == company
    config = tmp_path / "arrears.toml"
    config.write_text('profiles = "company"\n')
    assert load_settings(config=str(config), environ={}).profiles_path == company
    from arrears.engine.tick.settings import ConfigError
    with pytest.raises(ConfigError, match="profiles: no such directory"):
        load_settings(profiles=str(tmp_path / "none"), environ={})


def test_the_api_decides_with_the_configured_directory(company, tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'a.db'}", "profiles": str(company),
                      "api": {"keys": {KEYS["admin"]: "admin"}}})
    try:
        api = Api(app)
        body = {"account": {"id": "A", "currency": "USD", "jurisdiction": "US-TX", "timezone": NY,
                            "contact": {"email": "a@example.com"},
                            "invoices": [{"id": "I1", "amount": "800.00", "due_date": "2026-11-16"}]},
                "events": [], "at": "2026-11-24T13:30:00Z"}                 # 08:30 in New York
        r = api.post("/v1/decide", body)
        assert r.status_code == 200
        assert r.get_json()["action"]["not_before"] == "2026-11-24T14:00:00Z"
        assert "acme" in r.get_json()["profiles"]
    finally:
        app.extensions["arrears"].close()


def test_the_cli_takes_the_directory(company, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ARREARS_PROFILES", None)
    run = [sys.executable, "-m", "arrears.engine"]
    ok = subprocess.run(run + ["validate", str(DEFAULT_POLICY), "--profiles", str(company)],
                        env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (company / "acme.yaml").write_text(LOOSER)
    bad = subprocess.run(run + ["validate", str(DEFAULT_POLICY), "--profiles", str(company)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert bad.stdout.startswith(f"{company / 'acme.yaml'}:13:11: a cease_communication rule")
    missing = subprocess.run(run + ["validate", str(DEFAULT_POLICY), "--profiles", str(tmp_path / "x")],
                             env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == f"arrears validate: --profiles: no such directory: {tmp_path / 'x'}"


# ---- New York City: hours whoever collects ---------------------------------------------------

def test_new_york_city_hours_bind_creditors_who_are_not_fdcpa_collectors():
    text = textwrap.dedent("""\
        metadata: {name: nyc, version: "1", default_timezone: America/New_York}
        aging:
          buckets: [{name: current, max_days: 0}, {name: late, min_days: 1}]
        channels: {call: {kind: call}}
        templates: {t: {languages: [en]}}
        escalation:
          stages:
            - {id: calls, days_past_due: 1, action: call, channels: [call], template: t}
        compliance: {profiles: [auto], fdcpa_applies: false}
        """)
    pol = load_policy(text, filename="nyc.yaml")
    acc = Account.from_dict({"id": "N", "currency": "USD", "jurisdiction": "US-NY-NYC", "timezone": NY,
                             "contact": {"phone": "+12125550100"},
                             "invoices": [{"id": "I1", "amount": "800.00", "due_date": "2026-11-16"}]})
    now = local(NY, 2026, 11, 24, 7, 0)
    d = decide(acc, [], pol, now)
    assert "us-fdcpa-regf" not in d.profiles
    assert d.action.not_before == local(NY, 2026, 11, 24, 8, 0)
    assert [s.rule for s in d.suppressions] == ["us-nyc.hours"]
    later = decide(acc, [Event.from_dict({"type": "contact_outcome", "at": (now - timedelta(days=9)).isoformat(),
                                          "channel": "call", "outcome": "no_answer"})],
                   pol, local(NY, 2026, 11, 24, 21, 0))
    assert later.action.not_before == local(NY, 2026, 11, 25, 8, 0)


def test_loaded_profiles_are_reused_until_a_file_changes(company):
    """Checking a policy as its author types reuses the profiles; a changed, added or removed
    file is read again (the cache is keyed by the files' names and contents)."""
    from arrears.engine.policy.profiles import load_profiles
    first = load_profiles(PROFILES_DIR, company)
    assert load_profiles(PROFILES_DIR, company)["acme"] is first["acme"]
    (company / "acme.yaml").write_text(STRICTER.replace("ACME's own rules", "ACME's rules, revised"))
    assert load_profiles(PROFILES_DIR, company)["acme"].name == "ACME's rules, revised"
    (company / "acme.yaml").write_text(LOOSER)
    with pytest.raises(PolicyError):
        load_profiles(PROFILES_DIR, company)
    (company / "acme.yaml").unlink()
    assert "acme" not in load_profiles(PROFILES_DIR, company)
