"""Values a policy, a policy test or a profile writes are checked like an account's: an unknown
value of an enumerated fact in a condition (`debtor_type: busines`) and a mistyped time zone are
problems at file:line:col with "did you mean", through the real `arrears validate` and `arrears test`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from arrears.engine.cli import main
from arrears.engine.domain.model import DEBTOR_TYPES
from arrears.engine.facts.catalogue import FACTS

ROOT = Path(__file__).resolve().parents[1]
POLICY = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
TEST = (ROOT / "policies" / "default_test.yaml").read_text(encoding="utf-8")


def _position(text: str, needle: str, within: str = "") -> tuple[int, int]:
    """1-based line and column of `needle` in `text` (the first inside `within`, if given)."""
    at = text.index(needle, text.index(within) if within else 0)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _validate(capsys, *paths) -> tuple[int, list[str]]:
    code = main(["validate", *map(str, paths)])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out.splitlines()


def test_debtor_type_is_an_enumerated_fact_of_the_catalogue():
    assert FACTS["debtor_type"].choices == DEBTOR_TYPES == ("consumer", "business")


@pytest.mark.parametrize("original, typo, value", [
    ("when: {fact: debtor_type, eq: business}", "when: {fact: debtor_type, eq: busines}", "busines"),
    ("when: {fact: debtor_type, eq: consumer}", "when: {fact: debtor_type, in: [consumer, consumr]}", "consumr"),
    ("when: {fact: debtor_type, eq: consumer}", "when: {fact: debtor_type, ne: Consumer}", "Consumer"),
])
def test_an_unknown_debtor_type_in_a_condition_is_located_with_did_you_mean(tmp_path, capsys, original, typo,
                                                                             value):
    assert original in POLICY
    text = POLICY.replace(original, typo)
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    code, out = _validate(capsys, path)
    line, col = _position(text, value, within=typo)
    suggestion = {"busines": "business", "consumr": "consumer", "Consumer": "consumer"}[value]
    assert code == 1
    assert out[0] == f"{path}:{line}:{col}: unknown debtor type {value!r}; did you mean {suggestion!r}?"
    assert out[-1] == "1 file checked: 0 valid, 1 with 1 problem"


def test_a_mistyped_time_zone_in_a_policy_is_located_with_did_you_mean(tmp_path, capsys):
    text = POLICY.replace("default_timezone: Europe/London", "default_timezone: Europe/Londn")
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    code, out = _validate(capsys, path)
    line, col = _position(text, "Europe/Londn")
    assert code == 1
    assert out[0] == f"{path}:{line}:{col}: unknown time zone 'Europe/Londn'; did you mean 'Europe/London'?"


@pytest.fixture
def suite(tmp_path):
    """A copy of the shipped policy and its tests, the tests' debtor in a mistyped zone, and
    a case whose other time zones have a typo too."""
    shutil.copy(ROOT / "policies" / "default.yaml", tmp_path / "default.yaml")
    text = TEST.replace("    timezone: Europe/London\n", "    timezone: Europe/Londen\n", 1)
    first_case = "    account: {invoices: [{id: INV-1, amount: \"1000.00\", due_date: \"2026-11-27\"}]}"
    assert first_case in text
    text = text.replace(first_case, first_case[:-1] + ", other_timezones: [Europe/Paris, America/New_Yrok]}", 1)
    path = tmp_path / "default_test.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _zone_lines(path, text):
    first = _position(text, "Europe/Londen")
    second = _position(text, "America/New_Yrok")
    return [f"{path}:{first[0]}:{first[1]}: unknown time zone 'Europe/Londen'; did you mean 'Europe/London'?",
            f"{path}:{second[0]}:{second[1]}: unknown time zone 'America/New_Yrok'; did you mean "
            "'America/New_York'?"]


def test_time_zones_in_a_policy_test_are_checked_by_validate(suite, capsys):
    path, text = suite
    code, out = _validate(capsys, path)
    assert code == 1
    assert out[:2] == _zone_lines(path, text)


def test_time_zones_in_a_policy_test_stop_arrears_test_before_any_case_runs(suite, capsys):
    path, text = suite
    code = main(["test", str(path)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out.splitlines()[:2] == _zone_lines(path, text)
    assert "PASS" not in captured.out


def test_a_policy_test_naming_a_missing_policy_is_located(tmp_path, capsys):
    text = TEST.replace("policy: default.yaml", "policy: defualt.yaml")
    path = tmp_path / "x_test.yaml"
    path.write_text(text, encoding="utf-8")
    code, out = _validate(capsys, path)
    line, col = _position(text, "defualt.yaml")
    assert code == 1
    assert out[0] == f"{path}:{line}:{col}: no policy file 'defualt.yaml' next to this test file"


@pytest.mark.parametrize("field, typo, message", [
    ("debtor_type", "busines", "account.debtor_type: expected one of consumer, business; got 'busines'; "
                               "did you mean 'business'?"),
    ("timezone", "Europe/Londn", "account.timezone: unknown IANA time zone 'Europe/Londn'; "
                                 "did you mean 'Europe/London'?"),
])
def test_an_account_gets_the_same_did_you_mean(tmp_path, capsys, field, typo, message):
    account = json.loads((ROOT / "examples" / "account.json").read_text(encoding="utf-8"))
    path = tmp_path / "account.json"
    path.write_text(json.dumps({**account, field: typo}), encoding="utf-8")
    code = main(["explain", "--policy", str(ROOT / "policies" / "default.yaml"), "--account", str(path)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == f"arrears explain: {path}: {message}\n"
