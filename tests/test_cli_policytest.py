"""`arrears test` and `arrears explain`, in-process and as a real subprocess."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arrears.engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
EXAMPLES = ROOT / "examples"


def test_shipped_policy_suite_passes(capsys):
    assert main(["test", str(POLICIES)]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "FAIL" not in out
    assert out.strip().splitlines()[-1].endswith("passed, 0 failed")


def _suite(tmp_path, body: str) -> Path:
    shutil.copy(POLICIES / "default.yaml", tmp_path / "default.yaml")
    path = tmp_path / "mine_test.yaml"
    path.write_text(body, encoding="utf-8")
    return path


CASE = """policy: default.yaml
defaults:
  now: "2026-11-24T10:00:00Z"
  account:
    currency: EUR
    timezone: Europe/London
    contact: {email: a@example.com}
    invoices: [{id: I1, amount: "1000.00", due_date: "2026-11-20"}]
cases:
  - name: the friendly reminder
    expect: {action: EXPECTED, channel: email}
"""


def test_failing_case_lists_mismatch_and_trace(tmp_path, capsys):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "legal_warning"))
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {path}:10  the friendly reminder" in out
    assert 'action: expected "legal_warning", got "reminder"' in out
    assert "trace:" in out and "stage friendly_reminder: selected" in out
    assert out.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_passing_custom_suite(tmp_path, capsys):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "reminder"))
    assert main(["test", "-q", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "1 passed, 0 failed"


def test_invalid_suite_is_reported_with_position(tmp_path, capsys):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "reminder").replace("channel: email", "chanel: email"))
    assert main(["test", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:11:" in out and "chanel" in out


def test_bad_account_in_case_is_a_failure_naming_the_field(tmp_path, capsys):
    body = CASE.replace("EXPECTED", "reminder").replace(
        "  - name: the friendly reminder\n",
        "  - name: the friendly reminder\n    account: {currency: euro}\n")
    path = _suite(tmp_path, body)
    assert main(["test", str(path)]) == 1
    assert "cases[0].account.currency" in capsys.readouterr().out


def test_missing_path_exits_2(tmp_path, capsys):
    assert main(["test", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err


def _explain(*extra):
    return ["explain", "--policy", str(POLICIES / "default.yaml"),
            "--account", str(EXAMPLES / "account.json"), *extra]


def test_explain_text(capsys):
    assert main(_explain("--events", str(EXAMPLES / "events.json"), "--at", "2026-11-23T10:00:00Z")) == 0
    out = capsys.readouterr().out
    assert "DECISION: formal notice (stage formal_notice, attempt 1) by letter" in out
    assert "Why this stage: required stage first." in out
    assert "relationship_value" in out and "-3.33" in out
    assert "Next evaluation: 2026-11-24T10:00:00Z." in out


def test_explain_json_is_the_decision(capsys):
    assert main(_explain("--at", "2026-11-23T10:00:00Z", "--format", "json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["account_id"] == "ACME-0042"
    assert data["balance"] == {"amount": "5060.50", "currency": "GBP"}
    assert data["policy"]["name"] == "default"


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "invalid JSON at line 1 column 2"),
    ('{"id": "X", "currency": "GBP", "invoices": [{"id": "I", "amount": "1", "due_date": "soon"}]}',
     "account.invoices[0].due_date: expected a date"),
])
def test_explain_bad_account_file(tmp_path, capsys, content, fragment):
    path = tmp_path / "account.json"
    path.write_text(content)
    assert main(["explain", "--policy", str(POLICIES / "default.yaml"), "--account", str(path)]) == 2
    assert fragment in capsys.readouterr().err


def test_explain_naive_time_is_refused(capsys):
    assert main(_explain("--at", "2026-11-23T10:00:00")) == 2
    assert "--at: time must carry a UTC offset" in capsys.readouterr().err


def test_console_entry_point_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "arrears.engine", "test", "-q", str(POLICIES)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("passed, 0 failed")


def test_explain_amount_beyond_the_limit_is_a_clear_error(tmp_path, capsys):
    data = json.loads((EXAMPLES / "account.json").read_text())
    data["invoices"][0]["amount"] = "5000000000000000"
    path = tmp_path / "account.json"
    path.write_text(json.dumps(data))
    assert main(["explain", "--policy", str(POLICIES / "default.yaml"), "--account", str(path)]) == 2
    err = capsys.readouterr().err
    assert "invoice INV-1001" in err and "larger than the largest amount accepted" in err
    assert "Traceback" not in err


def test_a_case_that_cannot_be_decided_fails_without_stopping_the_run(tmp_path, capsys):
    body = CASE.replace("EXPECTED", "reminder").replace(
        "  - name: the friendly reminder\n",
        "  - name: too big\n    account: {invoices: [{id: I1, amount: \"9000000000000000\", due_date: \"2026-11-20\"}]}\n"
        "    expect: {action: reminder}\n  - name: the friendly reminder\n")
    path = _suite(tmp_path, body)
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "larger than the largest amount accepted" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_failures_write_values_as_the_test_file_means_them(tmp_path, capsys):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "null").replace(
        "channel: email}", "channel: email, requires_approval: true, late_fee: null}"))
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert 'action: expected null, got "reminder"' in out
    assert "requires_approval: expected true, got false" in out
    assert 'late_fee: expected null, got "0.00"' in out
    assert "None" not in out and "True" not in out and "'" not in out.split("trace:")[0]


def test_a_bad_default_is_the_files_problem_at_the_defaults_line(tmp_path, capsys):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "reminder").replace("currency: EUR", "currency: euro"))
    assert main(["test", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:5:15: defaults.account.currency:" in out
    assert "FAIL" not in out and "0 passed, 0 failed" in out


def test_a_bad_invoice_in_the_defaults_points_at_the_invoice_field(tmp_path, capsys):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "reminder").replace('due_date: "2026-11-20"', "due_date: soon"))
    assert main(["test", str(path)]) == 2
    assert f"{path}:8:54: defaults.account.invoices[0].due_date: expected a date" in capsys.readouterr().out


def test_a_case_overriding_the_bad_default_is_not_blamed_on_the_defaults(tmp_path, capsys):
    body = CASE.replace("EXPECTED", "reminder").replace(
        "  - name: the friendly reminder\n",
        "  - name: the friendly reminder\n    account: {currency: euro}\n")
    path = _suite(tmp_path, body)
    assert main(["test", str(path)]) == 1
    assert f"error: {path}:11:25: cases[0].account.currency:" in capsys.readouterr().out


@pytest.mark.parametrize("expect, ok", [
    ("{priority: PRIO}", True),
    ("{priority: {min: 0, max: PRIO}}", True),
    ("{priority: {min: PRIO}}", True),
    ("{priority: {max: 1}}", False),
    ("{priority: 1.5}", False),
    ("{account_manager: null, content: [first_message]}", True),
    ("{content: []}", False),
    ("{account_manager: someone}", False),
    ("{suppression_reasons: {}}", True),
    ("{suppression_reasons: {grace: days}}", False),
])
def test_priority_account_manager_content_and_reasons_can_be_expected(tmp_path, capsys, expect, ok):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "reminder"))
    score = _decided_score(path)
    assert 0 < score < 100
    body = CASE.replace("{action: EXPECTED, channel: email}", expect.replace("PRIO", str(score)))
    path.write_text(body, encoding="utf-8")
    assert main(["test", str(path)]) == (0 if ok else 1), capsys.readouterr().out


def _decided_score(path: Path) -> float:
    from arrears.engine.decisions.policytest import run_suite
    return run_suite(path)[0].decision.priority.score


def test_a_grace_reason_is_matched_by_its_text(tmp_path, capsys):
    body = CASE.replace("EXPECTED", "null").replace('due_date: "2026-11-20"', 'due_date: "2026-11-22"').replace(
        "channel: email}", "suppression_reasons: {grace: GRACE}}")
    path = _suite(tmp_path, body.replace("GRACE", "grace"))
    assert main(["test", str(path)]) == 0, capsys.readouterr().out
    path.write_text(body.replace("GRACE", "no such words"), encoding="utf-8")
    assert main(["test", str(path)]) == 1
    assert 'suppression_reasons.grace: expected a reason containing "no such words", got "' in capsys.readouterr().out


def test_explain_as_test_prints_a_case_that_passes_when_pasted(tmp_path, capsys):
    args = _explain("--events", str(EXAMPLES / "events.json"), "--at", "2026-11-23T10:00:00Z", "--as-test")
    assert main(args) == 0
    case = capsys.readouterr().out
    assert case.startswith("  - name: ACME-0042 at 2026-11-23T10:00:00Z\n")
    assert "    expect:\n" in case and "      action: formal_notice\n" in case
    suite = tmp_path / "pasted_test.yaml"
    shutil.copy(POLICIES / "default.yaml", tmp_path / "default.yaml")
    suite.write_text("policy: default.yaml\ncases:\n" + case, encoding="utf-8")
    assert main(["test", str(suite)]) == 0, capsys.readouterr().out
    # and the pasted case pins the decision down: editing one expectation makes it fail
    suite.write_text("policy: default.yaml\ncases:\n" + case.replace("action: formal_notice", "action: call"),
                     encoding="utf-8")
    assert main(["test", str(suite)]) == 1
    assert 'action: expected "call", got "formal_notice"' in capsys.readouterr().out


def test_an_unknown_field_in_the_defaults_is_the_files_problem_at_its_key(tmp_path, capsys):
    path = _suite(tmp_path, CASE.replace("EXPECTED", "reminder").replace("    currency: EUR\n",
                                                                          "    currency: EUR\n    colour: blue\n"))
    assert main(["test", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:6:5: defaults.account: unknown field(s) colour;" in out and "FAIL" not in out
