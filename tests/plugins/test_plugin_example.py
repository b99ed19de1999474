"""The example plugin package (examples/arrears-teams-channel), in this test session.

The package is imported from its path (no pip install) and registered on a fresh plugin
manager; its own tests are run here too; and its packaging metadata is checked.
"""
from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest

from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import make_message, plugin_manager

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "arrears-teams-channel"
EXAMPLE_TESTS = EXAMPLE / "tests" / "test_teams_channel.py"


@pytest.fixture
def teams(monkeypatch):
    """The example's plugin module, imported from its source directory."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import arrears_teams_channel
    return arrears_teams_channel


def _example_test_module():
    spec = importlib.util.spec_from_file_location("example_teams_tests", EXAMPLE_TESTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _example_test_names():
    source = EXAMPLE_TESTS.read_text(encoding="utf-8")
    return [line.split("(")[0][4:] for line in source.splitlines() if line.startswith("def test_")]


@pytest.mark.parametrize("name", _example_test_names())
def test_the_example_packages_own_tests(teams, name):
    getattr(_example_test_module(), name)()


def test_pyproject_declares_the_entry_point_and_package_data(teams):
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    assert project["name"] == "arrears-teams-channel"
    assert project["entry-points"] == {"arrears": {"teams": "arrears_teams_channel"}}
    assert any(dep.startswith("arrears") for dep in project["dependencies"])
    module_name = project["entry-points"]["arrears"]["teams"]
    assert module_name == teams.__name__
    assert project["version"] == teams.__version__
    assert meta["tool"]["setuptools"]["packages"] == [module_name]
    shipped = meta["tool"]["setuptools"]["package-data"][module_name]
    assert shipped == ["templates/*.j2"] and list((EXAMPLE / module_name / "templates").glob("*.j2"))
    assert (EXAMPLE / "README.md").is_file()


def test_registered_on_a_fresh_manager_it_delivers_a_card(teams, http_server):
    pm = plugin_manager(teams)
    dispatcher = Dispatcher(pm, {"channels": {"teams": {"webhook_url": http_server.url + "/x"}},
                                 "routes": {"review": "teams"}})
    message = make_message(channel="review", channel_kind="task", template="write_off_review",
                           stage="write_off_review", recipient=make_message().recipient)
    result = dispatcher.deliver(message)
    assert result.ok, result.detail
    card = http_server.requests[0].json()["attachments"][0]["content"]
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts == {"Account": "A1", "Stage": "write_off_review (attempt 1)",
                     "Key": "A1:write_off_review:1:review"}
