"""`arrears validate` recognises each file's kind (policy, policy test, profile, goals file) and
checks it against that kind's own schema; a file of no kind it knows is a finding naming it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arrears.engine.cli import main
from arrears.engine.cli.filekinds import KINDS, distinctive_keys, recognise
from arrears.engine.policy.validation import SCHEMA_DIR

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "policies"
PROFILE = (SHIPPED / "profiles" / "us-limitations.yaml").read_text(encoding="utf-8")
CONSOLE_SCRIPT = Path(sys.executable).with_name("arrears")


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main(["validate", "--format", "json", *map(str, argv)])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, json.loads(captured.out)


def test_the_shipped_tree_is_all_valid_each_file_as_its_kind(capsys):
    code, report = _json(capsys, SHIPPED)
    kinds = {Path(f["path"]).relative_to(SHIPPED).as_posix(): f["kind"] for f in report["files"]}
    assert code == 0
    assert kinds == {"default.yaml": "policy", "default_test.yaml": "policy test", "goals.yaml": "goals file",
                     "examples/collections-brief.yaml": "policy",
                     "examples/collections-brief_test.yaml": "policy test",
                     **{f"profiles/{p.name}": "profile" for p in (SHIPPED / "profiles").glob("*.yaml")}}
    assert all(f["valid"] and f["problems"] == [] for f in report["files"])
    assert (report["checked"], report["valid"], report["invalid"], report["problems"]) == (13, 13, 0, 0)


def test_as_the_console_script_the_shipped_tree_says_all_valid():
    if not CONSOLE_SCRIPT.exists():
        pytest.skip("the `arrears` console script is not installed next to this Python")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    done = subprocess.run([str(CONSOLE_SCRIPT), "validate", "policies/"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-1] == "13 files checked, all valid"
    assert "ok  policies/profiles/us-nyc.yaml  profile us-nyc, 3 rules" in done.stdout.splitlines()


def test_a_profile_is_checked_against_the_profile_schema(tmp_path, capsys):
    (tmp_path / "own").mkdir()
    path = tmp_path / "own" / "limits.yaml"
    path.write_text(PROFILE.replace("id: us-limitations\n", "id: acme-limits\n")
                    .replace("rules:\n", "rulez:\n"), encoding="utf-8")
    code = main(["validate", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    line = PROFILE.splitlines().index("rules:") + 1
    assert code == 1
    assert f"{path}:{line}:1: unknown key 'rulez'; did you mean 'rules'?" in out
    assert out[-1].startswith("1 file checked: 0 valid, 1 with ")


def test_a_company_profile_elsewhere_is_valid_on_its_own(tmp_path, capsys):
    path = tmp_path / "limits.yaml"
    path.write_text(PROFILE.replace("id: us-limitations\n", "id: acme-limits\n")
                    .replace("id: us-limitations.time-barred", "id: acme-limits.time-barred"),
                    encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"ok  {path}  profile acme-limits, 1 rule"


def test_a_policy_test_is_checked_against_the_policy_test_schema(tmp_path, capsys):
    path = tmp_path / "smoke.yaml"                       # recognised by its keys, not by its name
    path.write_text("policy: default.yaml\ncasez: []\n", encoding="utf-8")
    (tmp_path / "default.yaml").write_text((SHIPPED / "default.yaml").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    code, report = _json(capsys, path)
    (result,) = report["files"]
    assert code == 1 and result["kind"] == "policy test"
    messages = [p["message"] for p in result["problems"]]
    assert "missing required key 'cases'" in messages
    assert "unknown key 'casez'; did you mean 'cases'?" in messages


def test_a_goals_file_on_its_own_is_checked_against_the_goals_schema(tmp_path, capsys):
    path = tmp_path / "targets.yaml"
    path.write_text("goals:\n  - id: dso\n    metrik: dso\n", encoding="utf-8")
    code, report = _json(capsys, path)
    (result,) = report["files"]
    assert code == 1 and result["kind"] == "goals file"
    assert any("'metrik'" in p["message"] and p["line"] == 3 for p in result["problems"])


def test_a_file_of_no_known_kind_is_a_finding_naming_it(tmp_path, capsys):
    path = tmp_path / "settings.yaml"
    path.write_text("database_url: sqlite:///x.db\n", encoding="utf-8")
    assert main(["validate", str(path), str(SHIPPED / "goals.yaml")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:1:1: cannot tell what kind of file this is "
                             "(a policy has aging, channels, ")
    assert "a goals file has goals" in out[0]
    assert out[-1] == "2 files checked: 1 valid, 1 with 1 problem"


def test_the_schema_line_names_the_kind(tmp_path, capsys):
    path = tmp_path / "draft.yaml"
    path.write_text("# yaml-language-server: $schema=../engine/policy/schemas/profile.schema.json\n"
                    "description: to be written\n", encoding="utf-8")
    code, report = _json(capsys, path)
    (result,) = report["files"]
    assert code == 1 and result["kind"] == "profile"
    assert {"missing required key 'applies_to'", "missing required key 'rules'"} <= \
        {p["message"] for p in result["problems"]}


def test_the_name_tells_an_empty_policy_test(tmp_path, capsys):
    path = tmp_path / "empty_test.yaml"
    path.write_text("{}\n", encoding="utf-8")
    code, report = _json(capsys, path)
    assert code == 1 and report["files"][0]["kind"] == "policy test"
    assert "missing required key 'cases'" in {p["message"] for p in report["files"][0]["problems"]}


def test_every_registered_kind_has_its_schema_and_keys_no_other_kind_has():
    """The registration point: a new kind (the experiment files) needs a schema whose top-level
    keys tell its files apart, or `recognise` could not find them."""
    own = distinctive_keys()
    for kind in KINDS:
        assert (SCHEMA_DIR / f"{kind.schema}.schema.json").is_file(), kind.name
        assert own[kind.name], f"{kind.name}: no top-level key of its own"
        data = {key: None for key in own[kind.name]}
        assert recognise(Path("x.yaml"), "", data) is kind
