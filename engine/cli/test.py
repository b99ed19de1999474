"""`arrears test`: run policy test files (`*_test.yaml`) and report pass/fail for CI.

PASS/FAIL lines, traces and the problems of files that do not load are the findings, on
stdout. A failing case is exit 1; a file that cannot be loaded (the test file or its
policy) means the cases could not run: exit 2, as for a path that does not exist.
"""
from __future__ import annotations

from pathlib import Path

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import add_command, add_format, add_profiles, profiles_dir, write_json
from arrears.engine.domain.words import plural


def register(sub) -> None:
    """Add the `test` subcommand."""
    p = add_command(sub, "test", "run policy tests (*_test.yaml)",
                    description="Run policy test files; report PASS or FAIL per case and a trace per "
                                "failure.",
                    exits={ExitCode.OK: "every case passed",
                           ExitCode.PROBLEMS: "some case failed",
                           ExitCode.CANNOT_START: "a path does not exist, a plugin cannot be loaded, or a "
                                                  "test file or its policy cannot be loaded (problems "
                                                  "printed as file:line:col: message)",
                           ExitCode.DATABASE: None})
    p.add_argument("paths", nargs="+", metavar="PATH", help="test files or directories")
    p.add_argument("-q", "--quiet", action="store_true", help="print failures and the summary only")
    add_profiles(p, config=False)
    add_format(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    """Handler: print PASS/FAIL per case, a trace per failure, and a summary line."""
    from arrears.engine.decisions.policytest import run_paths
    from arrears.engine.domain.errors import ArrearsError
    from arrears.plugins.facts import installed_facts
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise UsageError("\n".join(f"no such file or directory: {p}" for p in missing))
    try:
        facts = installed_facts()      # policies may use the installed plugins' facts
    except ArrearsError as exc:
        raise UsageError(f"cannot load the plugins' facts: {exc}") from exc
    results, problems = run_paths(args.paths, facts=facts, profiles=profiles_dir(args))
    failed = sum(not r.passed for r in results)
    if args.format == "json":
        write_json({"passed": len(results) - failed, "failed": failed,
                    "problems": [{"file": p.file, "line": p.line, "col": p.col, "message": p.message}
                                 for p in problems],
                    "cases": [{"file": r.file, "line": r.line, "name": r.name, "passed": r.passed,
                               "error": r.error or None, "failures": list(r.failures)} for r in results]})
    else:
        _print_text(args, results, problems, failed)
    if problems:
        return ExitCode.CANNOT_START
    return ExitCode.PROBLEMS if failed else ExitCode.OK


def _print_text(args, results, problems, failed: int) -> None:
    """PASS/FAIL lines, a trace per failure, and the summary line."""
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
    print(f"{len(results) - failed} passed, {failed} failed"
          + (f", {plural(len(problems), 'problem')} loading files" if problems else ""))
