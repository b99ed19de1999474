"""`arrears goals`: where each recovery goal stands on a day (on-track, at-risk, off-track …).

    arrears goals [--goals FILE] [--at DATE] [--format text|json|csv] [--db URL] [--policy FILE]
                  [--config FILE]

The goals file is `--goals`, else `$ARREARS_GOALS`, else the config file's `goals`
(relative to that file), else the shipped `policies/goals.yaml`. The database, policy
and unit costs are found as `arrears kpis` finds them; the store is only read.
Exit status: 0 printed; 1 the goals file or the policy has problems (each printed as
file:line:col); 2 bad arguments or configuration; 3 the database cannot be used.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from arrears.engine.cli.errors import ExitCode
from arrears.engine.cli.kpis import add_store_options
from arrears.engine.cli.options import (
    TABLE_FORMATS,
    add_at,
    add_command,
    add_format,
    day,
    existing_file,
    load_settings,
    open_store,
    write_csv,
    write_json,
)

HELP = "where each recovery goal stands: baseline, current, expected and target, on-track or not"


def add_source_options(parser) -> None:
    """The options `goals` and `report` share: where the portfolio, policy and goals come from."""
    parser.add_argument("--goals", metavar="FILE", help="goals YAML (default: $ARREARS_GOALS, else the config "
                        "file's goals, else the shipped policies/goals.yaml)")
    add_store_options(parser, "goals, unit costs in [kpis.costs]")


# What the exit codes mean for `goals` and `report`.
EXITS = {ExitCode.PROBLEMS: "the goals file or the policy has problems (printed as file:line:col: message)"}


def register(subparsers) -> None:
    """Add the `goals` subcommand."""
    parser = add_command(subparsers, "goals", HELP, exits={ExitCode.OK: "printed", **EXITS},
                         description=HELP + ". Statuses: docs/goals-and-report.md.")
    add_at(parser, day=True)
    add_format(parser, TABLE_FORMATS, aliases={"table": "text"})
    add_source_options(parser)
    parser.set_defaults(handler=run)


def goals_path(flag: str | None, settings, environ=None) -> Path:
    """The goals file: the flag, else $ARREARS_GOALS, else the config file's `goals`, else the shipped one."""
    from arrears.engine.goals import DEFAULT_GOALS, GOALS_ENV
    env = os.environ if environ is None else environ
    if flag or env.get(GOALS_ENV):
        return Path(flag or env[GOALS_ENV])
    configured = settings.dispatcher_config.get("goals")
    if configured:
        base = settings.config_path.resolve().parent if settings.config_path else Path.cwd()
        return base / str(configured)
    return DEFAULT_GOALS


@dataclass
class Sources:
    """What `goals` and `report` read: the settings, unit costs, policy and goals file."""

    settings: object
    costs: object
    policy: object
    goals_file: Path


def sources(args) -> Sources:
    """Resolve the settings, costs, policy and goals file of `args` (ArrearsError if unusable)."""
    from arrears.engine.cli.kpis import costs_from_config
    from arrears.engine.policy.registry import read_policy
    from arrears.plugins.facts import installed_facts

    if args.goals and not getattr(args, "no_goals", False):
        existing_file(args.goals, "--goals")
    settings = load_settings(args)
    costs = costs_from_config(settings.dispatcher_config)
    # The policy whose buckets and segments the goals name: --policy, else the store's active one.
    with open_store(settings.database_url) as store:
        policy = read_policy(store, settings.policy_path, explicit=args.policy, facts=installed_facts(),
                             profiles=settings.profiles_path)
    return Sources(settings, costs, policy, goals_path(args.goals, settings))


def read_ledger(database_url: str, policy, segment_days):
    """The stored portfolio as a KPI ledger, read-only (no schema upgrade, no new database file)."""
    from arrears.engine.kpis import ledger_from_store

    with open_store(database_url) as store:
        return ledger_from_store(store, policy, segment_days=segment_days)


def run(args) -> int:
    """Handler: load the goals, measure them on the stored portfolio, print the statuses."""
    from arrears.engine.goals import days_to_measure, evaluate_goals, load_goals
    from arrears.engine.goals.text import CSV_HEADER, csv_rows, render

    at = day(args.at)
    src = sources(args)
    goalset = load_goals(src.goals_file, buckets=src.policy.bucket_names, segments=tuple(src.policy.segments))
    ledger = read_ledger(src.settings.database_url, src.policy, days_to_measure(goalset, at))
    report = evaluate_goals(goalset, ledger, src.policy, at, costs=src.costs).to_dict()
    if args.format == "json":
        write_json(report)
    elif args.format == "csv":
        write_csv(CSV_HEADER, csv_rows(report))
    else:
        sys.stdout.write(render(report))
    return ExitCode.OK
