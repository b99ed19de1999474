"""The plugin manager: built-ins first, entry points, overriding, listing, and the CLI."""
from __future__ import annotations

import json

import pytest

from arrears.engine.cli import main
from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel
from arrears.plugins.channels.email import EmailChannel
from arrears.plugins.errors import PluginError
from arrears.plugins.manager import BUILTIN_PLUGINS, get_plugin_manager, list_plugins
from arrears.plugins.message import DeliveryResult
from arrears.plugins.registry import collect_channels
from arrears.plugins.testing import plugin_manager
from tests.plugins.pluginkit import install_example, install_fake_distribution


@pytest.fixture
def example_installed(tmp_path, monkeypatch):
    """The example package importable from its path and advertised through its real
    entry-point table (read from its pyproject.toml), without pip."""
    return install_example(tmp_path, monkeypatch)


def test_builtins_are_registered_first_and_provide_every_policy_kind():
    pm = get_plugin_manager(load_entrypoints=False)
    names = [name for name, _ in pm.list_name_plugin()]
    assert names == list(BUILTIN_PLUGINS)
    assert set(collect_channels(pm)) == {"email", "sms", "letter", "call", "webhook", "task"}
    pm.check_pending()                                   # every hookimpl matches a spec


def test_no_module_level_manager():
    assert get_plugin_manager(load_entrypoints=False) is not get_plugin_manager(load_entrypoints=False)


def test_a_user_plugin_overrides_a_builtin_channel():
    class MyEmail(Channel):
        kind, name = "email", "email through our API"

        def deliver(self, message):
            return DeliveryResult.sent("api-1")

    class Plugin:
        @hookimpl
        def arrears_channels(self):
            return [MyEmail()]

    entries = collect_channels(plugin_manager(Plugin()))
    assert isinstance(entries["email"].channel, MyEmail)
    assert entries["email"].overrides == ("arrears.plugins.channels.email",)
    assert isinstance(collect_channels(plugin_manager())["email"].channel, EmailChannel)


def test_the_last_registered_plugin_wins_between_plugins():
    def plugin(label):
        class C(Channel):
            kind, name = "sms", label

        class P:
            @hookimpl
            def arrears_channels(self):
                return [C()]
        return P()

    entries = collect_channels(plugin_manager(plugin("first"), plugin("second")))
    assert entries["sms"].channel.name == "second" and len(entries["sms"].overrides) == 2


def test_bad_channel_objects_are_reported():
    class Plugin:
        @hookimpl
        def arrears_channels(self):
            return [object()]

    with pytest.raises(PluginError, match="not an arrears.plugins.channels.Channel"):
        collect_channels(plugin_manager(Plugin()))


def test_entry_points_are_loaded_after_builtins(example_installed):
    pm = get_plugin_manager()
    names = [name for name, _ in pm.list_name_plugin()]
    assert names[:len(BUILTIN_PLUGINS)] == list(BUILTIN_PLUGINS) and "teams" in names
    info = {p.name: p for p in list_plugins(pm)}["teams"]
    assert (info.distribution, info.version, info.builtin) == ("arrears-teams-channel", "0.1.0", False)
    assert info.module == "arrears_teams_channel"
    assert info.hooks == ("arrears_channels", "arrears_facts", "arrears_payment_link",
                          "arrears_template_dirs")
    assert collect_channels(pm)["teams"].plugin == "teams"


def test_a_broken_entry_point_is_a_clear_error(tmp_path, monkeypatch):
    install_fake_distribution(tmp_path, "arrears-broken", "1.0", {"broken": "no_such_module_xyz"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="cannot load a plugin .*no_such_module_xyz"):
        get_plugin_manager()


def test_cli_lists_plugins_and_channels(example_installed, capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "arrears.plugins.channels.email  (built-in)" in out
    assert "teams  (arrears-teams-channel 0.1.0)" in out
    assert "hooks: arrears_channels, arrears_facts, arrears_payment_link, arrears_template_dirs" in out
    assert "teams      Microsoft Teams card  <- teams" in out
    assert "webhook    signed webhook  <- arrears.plugins.channels.webhook" in out
    assert "x_teams_strategic_customer (bool) <- teams: The debtor is on the" in out


def test_cli_json_and_builtins_only(capsys):
    assert main(["plugins", "--format", "json", "--no-entrypoints"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in report["plugins"]] == list(BUILTIN_PLUGINS)
    assert {c["kind"] for c in report["channels"]} == {"email", "sms", "letter", "call", "webhook", "task"}
    assert report["facts"] == []


def test_cli_reports_a_broken_plugin(tmp_path, monkeypatch, capsys):
    install_fake_distribution(tmp_path, "arrears-broken", "1.0", {"broken": "no_such_module_xyz"})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["plugins"]) == 2
    assert "no_such_module_xyz" in capsys.readouterr().err
