"""`arrears validate PATH...`: check every file Arrears reads, each against its own schema.

A directory means its YAML files (`*.yaml`, `*.yml`), subfolders included (hidden ones left
out). Each file's kind (a policy, a policy test, a profile, a goals file: the registry is
`filekinds.KINDS`) is recognised from its `$schema` line, its top-level keys or its name; a
file whose kind cannot be told is a problem naming it. Policies may use the facts of the
installed plugins (`x_…`); they are loaded first, and a plugin that cannot be loaded is a
usage error (exit 2), as it would stop the tick. A goals file is checked after the policies,
against their aging buckets and segments. Problems are the findings: on stdout, exit 1.
"""
from __future__ import annotations

from pathlib import Path

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import add_command, add_format, add_profiles, profiles_dir, write_json

HELP = ("check policies, policy tests, profiles and goals files, each against its own schema (a directory "
        "means its *.yaml files, subfolders included)")
PATTERNS = ("*.yaml", "*.yml")


def register(subparsers) -> None:
    """Add the `validate` subcommand to the `arrears` argument parser."""
    parser = add_command(subparsers, "validate", HELP, exits={
        ExitCode.OK: "every file is valid",
        ExitCode.PROBLEMS: "some file has problems, or is of no kind Arrears reads (every problem is printed "
                           "as file:line:col: message)",
        ExitCode.CANNOT_START: "a path does not exist, a directory holds no YAML files, or a plugin "
                               "cannot be loaded",
        ExitCode.DATABASE: None})
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a file, or a directory of them")
    add_profiles(parser, config=False)
    add_format(parser)
    parser.set_defaults(handler=run)


def files_of(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The files named by `paths` (each once, in order), and an error message for each path that
    names none."""
    files: dict[Path, None] = {}
    errors = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted({p for pattern in PATTERNS for p in path.rglob(pattern) if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts)})
            if not found:
                errors.append(f"no YAML files (*.yaml, *.yml) in directory: {raw}")
            files.update(dict.fromkeys(found))
        elif path.is_file():
            files[path] = None
        else:
            errors.append(f"no such file or directory: {raw}")
    return list(files), errors


def run(args) -> int:
    """Validate every file; 0 if all are valid, 1 if any has problems; UsageError (2) for a bad path."""
    from arrears.engine.cli.filekinds import Context
    from arrears.engine.domain.errors import ArrearsError
    from arrears.plugins.facts import installed_facts

    files, errors = files_of(args.paths)
    context = Context(profiles=profiles_dir(args))
    try:
        context.facts = installed_facts()
    except ArrearsError as exc:
        errors.append(f"cannot load the plugins' facts: {exc}")
    if errors:
        raise UsageError("\n".join(errors))
    kinds = {path: _kind(path) for path in files}
    order = sorted(files, key=lambda p: bool(kinds[p][0] and kinds[p][0].after_policies))
    results = [_check(path, *kinds[path], context) for path in order]
    if args.format == "json":
        write_json({"files": results, **_counts(results)})
    else:
        for result in results:
            if result["valid"]:
                print(f"ok  {result['path']}  {result['summary']}")
                for note in result["notes"]:
                    print(f"    {note}")
            for problem in result["problems"]:
                print(_line(problem))
        print(_summary(**_counts(results)))
    return ExitCode.PROBLEMS if any(not r["valid"] for r in results) else ExitCode.OK


def _kind(path: Path):
    """(the file's kind or None, the problems of a file that cannot be read or told)."""
    from arrears.engine.cli.filekinds import expected, recognise
    from arrears.engine.domain.errors import PolicyError, Problem
    from arrears.engine.policy.yamlsrc import load_file
    try:
        text = path.read_text(encoding="utf-8")
        data = load_file(path, str(path), lenient=True).data
    except PolicyError as exc:                  # YAML syntax: located, whatever the kind
        return None, list(exc.problems)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        return None, [Problem(str(path), 1, 1, f"cannot read the file: {reason}")]
    kind = recognise(path, text, data)
    if kind is None:
        message = (f"cannot tell what kind of file this is ({expected()}); or name its schema in a "
                   "`# yaml-language-server: $schema=` line")
        return None, [Problem(str(path), 1, 1, message)]
    return kind, []


def _check(path: Path, kind, problems: list, context) -> dict:
    """One file's result: its path, kind, whether it is valid, its `ok` summary and its problems."""
    from arrears.engine.domain.errors import PolicyError
    summary, notes = None, []
    if kind is not None:
        try:
            summary, *notes = kind.check(path, context).splitlines()
        except PolicyError as exc:
            problems = list(exc.problems)
    return {"path": str(path), "kind": kind.name if kind else None, "valid": not problems, "summary": summary,
            "notes": [note.strip() for note in notes],
            "problems": [{"file": p.file, "line": p.line, "col": p.col, "message": p.message,
                          "pointer": p.path} for p in problems]}


def _line(problem: dict) -> str:
    return f"{problem['file']}:{problem['line']}:{problem['col']}: {problem['message']}"


def _counts(results: list[dict]) -> dict:
    bad = [r for r in results if not r["valid"]]
    return {"checked": len(results), "valid": len(results) - len(bad), "invalid": len(bad),
            "problems": sum(len(r["problems"]) for r in bad)}


def _summary(checked: int, valid: int, invalid: int, problems: int) -> str:
    from arrears.engine.domain.words import plural
    if not invalid:
        return f"{plural(checked, 'file')} checked, all valid"
    return (f"{plural(checked, 'file')} checked: {valid:,} valid, {invalid:,} with "
            f"{plural(problems, 'problem')}")
