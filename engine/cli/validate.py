"""`arrears validate PATH...`: check policy files and report every problem as file:line:col.

Policies may use the facts of the installed plugins (`x_…`); they are loaded first, and
a plugin that cannot be loaded is a usage error (exit 2), as it would stop the tick.
Problems are the findings: printed on stdout, exit 1. Warnings (`arrears.engine.policy.warnrules`)
are printed after a file's `ok` line and change the exit status only with `--strict`. `--against
FILE|active` compares stage ids with another policy (`active`: the database's, from `--db`); with
`--db` the warnings also count the accounts per stage and read the stored contacts and currencies.
A goals file (a document with a top-level `goals:` list, like `policies/goals.yaml`) is
checked as one, against the aging buckets and segments of the policies that loaded.
"""
from __future__ import annotations

from pathlib import Path

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import add_command, add_profiles, profiles_dir
from arrears.engine.cli.warnopts import add_warning_options, print_warnings, warning_context

HELP = ("check policy and goals files (a directory means its *.yaml files, without the policy tests, "
        "*_test.yaml)")


def register(subparsers) -> None:
    """Add the `validate` subcommand to the `arrears` argument parser."""
    parser = add_command(subparsers, "validate", HELP, exits={
        ExitCode.OK: "every file is valid",
        ExitCode.PROBLEMS: "some file has problems (every one is printed as file:line:col: message), or "
                           "with --strict a warning nobody silenced",
        ExitCode.CANNOT_START: "a path does not exist, a directory holds no policy files, or a plugin "
                               "cannot be loaded",
        ExitCode.DATABASE: "--db or --against active: the database cannot be used"})
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a policy file or a directory of policies")
    add_profiles(parser, config=False)
    add_warning_options(parser)
    parser.set_defaults(handler=run)


def policy_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The policy files named by `paths`, and an error message for each path that names none."""
    files: dict[Path, None] = {}
    errors = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            # Policy tests (*_test.yaml) and profiles/ are other file types with their own checks.
            found = sorted(p for p in path.glob("*.yaml")
                           if p.is_file() and not p.name.endswith("_test.yaml"))
            if not found:
                errors.append(f"no policy files (*.yaml) in directory: {raw}")
            files.update(dict.fromkeys(found))
        elif path.is_file():
            files[path] = None
        else:
            errors.append(f"no such file or directory: {raw}")
    return list(files), errors


def run(args) -> int:
    """Validate every file; 0 if all are valid, 1 if any has problems; UsageError (2) for a bad path."""
    from arrears.engine.domain.errors import ArrearsError, PolicyError
    from arrears.engine.policy.load import load_checked  # compiling pulls in the whole engine: only when run
    from arrears.plugins.facts import installed_facts

    files, errors = policy_files(args.paths)
    profiles = profiles_dir(args)
    try:
        facts = installed_facts()
    except ArrearsError as exc:
        errors.append(f"cannot load the plugins' facts: {exc}")
    if errors:
        raise UsageError("\n".join(errors))
    goal_files = [path for path in files if _is_goals_file(path)]
    context = warning_context(args, facts, profiles)
    bad = problems = strict_bad = 0
    policies = []
    for path in files:
        if path in goal_files:
            continue
        try:
            policy, doc = load_checked(path, facts=facts, company_profiles=profiles)
        except PolicyError as exc:
            bad += 1
            problems += len(exc.problems)
            for problem in exc.problems:
                print(problem)
            continue
        policies.append(policy)
        print(f"ok  {path}  {policy.name} {policy.version} {policy.digest}")
        if policy.plugin_facts:
            used = ", ".join(f"{name} ({fd.plugin})" for name, fd in policy.plugin_facts.items())
            print(f"    uses plugin facts: {used}")
        strict_bad += print_warnings(context.warnings(policy, doc, str(path)), args, context)
    for path in goal_files:
        found = _check_goals(path, policies)
        bad += bool(found)
        problems += found
    print(_summary(len(files), bad, problems) + context.summary())
    return ExitCode.PROBLEMS if bad or strict_bad else ExitCode.OK


def _is_goals_file(path: Path) -> bool:
    """A goals file has a top-level `goals` key and no `escalation` (which every policy has)."""
    from arrears.engine.domain.errors import PolicyError
    from arrears.engine.policy.yamlsrc import load_file
    try:
        data = load_file(path, str(path), lenient=True).data
    except PolicyError:
        return False                     # unreadable: reported as a policy problem
    return isinstance(data, dict) and "goals" in data and "escalation" not in data


def _check_goals(path: Path, policies: list) -> int:
    """Check one goals file against the aging buckets and segments of the policies that loaded
    (it is valid if it fits one of them; without any, only on its own); print `ok` or its
    problems (against the first policy); return their count."""
    from arrears.engine.domain.errors import PolicyError
    from arrears.engine.goals import load_goals
    first = None
    for policy in policies or [None]:
        try:
            names = {} if policy is None else {"buckets": policy.bucket_names,
                                               "segments": tuple(policy.segments)}
            goalset = load_goals(path, **names)
        except PolicyError as exc:
            first = first or exc
            continue
        print(f"ok  {path}  goals file, {len(goalset.goals)} goal(s)")
        return 0
    for problem in first.problems:
        print(problem)
    return len(first.problems)


def _summary(total: int, bad: int, problems: int) -> str:
    files = "file" if total == 1 else "files"
    if not bad:
        return f"{total} {files} checked, all valid"
    found = "problem" if problems == 1 else "problems"
    return f"{total} {files} checked: {total - bad} valid, {bad} with {problems} {found}"
