"""Run the mutation test: `python -m tests.mutation [MODULE...] [--jobs N] [--sample K]`.

Mutants run in shadow copies of the installed folders (`arrears/engine`, `arrears/api`, …
under a temporary directory put first on PYTHONPATH), never in the checkout: a crash or an
interrupt leaves the source untouched. Subprocesses the tests start (the CLI, `arrears
serve`, the tick's workers) inherit the PYTHONPATH and so run the mutant too.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from tests.mutation.operators import Mutant, mutants

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = ("engine", "api", "plugins", "policies")
CORE_TESTS = ("tests/test_escalation.py", "tests/test_holds_offers.py", "tests/test_priority.py",
              "tests/test_facts.py", "tests/test_guardrails.py", "tests/test_guardrail_examples.py",
              "tests/test_cli_policytest.py")
GUARD_TESTS = ("tests/test_guardrails.py", "tests/test_guardrail_examples.py", "tests/test_contact_hours.py",
               "tests/test_cli_policytest.py")
# The property suites kill more mutants but take minutes per mutant: --deep adds them.
DEEP_TESTS = ("tests/test_properties.py", "tests/test_guardrail_properties.py")
OUTBOX_TESTS = ("tests/tick/test_tick_claim_race.py", "tests/tick/test_tick_dispatch.py",
                "tests/tick/test_tick_outbox_cli.py", "tests/tick/test_tick_email.py")
AUDIT_TESTS = ("tests/store/test_store_audit.py", "tests/api/test_api_audit.py",
               "tests/store/test_store_import.py")
# The rule kinds: their scenario tests first, then the schema the registry generates (a
# parameter's `required` or bounds), then the shipped policy suite.
KIND_TESTS = ("tests/test_guardrails.py", "tests/test_guardrail_examples.py", "tests/test_contact_hours.py",
              "tests/test_kind_breathing_space_repeat.py", "tests/test_rule_kinds.py",
              "tests/test_cli_policytest.py")
# Pause lengths and fee freezes act in the decision core's holds and offers.
PAUSE_TESTS = KIND_TESTS + ("tests/test_holds_offers.py", "tests/test_facts.py")
# Kinds that only word the rule (represented, statutory_interest) are not targets: their
# mutants would change wording, which the operators leave alone.
KINDS = "engine/guardrails/kinds/"
# Module -> the tests that guard it (run for each of its mutants, stopping at the first failure).
TARGETS = {
    "engine/decisions/core.py": CORE_TESTS,
    "engine/decisions/escalation.py": CORE_TESTS,
    "engine/decisions/holds.py": CORE_TESTS,
    "engine/decisions/offers.py": CORE_TESTS,
    "engine/decisions/priority.py": CORE_TESTS,
    "engine/guardrails/evaluate.py": GUARD_TESTS,
    "engine/guardrails/windows.py": GUARD_TESTS,
    "engine/decisions/suppress.py": GUARD_TESTS,
    "engine/policy/househours.py": GUARD_TESTS,
    "engine/policy/profiles.py": ("tests/test_profiles_dir.py",) + GUARD_TESTS,
    "engine/store/outboxstore.py": OUTBOX_TESTS,
    "engine/tick/dispatch.py": OUTBOX_TESTS,
    "engine/store/audit.py": AUDIT_TESTS,
    KINDS + "base.py": KIND_TESTS,
    KINDS + "frequency_cap.py": KIND_TESTS,
    KINDS + "quiet_after_conversation.py": KIND_TESTS,
    KINDS + "contact_window.py": KIND_TESTS,
    KINDS + "public_holidays.py": KIND_TESTS,
    KINDS + "consent_required.py": KIND_TESTS,
    KINDS + "cease_communication.py": KIND_TESTS,
    KINDS + "validation_notice.py": KIND_TESTS,
    KINDS + "time_bar.py": KIND_TESTS,
    KINDS + "required_content.py": KIND_TESTS,
    KINDS + "hardship_pause.py": PAUSE_TESTS,
    KINDS + "breathing_space.py": PAUSE_TESTS,
    KINDS + "breathing_space_repeat.py": KIND_TESTS,
    KINDS + "payment_terms.py": KIND_TESTS,
    KINDS + "statutory_compensation.py": KIND_TESTS,
}


class Shadow:
    """A private copy of the installed folders that one job mutates a file at a time."""

    def __init__(self, base: Path):
        self.base = base
        for folder in INSTALLED:
            shutil.copytree(ROOT / folder, base / "arrears" / folder,
                            ignore=shutil.ignore_patterns("__pycache__"))

    def write(self, module: str, text: str) -> None:
        path = self.base / "arrears" / module
        path.write_text(text, encoding="utf-8")
        for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
            cached.unlink()

    def run(self, tests, timeout: float) -> tuple[str, float]:
        """'passed', 'failed' or 'timeout', and the seconds taken."""
        env = dict(os.environ, PYTHONPATH=str(self.base), ARREARS_HYPOTHESIS_PROFILE="ci",
                   PYTHONDONTWRITEBYTECODE="1")
        # SQLite only: a PostgreSQL variant would start a server per mutant for the same code path.
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               "--no-header", "-m", "not postgresql", *tests]
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - start
        return ("passed" if proc.returncode == 0 else "failed"), time.monotonic() - start


def _plan(modules, sample: int | None, seed: int) -> dict[str, list[Mutant]]:
    plan = {}
    for module in modules:
        found = mutants((ROOT / module).read_text(encoding="utf-8"))
        if sample is not None and len(found) > sample:
            found = sorted(random.Random(f"{seed}:{module}").sample(found, sample), key=lambda m: m.line)
        plan[module] = found
    return plan


def main(argv=None) -> int:
    """Mutate, test, report; exit 1 when a module scores below --min-score."""
    ap = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="paths as in the checkout (default: every target)")
    ap.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    ap.add_argument("--sample", type=int, help="at most this many mutants per module (a fixed random sample)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="mutation-results.jsonl", help="one JSON line per mutant")
    ap.add_argument("--min-score", type=float, default=0.0, help="fail below this score (0-100)")
    ap.add_argument("--deep", action="store_true", help="also run the property suites (much slower)")
    ap.add_argument("--list", action="store_true", help="print the targets, their tests and mutant counts")
    args = ap.parse_args(argv)
    modules = args.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        print(f"python -m tests.mutation: no tests are mapped to {', '.join(unknown)}; "
              f"targets: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    plan = _plan(modules, args.sample, args.seed)
    deep = DEEP_TESTS if args.deep else ()
    suites = {m: TARGETS[m] + (deep if m.startswith(("engine/decisions/", "engine/guardrails/")) else ())
              for m in modules}
    if args.list:
        for module, found in plan.items():
            print(f"{module}: {len(found)} mutants; tests: {' '.join(suites[module])}")
        return 0
    with tempfile.TemporaryDirectory(prefix="arrears-mutation-") as tmp:
        results = _run(plan, suites, Path(tmp), args.jobs, args.out)
    return _report(results, args.min_score)


def _run(plan: dict, suites: dict, tmp: Path, jobs: int, out: str) -> list[dict]:
    shadows = [Shadow(tmp / f"job{i}") for i in range(jobs)]
    baseline = {}
    for module in plan:                       # the unmutated tests must pass, and set the timeout
        status, seconds = shadows[0].run(suites[module], timeout=1800)
        if status != "passed":
            raise SystemExit(f"python -m tests.mutation: the tests of {module} fail without any mutant")
        baseline[module] = seconds
    work = [(module, m) for module, found in plan.items() for m in found]
    results, lock, cursor = [], threading.Lock(), iter(work)
    total = len(work)

    def job(shadow: Shadow):
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            module, mutant = item
            original = (ROOT / module).read_text(encoding="utf-8")
            shadow.write(module, mutant.source)
            status, seconds = shadow.run(suites[module], timeout=3 * baseline[module] + 30)
            shadow.write(module, original)
            row = {"module": module, "line": mutant.line, "change": mutant.change,
                   "status": {"failed": "killed", "timeout": "killed (timeout)"}.get(status, "survived"),
                   "seconds": round(seconds, 1)}
            with lock:
                results.append(row)
                print(f"[{len(results)}/{total}] {module}:{mutant.line} {mutant.change}: {row['status']}",
                      flush=True)

    threads = [threading.Thread(target=job, args=(s,)) for s in shadows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w", encoding="utf-8") as fh:
        for row in sorted(results, key=lambda r: (r["module"], r["line"], r["change"])):
            fh.write(json.dumps(row) + "\n")
    return results


def _report(results: list[dict], min_score: float) -> int:
    by_module = {}
    for row in results:
        by_module.setdefault(row["module"], Counter())[row["status"].split(" ")[0]] += 1
    print(f"\n{'module':40} {'mutants':>8} {'killed':>7} {'survived':>9} {'score':>6}")
    low = False
    for module, c in sorted(by_module.items()):
        n = c["killed"] + c["survived"]
        score = 100 * c["killed"] / n if n else 100.0
        low |= score < min_score
        print(f"{module:40} {n:8} {c['killed']:7} {c['survived']:9} {score:5.1f}%")
    survivors = sorted((r for r in results if r["status"] == "survived"),
                       key=lambda r: (r["module"], r["line"]))
    if survivors:
        print("\nsurvivors (a test is missing or the change is harmless):")
        for r in survivors:
            print(f"  {r['module']}:{r['line']}: {r['change']}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
