"""`arrears kpis`: collection KPIs of a period, from the store, per group.

    arrears kpis --from 2026-10-01 --to 2026-10-31 [--group-by segment|bucket|channel|stage]
                 [--format table|json|csv] [--db URL] [--policy FILE] [--config FILE]

The database and config file are found as `arrears tick` finds them (flag, environment,
config file, default; see engine/tick/settings.py). The policy (aging buckets, segments,
promise tolerance) is `--policy` if given, else the store's active policy (the one the
decisions use), else the configured file. Unit costs come from the config file's
`[kpis.costs]` table (engine/kpis/costs.py). The store is only read.
Exit status: 0 printed; 1 bad arguments, configuration, policy or database.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap

# The KPI package is imported when the parser is built anyway (`arrears replay` reads its
# GROUP_BY too), so the groupings and the KPIs the help lists are the engine's own.
from arrears.engine.kpis.catalogue import KPIS, UNIT_SYMBOLS
from arrears.engine.kpis.groups import GROUP_BY

HELP = "collection KPIs of a period (aging, DSO, CEI, roll rates, cure, promises, costs)"
KPI_KEYS = ("costs",)


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
    parser = subparsers.add_parser("kpis", help=HELP, description=HELP + ".", epilog=kpi_help(),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="start", required=True, metavar="DATE",
                        help="first day of the period (YYYY-MM-DD, the debtors' local days)")
    parser.add_argument("--to", dest="end", required=True, metavar="DATE",
                        help="last day of the period (included)")
    parser.add_argument("--group-by", choices=GROUP_BY, help="one row per segment, opening aging bucket, "
                        "channel kind or decided stage (default: the whole portfolio)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table",
                        help="output (default table)")
    add_store_options(parser, "unit costs in [kpis.costs]")
    parser.set_defaults(handler=run)


def open_store(url: str):
    """The store at `url` for a reporting command: read-only (no schema upgrade, no new
    database file); ArrearsError if it holds no Arrears schema."""
    from arrears.engine.domain.errors import ArrearsError
    from arrears.engine.store import Store

    store = Store(url, upgrade=False, create=False)
    if store.schema_revision() is None:
        store.close()
        raise ArrearsError("the database has no Arrears schema")
    return store


def add_store_options(parser, config_holds: str) -> None:
    """--db, --policy and --config, as the read-only reporting commands (kpis, goals, report)
    take them; `config_holds` says what they read from the config file."""
    parser.add_argument("--db", "--database", dest="db", metavar="URL",
                        help="database URL (default: $ARREARS_DATABASE_URL, else the config file's "
                             "database_url, else sqlite:///arrears.db)")
    parser.add_argument("--policy", metavar="FILE", help="policy YAML for the aging buckets and segments "
                        "(default: the database's active policy; if none, $ARREARS_POLICY, the config "
                        "file's policy or the shipped one)")
    parser.add_argument("--config", metavar="FILE", help="config file, TOML or YAML (default: $ARREARS_CONFIG): "
                        + config_holds)


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
    from arrears.engine.domain.errors import ArrearsError, StoreError
    from arrears.engine.domain.model import parse_date
    from arrears.engine.kpis import compute_kpis, ledger_from_store
    from arrears.engine.kpis.render import to_csv, to_table
    from arrears.engine.policy.registry import read_policy
    from arrears.engine.tick.settings import load_settings
    from arrears.plugins.facts import installed_facts

    try:
        start, end = parse_date(args.start, "--from"), parse_date(args.end, "--to")
        if start > end:
            raise ArrearsError(f"--from {start} is after --to {end}")
        settings = load_settings(db=args.db, policy=args.policy, config=args.config)
        costs = costs_from_config(settings.dispatcher_config)
        with open_store(settings.database_url) as store:
            policy = read_policy(store, settings.policy_path, explicit=args.policy, facts=installed_facts())
            ledger = ledger_from_store(store, policy, segment_days=[epoch_day(end)])
        report = compute_kpis(ledger, start, end, group_by=args.group_by, policy=policy, costs=costs)
    except (ArrearsError, StoreError, OSError) as exc:
        print(f"arrears kpis: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        sys.stdout.write(to_table(report))
    return 0
