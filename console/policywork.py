"""The policy workbench's work, apart from its pages: check a text, run the policy tests
against it, compare two stored versions, simulate it against the active policy.

Everything here calls the engine and the store (never the HTTP API). The checks compile
as the app's policy registry compiles (its plugin facts and company profiles), one text at
a time per process (the app state's `compile_gate`).
"""
from __future__ import annotations

import difflib
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from arrears.engine.domain.errors import PolicyError
from arrears.engine.policy.load import load_checked
from arrears.engine.policy.warnrules import policy_warnings
from arrears.policies import POLICIES_DIR

EDITOR_FILE = "<editor>"                      # the name problems are reported against
TESTS_SETTING = "console.workbench_tests"     # the suite the workbench keeps (settings table)
SHIPPED_TESTS = POLICIES_DIR / "default_test.yaml"
HISTORY_SECONDS = 60                          # how long the history's names are reused for warnings
_history: dict = {}


def _history_names(store) -> dict:
    """The stored history's names for the warnings, re-read at most once a minute (a read of
    the whole portfolio must not sit in every keystroke's check)."""
    kept = _history.get(id(store))
    if kept is None or time.monotonic() - kept[0] > HISTORY_SECONDS:
        kept = _history[id(store)] = (time.monotonic(), store.history_names())
    return kept[1]


def compile_text(state, text: str, filename: str = EDITOR_FILE):
    """(policy, document) of YAML `text`; PolicyError with every problem."""
    text = text if text.endswith("\n") else text + "\n"
    registry = state.policies
    with state.compile_gate:
        return load_checked(text, filename=filename, facts=registry.facts, company_profiles=registry.profiles)


def check(state, text: str) -> dict:
    """`{valid, problems, warnings, policy, ms}`: every problem (line, column, pointer, detail)
    or, for a valid text, its warnings against the active policy and the stored history."""
    started = time.perf_counter()
    try:
        policy, doc = compile_text(state, text)
    except PolicyError as exc:
        problems = [{"line": p.line, "column": p.col, "pointer": p.path, "detail": p.message} for p in exc.problems]
        return {"valid": False, "problems": problems, "warnings": [], "policy": None,
                "ms": round((time.perf_counter() - started) * 1000, 1)}
    try:
        active = state.policies.active()
    except LookupError:
        active = None
    found = policy_warnings(policy, doc, EDITOR_FILE, against=active, portfolio=_history_names(state.store))
    return {"valid": True, "problems": [], "warnings": [w.to_dict() for w in found if not w.silenced],
            "policy": {"name": policy.name, "version": policy.version, "digest": policy.digest},
            "ms": round((time.perf_counter() - started) * 1000, 1)}


def tests_text(store) -> str:
    """The policy tests the workbench keeps: the last suite saved, else the shipped default's."""
    return store.users.setting(TESTS_SETTING) or SHIPPED_TESTS.read_text(encoding="utf-8")


@dataclass
class TestRun:
    """The outcome of the policy tests: a problem of the suite itself, or each case's result."""

    problems: list[str] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(not c["passed"] for c in self.cases)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.cases) and not self.failed


def run_tests(state, policy_text: str, suite_text: str) -> TestRun:
    """Run the suite `suite_text` (a `*_test.yaml`) against `policy_text`, as `arrears test`
    does: both are written to a scratch folder, the policy under the file name the suite's
    `policy:` names (its last part), and run with the registry's facts and profiles."""
    try:
        named = (yaml.safe_load(suite_text) or {}).get("policy")
    except yaml.YAMLError as exc:
        return TestRun(problems=[f"the tests are not YAML: {exc}"])
    if not isinstance(named, str) or not Path(named).name.endswith((".yaml", ".yml")):
        return TestRun(problems=["the tests must name their policy file (`policy: default.yaml`)"])
    with tempfile.TemporaryDirectory(prefix="arrears-workbench-") as tmp:
        folder = Path(tmp)
        (folder / Path(named).name).write_text(policy_text, encoding="utf-8")
        suite = folder / "workbench_test.yaml"
        suite.write_text(suite_text.replace(f"policy: {named}", f"policy: {Path(named).name}", 1),
                         encoding="utf-8")
        from arrears.engine.decisions.policytest import run_suite
        try:
            with state.compile_gate:
                results = run_suite(suite, state.policies.facts, state.policies.profiles)
        except PolicyError as exc:
            return TestRun(problems=[str(p).replace(str(folder) + "/", "") for p in exc.problems])
    return TestRun(cases=[_case(r, str(folder) + "/") for r in results])


def _case(result, prefix: str) -> dict:
    trace = [] if result.decision is None or result.passed else [
        f"{t.step}: {t.outcome}" + (f" — {t.detail}" if t.detail else "") for t in result.decision.trace]
    return {"name": result.name, "line": result.line, "passed": result.passed,
            "failures": list(result.failures), "error": (result.error or "").replace(prefix, "") or None,
            "trace": trace}


def diff(old: dict, new: dict) -> str:
    """The unified diff of two stored versions' texts (dicts with name, version, digest, source)."""
    label = lambda v: f"{v['name']} {v['version']} ({v['digest'][:19]})"  # noqa: E731
    lines = difflib.unified_diff(old["source"].splitlines(keepends=True), new["source"].splitlines(keepends=True),
                                 fromfile=label(old), tofile=label(new))
    return "".join(lines) or "The two versions' texts are the same.\n"


def what_if(state, candidate, at: datetime, *, sample: int = 5, batch_size: int | None = None,
            progress=None) -> dict:
    """The simulation of `candidate` against the active policy over the stored portfolio at `at`
    (`arrears.engine.simulate`, page by page, column-wise; read-only), as its JSON form;
    `progress(done, total)` after each page. LookupError when no policy is active. The
    workbench runs it in a background job (`arrears.console.whatifjobs`)."""
    from arrears.engine.simulate import DEFAULT_BATCH, from_work_queue, simulate
    report = simulate(state.store, state.policies.active(), candidate, at, sample=sample,
                      batch_size=batch_size or DEFAULT_BATCH, progress=progress,
                      capacity=from_work_queue(state.settings.work_queue_capacity))
    return report.to_dict()
