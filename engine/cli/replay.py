"""`arrears replay FILE --from DATE --to DATE`: backtest a policy on historical invoices.

    arrears replay history.csv --from 2025-01-01 --to 2025-12-31 [--map MAPPING] [--policy FILE]
                   [--compare FILE] [--config FILE] [--by day|week|month] [--format text|json] [--tick-hours N]
                   [--group-by G] [--kpis-by month|quarter] [--contacts FILE] [--rejects FILE]
                   [--store URL] [--progress]

Reads the CSV (docs/replay.md), runs the engine day by day on a simulated clock and
prints the decision timeline, the portfolio's figures and the KPIs of the period. The
policy and the unit costs (`[kpis.costs]`) are found as `arrears kpis` finds them. With
`--compare B` the same history is replayed under policy B too, and the report is followed
by each KPI and contact total under A and B and their difference (B - A).
Exit status: 0 replayed; 1 some rows were rejected (the rest was replayed, the report
says how many), or the policy has problems; 2 nothing replayed (unusable file or mapping,
every row rejected, bad arguments or config, a --store database that is not empty);
3 the --store database cannot be used.
"""
from __future__ import annotations

import json
import sys
import time

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.kpis import GROUP_BY
from arrears.engine.cli.options import (
    add_command,
    add_config,
    add_format,
    add_period,
    add_policy,
    add_progress,
    existing_file,
    load_settings,
    period,
    wants_progress,
)
from arrears.engine.domain.errors import PolicyError
from arrears.engine.domain.words import plural

HELP = "replay historical invoices and payments through the engine (a backtest) and report"
SHOWN = 100      # rejects printed on stderr; --rejects FILE gets them all
EXAMPLES = 3     # rejects shown per column when every row was rejected
# arrears.engine.replay.timeline.PERIODS, spelt out: importing the replay package would slow `arrears --help`.
PERIODS = ("day", "week", "month")
KPIS_BY = ("month", "quarter")        # arrears.engine.replay.periods.KPIS_BY, for the same reason


def register(subparsers) -> None:
    """Add the `replay` subcommand."""
    parser = add_command(subparsers, "replay", HELP, description=HELP + ". See docs/replay.md.", exits={
        ExitCode.OK: "replayed",
        ExitCode.PROBLEMS: "some rows were rejected (printed as FILE:LINE: reason; the rest was replayed), "
                           "or the policy has problems (printed as file:line:col: message)",
        ExitCode.CANNOT_START: "nothing replayed: an unusable file or mapping (printed as file:line:col), "
                               "every row rejected (the reasons by column), bad arguments or configuration, "
                               "or a --store database that already holds accounts",
        ExitCode.DATABASE: "the --store database cannot be used (nothing written to it)"})
    parser.add_argument("file", metavar="FILE", help="CSV of invoices and what became of them")
    parser.add_argument("--map", metavar="MAPPING", help="read FILE through this mapping (YAML): column renames, "
                        "date formats, a default currency, ignored columns, undated disputes, value maps")
    add_period(parser)
    add_policy(parser, "policy YAML to replay")
    parser.add_argument("--compare", metavar="FILE", help="replay the same history under this policy YAML too "
                        "and report the KPI differences (B - A); not with --store or --contacts")
    add_config(parser, "unit costs in [kpis.costs]")
    parser.add_argument("--by", choices=PERIODS, default="month", help="timeline periods (default month)")
    add_format(parser)
    parser.add_argument("--tick-hours", type=int, default=24, metavar="N",
                        help="simulated hours between ticks, a divisor of 24 (default 24: once a day)")
    # A replay runs no experiment: no strategy to group by.
    parser.add_argument("--group-by", choices=[g for g in GROUP_BY if g != "strategy"],
                        help="KPIs per segment, bucket, channel or stage")
    parser.add_argument("--kpis-by", choices=KPIS_BY, help="the KPIs of each calendar month or quarter too "
                        "(the DSO's period average is over these periods; default: months)")
    parser.add_argument("--contacts", metavar="FILE", help="write every contact of the period here (CSV)")
    parser.add_argument("--rejects", metavar="FILE", help="write every rejected row here (JSON Lines)")
    parser.add_argument("--store", metavar="URL", help="write the replayed history (accounts, invoices, events, "
                        "the contacts sent, the stages decided) to this new database (a URL, or a path for "
                        "SQLite), for `arrears kpis` and `arrears report`")
    add_progress(parser)
    parser.set_defaults(handler=run)


class DayBar:
    """Replay progress on a stream: simulated days done and evaluations, at most ten redraws a second."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width, self.last = stream, width, 0.0

    def __call__(self, done: int, total: int, evaluations: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        frac = done / total if total else 1.0
        filled = int(frac * self.width)
        self.stream.write(f"\rreplaying [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{done:,}/{total:,} days, {evaluations:,} evaluations")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        self.stream.write("\n")
        self.stream.flush()


def _prepare(args):
    """(policy, costs, start, end, tick) from the arguments; UsageError, ConfigError or PolicyError."""
    from arrears.engine.cli.kpis import costs_from_config
    from arrears.engine.policy.load import load_policy

    start, end = period(args)
    if args.tick_hours <= 0 or 24 % args.tick_hours:
        raise UsageError(f"--tick-hours must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), got {args.tick_hours}")
    settings = load_settings(args)
    costs = costs_from_config(settings.dispatcher_config)
    return (load_policy(settings.policy_path, company_profiles=settings.profiles_path), costs, start, end,
            args.tick_hours * 3600)


class MappingProblems(UsageError, PolicyError):
    """A mapping file with problems: each printed as file:line:col, nothing replayed (exit 2)."""

    def __init__(self, problems):
        PolicyError.__init__(self, problems)


def _mapping(args):
    """The `--map` file loaded and checked (None without one); MappingProblems if it has any."""
    if args.map is None:
        return None
    from arrears.engine.replay.mapping import load_mapping
    existing_file(args.map, "--map")
    try:
        return load_mapping(args.map)
    except PolicyError as exc:
        raise MappingProblems(exc.problems) from None


def run(args) -> int:
    """Handler: read, replay, report; see the module docstring for the exit status."""
    store = _open_store(args)
    try:
        return _run(args, store)
    finally:
        if store is not None:
            store.close()


def _run(args, store) -> int:
    """Read, replay, report (and write the history to `store`, if one is given)."""
    from arrears.engine.cli.importer import ProgressBar
    from arrears.engine.replay import read_replay_csv, replay
    from arrears.engine.replay.export import write_contacts
    from arrears.engine.replay.report import build_report
    from arrears.engine.replay.text import render_text
    from arrears.engine.store.readers import Unusable

    show = wants_progress(args)
    policy, costs, start, end, tick = _prepare(args)
    other = _other_policy(args)
    mapping = _mapping(args)
    bar = ProgressBar(sys.stderr, f"reading {args.file}") if show else None
    try:
        data = read_replay_csv(args.file, on_progress=bar, mapping=mapping)
    except Unusable as exc:
        raise UsageError(f"{args.file}: {exc} (nothing replayed)") from exc
    finally:
        if bar is not None:
            bar.close()
    if data.rejects and not data.accounts:
        _write_rejects(args, data.rejects)
        raise UsageError(_all_rejected(args.file, data))
    _rejects(args, data.rejects)
    days = DayBar(sys.stderr) if show else None
    try:
        result = replay(data, policy, start, end, tick=tick, progress=days)
    finally:
        if days is not None:
            days.close()
    report = build_report(result, by=args.by, source=args.file, group_by=args.group_by, costs=costs,
                          kpis_by=args.kpis_by)
    if other is not None:
        return _compared(args, data, report, other, start, end, tick, costs)
    if args.contacts:
        try:
            write_contacts(result, args.contacts)
        except OSError as exc:
            raise UsageError(f"cannot write {args.contacts}: {exc.strerror}") from exc
    if store is not None:
        _store(args, store, result)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(report))
    rate = result.evaluations / result.seconds if result.seconds else 0.0
    print(f"arrears replay: {plural(result.history.n, 'account')}, {plural((end - start).days + 1, 'day')} "
          f"(from {result.simulated_from}) in {result.seconds:.1f} s: {result.evaluations:,} evaluations "
          f"({rate:,.0f}/s)", file=sys.stderr)
    return ExitCode.PROBLEMS if data.rejects else ExitCode.OK


def _other_policy(args):
    """The --compare policy (PolicyError with its problems), or None."""
    if not args.compare:
        return None
    if args.store or args.contacts:
        raise UsageError("--compare cannot be combined with --store or --contacts (which replay would they keep?)")
    from arrears.engine.policy.load import load_policy
    settings = load_settings(args)
    return load_policy(existing_file(args.compare, "--compare"), company_profiles=settings.profiles_path)


def _compared(args, data, report, policy, start, end, tick, costs) -> int:
    """Replay under the --compare policy too; print A's report, B's, and their differences."""
    from arrears.engine.replay import build_report, replay
    from arrears.engine.replay.compare import compare_reports
    from arrears.engine.replay.text import render_text
    other = build_report(replay(data, policy, start, end, tick=tick), by=args.by, source=args.file,
                         group_by=args.group_by, costs=costs, kpis_by=args.kpis_by)
    comparison = compare_reports(report, other)
    if args.format == "json":
        print(json.dumps({"a": report.to_dict(), "b": other.to_dict(), "comparison": comparison.to_dict()},
                         indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(report) + "\nunder the --compare policy:\n" + render_text(other)
                         + "\nA against B\n" + comparison.to_text())
    return ExitCode.PROBLEMS if data.rejects else ExitCode.OK


def _all_rejected(name: str, data) -> str:
    """Why nothing was replayed: the rows rejected per column, with the first few of each."""
    from arrears.engine.replay.csvmap import reject_summary
    every = "the only row was" if data.rows == 1 else f"all {plural(data.rows, 'row')} were"
    lines = [f"{name}: nothing replayed: {every} rejected; the reasons by column:"]
    for column, count, first in reject_summary(data.rejects, EXAMPLES):
        lines.append(f"  {column}: {plural(count, 'row')}, e.g.")
        lines += [f"    line {r.line}: {r.reason}" for r in first]
    return "\n".join(lines)


def _open_store(args):
    """The --store database, opened (and checked empty) before anything is replayed; None without one."""
    if not args.store:
        return None
    from arrears.engine.store import Store

    store = Store(args.store if "://" in args.store else f"sqlite:///{args.store}")
    held = store.account_count()
    if held:
        store.close()
        raise UsageError(f"--store: the database already holds {plural(held, 'account')}; "
                         "write a replay into a new (empty) database")
    return store


def _store(args, store, result) -> None:
    """Write the replayed history to the --store database."""
    from arrears.engine.replay.tostore import store_run

    done = store_run(result, store, args.file)
    print(f"arrears replay: stored {plural(done['accounts'], 'account')}, {plural(done['events'], 'event')} "
          f"and {plural(done['decisions'], 'decision')} in {args.store}", file=sys.stderr)


def _rejects(args, rejects) -> None:
    """Print the first rejected rows as FILE:LINE: reason on stderr; all of them to --rejects."""
    for reject in rejects[:SHOWN]:
        print(f"{args.file}:{reject.line}: {reject.reason}", file=sys.stderr)
    if len(rejects) > SHOWN:
        more = "see " + args.rejects if args.rejects else "use --rejects FILE to get them all"
        print(f"... and {len(rejects) - SHOWN:,} more rejected rows ({more})", file=sys.stderr)
    _write_rejects(args, rejects)


def _write_rejects(args, rejects) -> None:
    """Every rejected row to --rejects FILE (JSON Lines), when asked for."""
    if args.rejects:
        with open(args.rejects, "w", encoding="utf-8") as fh:
            for reject in rejects:
                fh.write(json.dumps(reject.to_dict(), ensure_ascii=False) + "\n")
