"""Where the tick's settings come from: flags, then environment, then file, then defaults."""
from __future__ import annotations

from pathlib import Path

import pytest

from arrears.engine.tick.scheduler import make_trigger
from arrears.engine.tick.settings import ConfigError, load_settings
from arrears.policies import DEFAULT_POLICY


def test_defaults_run_out_of_the_box():
    s = load_settings(environ={})
    assert (s.database_url, s.policy_path, s.interval, s.cron) == (
        "sqlite:///arrears.db", DEFAULT_POLICY, 300, None)
    assert s.horizon == 300 and s.lease_ttl == 600 and s.dispatcher_config == {}


def test_flags_beat_environment_beat_file(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text('database_url = "sqlite:///file.db"\npolicy = "pol/p.yaml"\n'
                   '[tick]\ninterval = 900\nbatch_size = 500\n[tick.retry]\nmax_tries = 2\n'
                   '[channels.sms]\nurl = "http://x"\n[creditor]\nname = "Acme"\n')
    env = {"ARREARS_CONFIG": str(cfg)}
    s = load_settings(environ=env)
    assert (s.database_url, s.interval, s.batch_size, s.backoff.max_tries) == (
        "sqlite:///file.db", 900, 500, 2)
    assert s.policy_path == tmp_path / "pol" / "p.yaml"          # relative to the config file
    assert s.dispatcher_config == {"channels": {"sms": {"url": "http://x"}}, "creditor": {"name": "Acme"}}
    env.update({"ARREARS_DATABASE_URL": "sqlite:///env.db", "ARREARS_TICK_INTERVAL": "120",
                "ARREARS_POLICY": "env.yaml"})
    s = load_settings(environ=env)
    assert (s.database_url, s.interval, s.policy_path) == ("sqlite:///env.db", 120, Path("env.yaml"))
    s = load_settings(db="sqlite:///flag.db", interval=30, policy="flag.yaml", environ=env)
    assert (s.database_url, s.interval, s.policy_path, s.horizon) == (
        "sqlite:///flag.db", 30, Path("flag.yaml"), 30)


def test_yaml_config_and_cron(tmp_path):
    cfg = tmp_path / "a.yaml"
    cfg.write_text("tick:\n  cron: '*/15 * * * *'\n  misfire_grace_time: 120\nroutes: {review: task}\n")
    s = load_settings(config=str(cfg), environ={})
    assert s.cron == "*/15 * * * *" and s.misfire_grace_time == 120
    assert s.dispatcher_config == {"routes": {"review": "task"}}
    assert "CronTrigger" in type(make_trigger(s)).__name__
    assert "IntervalTrigger" in type(make_trigger(load_settings(environ={}))).__name__


def test_every_problem_is_reported_at_once(tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text('[tick]\ninterval = "soon"\ncron = "every day"\nbogus = 1\n[tick.retry]\nbase = 0\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config=str(cfg), environ={})
    text = str(err.value)
    for fragment in ("interval: expected a number", "not a valid crontab", "tick.bogus: unknown",
                     "tick.retry.base: must be at least 1"):
        assert fragment in text


@pytest.mark.parametrize("name,content,message", [
    ("a.ini", "x", "must end in .toml"),
    ("a.toml", "[[[", "not valid"),
    ("a.yaml", "- 1\n- 2\n", "expected a table"),
])
def test_unusable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(config=str(path), environ={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(config=str(tmp_path / "missing.toml"), environ={})


def test_scale_resend_after_must_be_shorter_than_page_timeout(tmp_path):
    """A page the broker lost is sent again `resend_after` after the last page finished; the
    leader fails the tick `page_timeout` after it: the other order never resends anything."""
    cfg = tmp_path / "a.toml"
    cfg.write_text("[scale]\npage_timeout = 30\n")             # the default resend_after is 60
    with pytest.raises(ConfigError) as err:
        load_settings(config=str(cfg), environ={})
    assert str(err.value).splitlines()[-1].endswith(
        "scale.resend_after: must be shorter than scale.page_timeout (30 s), got 60: the tick would fail "
        "before sending a lost page again")
    cfg.write_text("[scale]\npage_timeout = 30\nresend_after = 10\n")
    s = load_settings(config=str(cfg), environ={}).scale
    assert (s.page_timeout, s.resend_after) == (30, 10)
    assert load_settings(environ={}).scale.resend_after < load_settings(environ={}).scale.page_timeout
