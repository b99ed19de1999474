"""`arrears simulate`: what a candidate policy would do to the stored portfolio, next to the active one.

Read-only: opens the database without upgrading or creating it and writes nothing.
Exit status: 0 the report was printed; 1 the candidate or the stored active policy has
problems (each printed as file:line:col); 2 bad arguments, configuration or plugins;
3 the database cannot be used (missing, no Arrears schema, an older schema, locked).
"""
from __future__ import annotations

import sys

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import (
    add_at,
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

HELP = "compare a candidate policy with the active one over every stored account (stores nothing)"


def register(subparsers) -> None:
    """Add the `simulate` subcommand."""
    p = add_command(subparsers, "simulate", HELP, exits={
        ExitCode.OK: "the report was printed",
        ExitCode.PROBLEMS: "the candidate or the stored active policy has problems (printed as "
                           "file:line:col: message)",
        ExitCode.DATABASE: "the database cannot be used (missing, no Arrears schema, an older schema, "
                           "locked)"})
    p.add_argument("--candidate", required=True, metavar="FILE", help="the candidate policy YAML")
    add_at(p)
    add_database(p)
    add_policy(p, "the policy to compare with when the database has no active version")
    add_config(p, "the channels' daily_capacity and routes, [tick] batch_size")
    p.add_argument("--sample", type=_count, default=20, metavar="N",
                   help="accounts shown per sample (stage changes, newly suppressed, newly released; default 20)")
    p.add_argument("--capacity", action="append", default=[], type=_capacity, metavar="KIND=N",
                   help="daily capacity of a delivery channel kind, replacing the configured one "
                        "(repeatable), e.g. call=150")
    add_format(p)
    add_progress(p)
    p.set_defaults(handler=run)


def _count(text: str) -> int:
    import argparse
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _capacity(text: str) -> tuple[str, int]:
    import argparse
    kind, sep, number = text.partition("=")
    if not sep or not kind.strip() or not number.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected KIND=N (e.g. call=150), got {text!r}")
    return kind.strip(), int(number)


def run(args) -> int:
    """Handler: simulate and print the report as text or JSON."""
    from arrears.engine.cli.tick import Bar
    from arrears.engine.domain.errors import ArrearsError, PolicyError
    from arrears.engine.policy.load import load_policy
    from arrears.engine.policy.registry import read_policy
    from arrears.engine.simulate import from_delivery_config, simulate
    from arrears.engine.simulate.text import render
    from arrears.plugins.facts import installed_facts

    existing_file(args.candidate, "--candidate")
    try:
        facts = installed_facts()       # the candidate and the active policy may use them
    except ArrearsError as exc:
        raise UsageError(f"cannot load the plugins' facts: {exc}") from exc
    settings = load_settings(args)
    candidate = load_policy(args.candidate, facts=facts, company_profiles=settings.profiles_path)
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
        except PolicyError as exc:
            exc.add_note("the active policy does not load:")
            raise
        finally:
            if bar is not None:
                bar.close()
    data = report.to_dict()
    if args.format == "json":
        write_json(data)
    else:
        sys.stdout.write(render(data))
    return ExitCode.OK
