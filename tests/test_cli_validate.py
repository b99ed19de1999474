"""`arrears validate`: files and directories, ok lines, located problems, exit codes."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import arrears.engine.cli
from arrears.engine.cli import main

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "policies" / "default.yaml"
# Other subcommands are written in parallel; register only those that exist so this
# test exercises `validate` through the real `main` either way.
PRESENT = tuple(c for c in arrears.engine.cli.COMMANDS if importlib.util.find_spec(f"arrears.engine.cli.{c}"))
EVERY_COMMAND_PRESENT = PRESENT == arrears.engine.cli.COMMANDS
BOOT = ("import sys, arrears.engine.cli as c; c.COMMANDS = %r; sys.exit(c.main(sys.argv[1:]))" % (PRESENT,))


@pytest.fixture(autouse=True)
def only_present_commands(monkeypatch):
    monkeypatch.setattr(arrears.engine.cli, "COMMANDS", PRESENT)


@pytest.fixture
def policies(tmp_path):
    """A policy directory: one good policy, one broken, a broken policy test, a profiles
    subfolder with a file of no kind, and a file that is no YAML (left out)."""
    shutil.copy(DEFAULT, tmp_path / "good.yaml")
    (tmp_path / "bad.yaml").write_text(DEFAULT.read_text().replace("kind: sms", "kind: smss")
                                       .replace("channels:\n  email", "chanels:\n  email"))
    (tmp_path / "good_test.yaml").write_text("not: [a policy\n")      # a policy test file
    (tmp_path / "notes.txt").write_text("::")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "uk.yaml").write_text("::: broken\n")
    return tmp_path


def test_valid_file_prints_ok_line(capsys):
    assert main(["validate", str(DEFAULT)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"ok  {DEFAULT}  default 1.0.0 ")
    assert out[-1] == "1 file checked, all valid"


def test_directory_checks_every_yaml_file_subfolders_included(policies, capsys):
    assert main(["validate", str(policies)]) == 1
    out = capsys.readouterr().out.splitlines()
    bad = policies / "bad.yaml"
    assert out[:3] == [
        f"{bad}:10:1: missing required key 'channels'",
        f"{bad}:78:1: unknown key 'chanels'; did you mean 'channels'?",
        f"ok  {policies / 'good.yaml'}  default 1.0.0 " + out[2].rsplit(" ", 1)[1],
    ]
    # The policy test and the profile in its subfolder are checked too (notes.txt is no YAML file).
    assert out[3].startswith(f"{policies / 'good_test.yaml'}:2:1: YAML syntax error: ")
    profile = policies / "profiles" / "uk.yaml"
    assert out[4].startswith(f"{profile}:1:1: cannot tell what kind of file this is")
    assert out[5:] == ["4 files checked: 1 valid, 3 with 4 problems"]


def test_each_file_goes_through_load_policy(policies, monkeypatch, capsys):
    import arrears.engine.policy.load

    seen = []
    real = arrears.engine.policy.load.load_checked      # load_policy's own loader, with positions
    monkeypatch.setattr(arrears.engine.policy.load, "load_checked",
                        lambda path, **kw: seen.append(Path(path)) or real(path, **kw))
    main(["validate", str(policies / "good.yaml"), str(policies)])
    assert seen == [policies / "good.yaml", policies / "bad.yaml"]   # listed once, in order


def test_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["validate", str(DEFAULT), str(tmp_path / "nope.yaml")]) == 2
    captured = capsys.readouterr()
    assert f"no such file or directory: {tmp_path / 'nope.yaml'}" in captured.err
    assert captured.out == ""


def test_directory_without_policies_is_a_usage_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "no YAML files (*.yaml, *.yml) in directory" in capsys.readouterr().err


def test_no_path_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["validate"])
    assert exit_info.value.code == 2


def test_yaml_syntax_error_is_located(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("metadata:\n  name: [x\n")
    assert main(["validate", str(broken)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{broken}:3:1: YAML syntax error: ")


def test_runs_as_a_subprocess(policies):
    command = [sys.executable, "-m", "arrears.engine"] if EVERY_COMMAND_PRESENT else [sys.executable, "-c", BOOT]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(command + ["validate", str(policies / "bad.yaml"), str(DEFAULT)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{policies / 'bad.yaml'}:10:1: missing required key 'channels'"
    assert lines[2].startswith(f"ok  {DEFAULT}  default 1.0.0 ")
    assert lines[-1] == "2 files checked: 1 valid, 1 with 2 problems"


def test_the_shipped_directory_is_valid_goals_file_included(capsys):
    """README's `arrears validate policies/`: every shipped file, subfolders included, checks out."""
    assert main(["validate", str(REPO / "policies")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == f"ok  {REPO / 'policies' / 'goals.yaml'}  goals file, 5 goals"
    assert out[-1] == "13 files checked, all valid"


def test_a_goals_file_is_checked_against_the_policies_buckets(tmp_path, capsys):
    shutil.copy(DEFAULT, tmp_path / "default.yaml")
    goals = (REPO / "policies" / "goals.yaml").read_text().replace('{bucket: "90+"}', '{bucket: "91+"}')
    (tmp_path / "goals.yaml").write_text(goals)
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    line = goals.splitlines().index('    metric: {bucket: "91+"}') + 1
    assert out[1].startswith(f"{tmp_path / 'goals.yaml'}:{line}:")
    assert "91+" in out[1]
    assert out[-1] == "2 files checked: 1 valid, 1 with 1 problem"
