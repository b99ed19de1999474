"""`arrears test`: run policy test files (`*_test.yaml`) and report pass/fail for CI."""
from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    """Add the `test` subcommand."""
    p = sub.add_parser("test", help="run policy tests (*_test.yaml)",
                       description="Run policy test files; exit 0 if all pass, 1 if any fails, "
                                   "2 if a file cannot be loaded or a path does not exist.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="test files or directories")
    p.add_argument("-q", "--quiet", action="store_true", help="print failures and the summary only")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Handler: print PASS/FAIL per case, a trace per failure, and a summary line."""
    from arrears.engine.decide.policytest import run_paths
    from arrears.engine.domain.errors import ArrearsError
    from arrears.plugins.facts import installed_facts
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        for p in missing:
            print(f"error: no such file or directory: {p}", file=sys.stderr)
        return 2
    try:
        facts = installed_facts()      # policies may use the installed plugins' facts
    except ArrearsError as exc:
        print(f"error: cannot load the plugins' facts: {exc}", file=sys.stderr)
        return 2
    results, problems = run_paths(args.paths, facts=facts)
    for problem in problems:
        print(problem)
    for r in results:
        if r.passed:
            if not args.quiet:
                print(f"PASS  {r.file}:{r.line}  {r.name}")
            continue
        print(f"FAIL  {r.file}:{r.line}  {r.name}")
        if r.error:
            print(f"      error: {r.error}")
        for failure in r.failures:
            print(f"      {failure}")
        if r.decision is not None:
            print("      trace:")
            for t in r.decision.trace:
                print(f"        {t.step}: {t.outcome}" + (f" — {t.detail}" if t.detail else ""))
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed"
          + (f", {len(problems)} problem(s) loading files" if problems else ""))
    if problems:
        return 2
    return 1 if failed else 0
