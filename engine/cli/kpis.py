"""`arrears kpis`: collection KPIs of a period, from the store, per group.

    arrears kpis --from 2026-10-01 --to 2026-10-31 [--group-by segment|bucket|channel|stage]
                 [--format text|json|csv] [--db URL] [--policy FILE] [--config FILE]

The database and config file are found as `arrears tick` finds them (flag, environment,
config file, default; see engine/tick/settings.py). The policy (aging buckets, segments,
promise tolerance) is `--policy` if given, else the store's active policy (the one the
decisions use), else the configured file. Unit costs come from the config file's
`[kpis.costs]` table (engine/kpis/costs.py). The store is only read.
Exit status: 0 printed; 1 the policy has problems; 2 bad arguments or configuration;
3 the database cannot be used.
"""
from __future__ import annotations

import sys
import textwrap

from arrears.engine.cli.errors import ExitCode
from arrears.engine.cli.options import (
    add_command,
    add_config,
    add_database,
    TABLE_FORMATS,
    add_format,
    add_period,
    add_policy,
    load_settings,
    open_store,
    period,
    write_json,
)

# The KPI package is imported when the parser is built, so the groupings and the KPIs the help
# lists are the engine's own (`arrears replay` takes GROUP_BY from here).
from arrears.engine.kpis.catalogue import KPIS, UNIT_SYMBOLS
from arrears.engine.kpis.groups import GROUP_BY

HELP = "collection KPIs of a period (aging, DSO, CEI, roll rates, cure, promises, costs)"
KPI_KEYS = ("costs",)
POLICY_ROLE = "policy YAML for the aging buckets and segments"


def kpi_help(width: int = 100) -> str:
    """The KPIs `arrears kpis` reports, one per line with its unit, direction and definition
    (from the KPI catalogue, engine/kpis/catalogue.py)."""
    name_width = max(len(k.name) for k in KPIS)
    lines = ["KPIs (unit; up: higher is better, down: lower is better):"]
    for k in KPIS:
        head = f"  {k.name:<{name_width}}  {UNIT_SYMBOLS[k.unit]:<5}  {k.better:<4}  "
        lines += textwrap.wrap(k.definition, width, initial_indent=head, subsequent_indent=" " * len(head))
    return "\n".join(lines + ["", "Formulas, figures and edge cases: docs/kpis.md."])


def register(subparsers) -> None:
    """Add the `kpis` subcommand."""
    parser = add_command(subparsers, "kpis", HELP, description=HELP + ".", epilog=kpi_help(), exits={
        ExitCode.OK: "printed",
        ExitCode.PROBLEMS: "the policy has problems (printed as file:line:col: message)"})
    add_period(parser)
    parser.add_argument("--group-by", choices=GROUP_BY, help="one row per segment, opening aging bucket, "
                        "channel kind, decided stage or experiment strategy (default: the whole portfolio)")
    add_format(parser, TABLE_FORMATS, aliases={"table": "text"})
    add_store_options(parser, "unit costs in [kpis.costs]")
    parser.set_defaults(handler=run)


def add_store_options(parser, config_holds: str) -> None:
    """--db, --policy and --config, as the read-only reporting commands (kpis, goals, report)
    take them; `config_holds` says what they read from the config file."""
    add_database(parser)
    add_policy(parser, POLICY_ROLE, active_first=True)
    add_config(parser, config_holds)


def costs_from_config(config: dict):
    """The CostModel of a config file's `kpis` table (CostConfigError listing every problem)."""
    from arrears.engine.kpis.costs import CostConfigError, parse_costs
    section = config.get("kpis") or {}
    if not isinstance(section, dict):
        raise CostConfigError(["kpis: expected a table"])
    unknown = [f"kpis.{k}: unknown setting; allowed: {', '.join(KPI_KEYS)}" for k in section if k not in KPI_KEYS]
    if unknown:
        raise CostConfigError(unknown)
    return parse_costs(section.get("costs"))


def run(args) -> int:
    """Handler: load the ledger from the store, compute the KPIs and print them."""
    from arrears.engine.domain.batch import epoch_day
    from arrears.engine.kpis import compute_kpis, ledger_from_store
    from arrears.engine.kpis.render import to_csv, to_table
    from arrears.engine.policy.registry import read_policy
    from arrears.plugins.facts import installed_facts

    start, end = period(args)
    settings = load_settings(args)
    costs = costs_from_config(settings.dispatcher_config)
    with open_store(settings.database_url) as store:
        policy = read_policy(store, settings.policy_path, explicit=args.policy, facts=installed_facts(),
                             profiles=settings.profiles_path)
        ledger = ledger_from_store(store, policy, segment_days=[epoch_day(end)])
    report = compute_kpis(ledger, start, end, group_by=args.group_by, policy=policy, costs=costs)
    if args.format == "json":
        write_json(report.to_dict())
    elif args.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        sys.stdout.write(to_table(report))
    return ExitCode.OK
