"""`arrears simulate`: what a candidate policy would do to the stored portfolio, next to the active one.

Read-only: opens the database without upgrading or creating it and writes nothing.
The candidate's warnings (compared with the active policy, with the store's accounts per stage)
come first, as `validate` prints them (JSON: a `warnings` list). Exit status: 0 the report was
printed; 1 the candidate or the stored active policy has problems (each printed as
file:line:col), or with `--strict` the candidate has a warning nobody silenced; 2 bad arguments,
configuration or plugins;
3 the database cannot be used (missing, no Arrears schema, an older schema, locked).
"""
from __future__ import annotations

import sys

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import (
    add_at,
    add_capacity,
    add_command,
    add_config,
    add_database,
    add_format,
    add_policy,
    add_progress,
    existing_file,
    instant,
    load_settings,
    open_store,
    wants_progress,
    write_json,
)
from arrears.engine.cli.warnopts import add_warning_options, print_warnings

HELP = "compare a candidate policy with the active one over every stored account (stores nothing)"


def register(subparsers) -> None:
    """Add the `simulate` subcommand."""
    p = add_command(subparsers, "simulate", HELP, exits={
        ExitCode.OK: "the report was printed",
        ExitCode.PROBLEMS: "the candidate or the stored active policy has problems (printed as "
                           "file:line:col: message), or with --strict the candidate has a warning nobody "
                           "silenced (the report is printed all the same)",
        ExitCode.DATABASE: "the database cannot be used (missing, no Arrears schema, an older schema, "
                           "locked)"})
    p.add_argument("--candidate", required=True, metavar="FILE", help="the candidate policy YAML")
    add_at(p)
    add_database(p)
    add_policy(p, "the policy to compare with when the database has no active version")
    add_config(p, "the channels' daily_capacity and routes, [tick] batch_size")
    p.add_argument("--sample", type=_count, default=20, metavar="N",
                   help="accounts shown per sample (stage changes, newly suppressed, newly released; default 20)")
    add_capacity(p)
    add_format(p)
    add_progress(p)
    add_warning_options(p, against=False, database=False)
    p.set_defaults(handler=run)


def _count(text: str) -> int:
    import argparse
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def run(args) -> int:
    """Handler: simulate and print the report as text or JSON."""
    from arrears.engine.cli.tick import Bar
    from arrears.engine.domain.errors import ArrearsError, PolicyError
    from arrears.engine.policy.load import load_checked
    from arrears.engine.policy.registry import read_policy
    from arrears.engine.policy.warnrules import policy_warnings
    from arrears.engine.simulate import from_delivery_config, simulate
    from arrears.engine.simulate.text import render
    from arrears.plugins.facts import installed_facts

    existing_file(args.candidate, "--candidate")
    try:
        facts = installed_facts()       # the candidate and the active policy may use them
    except ArrearsError as exc:
        raise UsageError(f"cannot load the plugins' facts: {exc}") from exc
    settings = load_settings(args)
    candidate, candidate_doc = load_checked(args.candidate, facts=facts,
                                            company_profiles=settings.profiles_path)
    at = instant(args.at, whole_seconds=True)
    capacity = from_delivery_config(settings.dispatcher_config).overridden(dict(args.capacity))
    with open_store(settings.database_url, current=True) as store:
        bar = Bar(sys.stderr) if wants_progress(args) else None
        try:
            active = read_policy(store, settings.policy_path, facts=facts, profiles=settings.profiles_path,
                                 warn=lambda msg: print(f"arrears simulate: {msg}", file=sys.stderr))
            progress = (lambda done, total: bar("evaluate", done, total)) if bar else None
            report = simulate(store, active, candidate, at, batch_size=settings.batch_size,
                              sample=args.sample, progress=progress, capacity=capacity)
            warnings = policy_warnings(candidate, candidate_doc, args.candidate, against=active,
                                       portfolio=store.history_names())
        except PolicyError as exc:
            exc.add_note("the active policy does not load:")
            raise
        finally:
            if bar is not None:
                bar.close()
    data = report.to_dict()
    if args.format == "json":
        data["warnings"] = [w.to_dict() for w in warnings]
        write_json(data)
        strict_bad = args.strict and any(not w.silenced for w in warnings)
    else:
        if warnings:
            print(f"warnings of the candidate {args.candidate}:")
        strict_bad = print_warnings(warnings, args)
        sys.stdout.write(render(data))
    return ExitCode.PROBLEMS if strict_bad else ExitCode.OK
