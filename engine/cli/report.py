"""`arrears report`: the collections report for a period as one self-contained HTML page.

    arrears report --from DATE --to DATE --out report.html [--goals FILE] [--db URL] [--policy FILE] [--config FILE]
                   [--capacity KIND=N] [--experiment NAME]

Aging by bucket at each month end, roll rates, DSO, collections by channel, a KPI
table per currency, contacts per day against each channel's daily capacity (the config
file's `daily_capacity`, `--capacity KIND=N` on top) and, with goals, each goal's progress
(judged on `--to`); while a champion/challenger experiment runs (or for `--experiment
NAME`), its results as of `--to`. The page has no script and loads nothing: it can be mailed, archived or printed.
The file is written whole or not at all. Exit status: 0 written; 1 the goals file or
the policy has problems (printed as file:line:col); 2 bad arguments or configuration,
or the page cannot be written; 3 the database cannot be used.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.goals import EXITS, add_source_options
from arrears.engine.cli.options import (
    add_capacity,
    add_command,
    add_format,
    add_period,
    open_store,
    period,
    write_json,
)
from arrears.engine.domain.words import plural

HELP = "write the collections report (charts, KPIs, goal progress) as a self-contained HTML page"


def register(subparsers) -> None:
    """Add the `report` subcommand."""
    parser = add_command(subparsers, "report", HELP, description=HELP + ".",
                         exits={ExitCode.OK: "written", **EXITS,
                                ExitCode.CANNOT_START: "could not start: bad arguments, configuration or "
                                                       "plugins, or the page cannot be written"})
    add_period(parser, to_note="goals are judged on it")
    parser.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    add_source_options(parser)
    parser.add_argument("--no-goals", action="store_true", help="leave the goals out")
    parser.add_argument("--experiment", metavar="NAME", help="the results of this champion/challenger experiment "
                        "as of the period's end (default: the running one, if any)")
    add_capacity(parser)
    add_format(parser)
    parser.set_defaults(handler=run)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory, then rename it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)       # as open() would have made it (mkstemp makes 0600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _experiment_results(database_url: str, name: str | None, end, profiles=None) -> dict | None:
    """The results (as of the end of `end`) of experiment `name`, else of the running one; None
    when there is none (or the database's schema predates experiments and `name` is not given)."""
    from datetime import datetime, time, timezone

    from arrears.engine.experiments.results import experiment_results
    from arrears.engine.store import SCHEMA_HEAD
    from arrears.plugins.facts import installed_facts
    with open_store(database_url) as store:
        if name is None:
            if store.schema_revision() != SCHEMA_HEAD:
                return None
            row = store.experiments.running()
            if row is None:
                return None
            name = row["name"]
        now = min(datetime.now(timezone.utc), datetime.combine(end, time(23, 59, 59), timezone.utc))
        return experiment_results(store, name, now=now, facts=installed_facts(), profiles=profiles).to_dict()


def run(args) -> int:
    """Handler: read the portfolio, gather the figures, judge the goals, write the page."""
    from arrears.engine.cli.goals import read_ledger, sources
    from arrears.engine.goals import load_goals
    from arrears.engine.report import measure_days, report_page

    start, end = period(args)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out: no such directory: {out.parent}")
    src = sources(args)
    goalset = None if args.no_goals else load_goals(src.goals_file, buckets=src.policy.bucket_names,
                                                    segments=tuple(src.policy.segments))
    ledger = read_ledger(src.settings.database_url, src.policy, measure_days(goalset, end))
    experiment = _experiment_results(src.settings.database_url, args.experiment, end, src.settings.profiles_path)
    page = report_page(ledger, src.policy, start, end, goalset=goalset, costs=src.costs,
                       capacity=_capacity(src.settings, args.capacity), experiment=experiment)
    data, goals = page.data, page.goals
    write_atomically(out, page.html)
    periods = len(data.currencies[0].periods) if data.currencies else 0
    shown, left = _goals_shown(goals, start, end)
    if args.format == "json":
        write_json({"out": str(out), "currencies": len(data.currencies), "periods": periods,
                    "goals": shown, "goals_left_out": left})
    else:
        print(f"wrote {out} ({plural(len(data.currencies), 'currency')}, {plural(periods, 'period')}"
              + ("" if goals is None else f", {plural(shown, 'goal')}")
              + (f" ({left} outside the period left out)" if left else "") + ")")
    return ExitCode.OK


def _capacity(settings, overrides):
    """The channels' daily capacity: the config file's `daily_capacity` (as `arrears simulate`
    reads it), with `--capacity` on top (CapacityError, exit 2, if unusable)."""
    from arrears.engine.simulate import from_delivery_config
    capacity = from_delivery_config(settings.dispatcher_config)
    return capacity.overridden(dict(overrides)) if overrides else capacity


def _goals_shown(goals: dict | None, start, end) -> tuple[int | None, int | None]:
    """(goals on the page, goals left out for not overlapping the period); None without goals."""
    from arrears.engine.report.charts import goals_in_period
    if goals is None:
        return None, None
    kept, left = goals_in_period(goals, start.isoformat(), end.isoformat())
    return len(kept["goals"]), len(left)
