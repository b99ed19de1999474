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

from tests.mutation import coverage_map
from tests.mutation.operators import Mutant, mutants

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = ("engine", "api", "plugins", "policies")
CORE_TESTS = ("tests/test_escalation.py", "tests/test_holds_offers.py", "tests/test_pause_lengths.py",
              "tests/test_decision_edges.py", "tests/test_priority.py", "tests/test_facts.py",
              "tests/test_guardrails.py", "tests/test_guardrail_examples.py", "tests/test_cli_policytest.py",
              "tests/test_moratoria.py")
GUARD_TESTS = ("tests/test_guardrails.py", "tests/test_guardrail_examples.py", "tests/test_guardrail_kind_edges.py",
               "tests/test_contact_hours.py", "tests/test_escalation.py", "tests/test_cli_policytest.py")
# The property suites kill more mutants but take minutes per mutant: --deep adds them.
DEEP_TESTS = ("tests/test_properties.py", "tests/test_guardrail_properties.py")
OUTBOX_TESTS = ("tests/tick/test_tick_claim_race.py", "tests/tick/test_tick_dispatch_limits.py",
                "tests/tick/test_tick_dispatch.py",
                "tests/tick/test_tick_outbox_cli.py", "tests/tick/test_tick_email.py",
                "tests/tick/test_tick_fallback.py")
AUDIT_TESTS = ("tests/store/test_store_audit.py", "tests/api/test_api_audit.py",
               "tests/store/test_store_import.py")
# The rule kinds: their scenario tests first, then the schema the registry generates (a
# parameter's `required` or bounds), then the shipped policy suite.
KIND_TESTS = ("tests/test_guardrails.py", "tests/test_guardrail_examples.py", "tests/test_contact_hours.py",
              "tests/test_guardrail_kind_edges.py",
              "tests/test_kind_breathing_space_repeat.py", "tests/test_rule_kinds.py",
              "tests/test_cli_policytest.py", "tests/test_moratoria.py")
# Pause lengths and fee freezes act in the decision core's holds and offers.
PAUSE_TESTS = KIND_TESTS + ("tests/test_holds_offers.py", "tests/test_facts.py", "tests/test_pause_lengths.py",
                            "tests/test_decision_edges.py")
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
    "engine/facts/moratoria.py": CORE_TESTS,
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
    KINDS + "debtor_wishes.py": KIND_TESTS + ("tests/test_debtor_wishes.py",),
    "engine/guardrails/recipients.py": GUARD_TESTS + ("tests/test_representation.py",),
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
                                  stderr=subprocess.DEVNULL, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - start
        return ("passed" if proc.returncode == 0 else "failed"), time.monotonic() - start


def _current(rows: list[dict]) -> list[dict]:
    """Rows whose mutant the checkout still has; the others (the code changed since, or the
    operators no longer make that mutant) are left out of the scores and counted apart."""
    have = {}
    kept, gone = [], 0
    for row in rows:
        module = row["module"]
        if module not in have:
            source = (ROOT / module).read_text(encoding="utf-8") if (ROOT / module).exists() else ""
            have[module] = {(m.source.splitlines()[m.line - 1].strip(), m.change)
                            for m in (mutants(source) if source else [])}
        if (row.get("mutated"), row["change"]) in have[module]:
            kept.append(row)
        else:
            gone += 1
    if gone:
        print(f"{gone} mutants of these results no longer exist in the checkout: not scored")
    return kept


def _survivors(path: str) -> set[tuple[str, str, str]]:
    """(module, mutated line, change) of every survivor in a results file."""
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return {(r["module"], r["mutated"], r["change"]) for r in rows if r["status"].startswith("survived")}


def _plan(modules, sample: int | None, seed: int, match: str | None = None) -> dict[str, list[Mutant]]:
    plan = {}
    for module in modules:
        found = mutants((ROOT / module).read_text(encoding="utf-8"))
        if match is not None:
            found = [m for m in found if match in m.source.splitlines()[m.line - 1]]
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
    ap.add_argument("--match", metavar="TEXT",
                    help="only mutants whose changed line contains TEXT (re-check a survivor after adding a test)")
    ap.add_argument("--survivors", metavar="JSONL",
                    help="only the survivors of an earlier run's results file (after adding tests)")
    ap.add_argument("--report", metavar="JSONL", nargs="+",
                    help="only print the report of earlier results files (a later file's row replaces an "
                         "earlier one for the same mutant, e.g. a --survivors re-run)")
    ap.add_argument("--whole-suite", action="store_true",
                    help="run a module's whole suite for every mutant (default: only the tests that reach it)")
    args = ap.parse_args(argv)
    if args.report:
        merged = {}
        for path in args.report:
            with open(path, encoding="utf-8") as fh:
                for row in (json.loads(line) for line in fh if line.strip()):
                    merged[row["module"], row.get("mutated"), row["change"]] = row
        return _report(_current(list(merged.values())), args.min_score)
    again = _survivors(args.survivors) if args.survivors else None
    modules = args.modules or (sorted({m for m, _l, _c in again}) if again else list(TARGETS))
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        print(f"python -m tests.mutation: no tests are mapped to {', '.join(unknown)}; "
              f"targets: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    plan = _plan(modules, args.sample, args.seed, args.match)
    if again is not None:
        plan = {module: [m for m in found if (module, m.source.splitlines()[m.line - 1].strip(), m.change) in again]
                for module, found in plan.items()}
    deep = DEEP_TESTS if args.deep else ()
    suites = {m: TARGETS[m] + (deep if m.startswith(("engine/decisions/", "engine/guardrails/")) else ())
              for m in modules}
    if args.list:
        for module, found in plan.items():
            print(f"{module}: {len(found)} mutants; tests: {' '.join(suites[module])}")
        return 0
    with tempfile.TemporaryDirectory(prefix="arrears-mutation-") as tmp:
        results = _run(plan, suites, Path(tmp), args.jobs, args.out, select=not args.whole_suite)
    return _report(results, args.min_score)


def _run(plan: dict, suites: dict, tmp: Path, jobs: int, out: str, select: bool = True) -> list[dict]:
    shadows = [Shadow(tmp / f"job{i}") for i in range(jobs)]
    # The source as the shadows copied it: the checkout may change while the run goes on.
    originals = {module: (shadows[0].base / "arrears" / module).read_text(encoding="utf-8") for module in plan}
    baseline, timed, reach = {}, {}, {}
    for module in plan:                       # the unmutated tests must pass, and set the timeout
        suite = tuple(suites[module])
        if suite not in timed:                # modules sharing a suite share its baseline run
            status, timed[suite] = shadows[0].run(suite, timeout=1800)
            if status != "passed":
                raise SystemExit(f"python -m tests.mutation: the tests of {module} fail without any mutant")
            if select:
                data = tmp / f"coverage-{len(timed)}"
                if not coverage_map.measure(shadows[0].base, suite, ROOT, data):
                    raise SystemExit(f"python -m tests.mutation: the tests of {module} fail under coverage")
                timed[suite, "data"] = data
        baseline[module] = timed[suite]
        if select:
            reach[module] = coverage_map.TestsByLine(timed[suite, "data"], module,
                                                     (ROOT / module).read_text(encoding="utf-8"), suite)
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
            tests = reach[module].tests_for(mutant.line) if module in reach else coverage_map.EVERYTHING
            if tests == []:                   # no test runs this line: nothing can kill it
                status, seconds = "not reached", 0.0
            else:
                shadow.write(module, mutant.source)
                status, seconds = shadow.run(suites[module] if tests is coverage_map.EVERYTHING else tests,
                                             timeout=3 * baseline[module] + 30)
                shadow.write(module, originals[module])
            row = {"module": module, "line": mutant.line, "change": mutant.change,
                   "mutated": mutant.source.splitlines()[mutant.line - 1].strip(),
                   "status": {"failed": "killed", "timeout": "killed (timeout)",
                              "not reached": "survived (no test reaches it)"}.get(status, "survived"),
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
        fh.writelines(json.dumps(row) + "\n" for row in sorted(results, key=lambda r: (r["module"], r["line"], r["change"])))
    return results


EQUIVALENT = Path(__file__).with_name("equivalent.txt")


def _equivalents() -> dict[tuple[str, str, str], str]:
    """(module, the mutated line, change) -> why the mutant cannot change behaviour."""
    out = {}
    for raw in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            module, line, change, why = (part.strip() for part in raw.split(" | ", 3))
            out[module, line, change] = why
    return out


def _mark_equivalents(results: list[dict]) -> list[str]:
    """Relabel listed survivors 'equivalent'; return the entries no current mutant matches."""
    known = _equivalents()
    live = set()
    for row in results:
        key = (row["module"], row.get("mutated", ""), row["change"])
        if key in known:
            live.add(key)
            if row["status"].startswith("survived"):
                row["status"] = "equivalent"
    # Stale: the module no longer has that mutant at all (a sampled run may simply not include it).
    current = {}
    for m, line, change in known:
        if m not in current and (ROOT / m).exists():
            source = (ROOT / m).read_text(encoding="utf-8")
            current[m] = {(x.source.splitlines()[x.line - 1].strip(), x.change) for x in mutants(source)}
    return [f"{m} | {line} | {change}" for (m, line, change) in known
            if (m, line, change) not in live and (line, change) not in current.get(m, set())]


def _report(results: list[dict], min_score: float) -> int:
    stale = _mark_equivalents(results)
    by_module = {}
    for row in results:
        by_module.setdefault(row["module"], Counter())[row["status"].split(" ")[0]] += 1
    print(f"\n{'module':52} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>6} {'score':>6}")
    low = False
    for module, c in sorted(by_module.items()):
        n = c["killed"] + c["survived"]
        score = 100 * c["killed"] / n if n else 100.0
        low |= score < min_score
        print(f"{module:52} {n:7} {c['killed']:7} {c['survived']:8} {c['equivalent']:6} {score:5.1f}%")
    total = sum(c["killed"] + c["survived"] for c in by_module.values())
    killed = sum(c["killed"] for c in by_module.values())
    if total:
        print(f"{'all':52} {total:7} {killed:7} {total - killed:8} "
              f"{sum(c['equivalent'] for c in by_module.values()):6} {100 * killed / total:5.1f}%")
    survivors = sorted((r for r in results if r["status"].startswith("survived")),
                       key=lambda r: (r["module"], r["line"]))
    if survivors:
        print("\nsurvivors (a test is missing, or the change is harmless: list it in equivalent.txt):")
        for r in survivors:
            print(f"  {r['module']}:{r['line']}: {r['change']}{r['status'][8:]}: {r.get('mutated', '')}")
    for entry in stale:
        print(f"stale entry in {EQUIVALENT.name} (no such mutant in these results): {entry}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
