"""Config typos are refused at start, every problem in one message (issue 15): an unknown
route name or kind, a channel section no plugin provides, a bad channel setting, bad
templates and time zone are listed together."""
from __future__ import annotations

import pytest

from arrears.engine.store import Store
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import load_settings
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.errors import ChannelConfigError
from arrears.plugins.testing import plugin_manager

POLICY_CHANNELS = ("email", "sms", "letter", "call", "crm", "review")


def test_every_problem_is_reported_at_once():
    config = {"channels": {"emial": {}, "sms": {"url": "ftp://x"}},
              "routes": {"reveiw": "task", "crm": "fax"},
              "templates": {"dir": ["x"]}, "default_timezone": "Mars/Olympus"}
    with pytest.raises(ChannelConfigError) as info:
        Dispatcher(plugin_manager(), config, channel_names=POLICY_CHANNELS)
    problems = info.value.problems
    assert any(p.startswith("channels.emial: no plugin provides this channel kind") for p in problems)
    assert any(p.startswith("channels.sms: url must be an http:// or https:// URL") for p in problems)
    assert any(p.startswith("routes.reveiw: the policy has no channel of that name; did you mean 'review'?")
               for p in problems)
    assert any(p.startswith("routes.crm: no configured channel of kind 'fax'") for p in problems)
    assert any(p.startswith("templates: unknown setting(s) ['dir']") for p in problems)
    assert any(p.startswith("default_timezone: 'Mars/Olympus'") for p in problems)
    assert len(problems) == 7           # routes.reveiw also names a kind (task) nobody configured
    assert str(info.value).count("\n  - ") == len(problems)


def test_route_names_are_checked_only_against_a_known_policy(tmp_path):
    config = {"channels": {"task": {"queue_db": str(tmp_path / "q.db"), "daily_capacity": 5}},
              "routes": {"anything": "task"}}
    Dispatcher(plugin_manager(), config)                  # no policy given: the kind is checked only


def test_the_runtime_refuses_a_route_typo_at_start(tmp_path):
    cfg = tmp_path / "arrears.toml"
    cfg.write_text('[routes]\nrevew = "email"\n'
                   '[channels.email]\nhost = "127.0.0.1"\nfrom_address = "a@example.com"\n')
    settings = load_settings(db=f"sqlite:///{tmp_path / 'a.db'}", config=str(cfg))
    with pytest.raises(ChannelConfigError, match=r"routes.revew: the policy has no channel of that name; "
                                                 r"did you mean 'review'\?"):
        Runtime(settings, plugin_manager=plugin_manager())
