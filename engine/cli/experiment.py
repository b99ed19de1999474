"""`arrears experiment validate|start|status|stop|resume|promote`: champion/challenger experiments.

    arrears experiment validate FILE            check the file; print the debtors it needs
    arrears experiment start FILE [--db URL]    start it (the active policy is the champion)
    arrears experiment status [NAME] [--at DATE] [--format text|json]
    arrears experiment stop NAME                every debtor back to the champion
    arrears experiment resume NAME              a paused one running again, once its cause is gone
    arrears experiment promote NAME CHALLENGER  end it and activate the challenger's version

Start, stop, resume and promote are audited with `by: cli`; each makes every account due, so the next
tick decides each one under its strategy. `status` without NAME shows the running experiment
(else the latest). docs/experiments.md explains the file, the results and the verdict.
"""
from __future__ import annotations

from datetime import datetime, time, timezone

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import (
    add_command,
    add_config,
    add_database,
    add_format,
    add_profiles,
    database_url,
    day,
    existing_file,
    load_settings,
    open_store,
    profiles_dir,
    write_json,
)

HELP = "champion/challenger experiments: validate, start, status, stop, resume, promote"
BY = "cli"
EXITS = {ExitCode.OK: "done", ExitCode.PROBLEMS: "the experiment file has problems (file:line:col: message)",
         ExitCode.CANNOT_START: "bad arguments, or the store refuses: no such experiment, one running already, "
                                "a challenger's policy not stored, a paused one's cause still there",
         ExitCode.DATABASE: "the database cannot be used"}


def register(subparsers) -> None:
    """Add the `experiment` subcommand and its actions."""
    parser = add_command(subparsers, "experiment", HELP, description=HELP + ". docs/experiments.md.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    validate = add_command(actions, "validate", "check an experiment file and print the debtors it needs",
                           exits={**EXITS, ExitCode.DATABASE: None})
    validate.add_argument("file", metavar="FILE")
    validate.set_defaults(handler=run_validate, command_name="experiment validate")
    start = add_command(actions, "start", "start an experiment (the active policy is the champion)", exits=EXITS)
    start.add_argument("file", metavar="FILE")
    start.set_defaults(handler=run_start, command_name="experiment start")
    status = add_command(actions, "status", "per-strategy KPIs, the difference and its confidence, the verdict",
                         exits={**EXITS, ExitCode.PROBLEMS: None})
    status.add_argument("name", nargs="?", metavar="NAME", help="default: the running experiment, else the latest")
    status.add_argument("--at", metavar="DATE", help="results as of the end of this day (default: today, UTC)")
    status.set_defaults(handler=run_status, command_name="experiment status")
    stop = add_command(actions, "stop", "stop a running experiment: every debtor back to the champion",
                       exits={**EXITS, ExitCode.PROBLEMS: None})
    stop.add_argument("name", metavar="NAME")
    stop.set_defaults(handler=run_stop, command_name="experiment stop")
    resume = add_command(actions, "resume", "resume an experiment the tick paused, once the cause is gone",
                         exits={**EXITS, ExitCode.PROBLEMS: None})
    resume.add_argument("name", metavar="NAME")
    resume.set_defaults(handler=run_resume, command_name="experiment resume")
    promote = add_command(actions, "promote", "end an experiment and activate a challenger's policy version",
                          exits={**EXITS, ExitCode.PROBLEMS: None})
    promote.add_argument("name", metavar="NAME")
    promote.add_argument("challenger", metavar="CHALLENGER")
    promote.set_defaults(handler=run_promote, command_name="experiment promote")
    for p in actions.choices.values():
        add_format(p)
        if p is not validate:
            add_database(p)
            add_config(p, "database_url" + (", profiles" if p in (start, resume, status) else ""))
    for p in (start, resume, status):
        add_profiles(p)


def _store(args):
    from arrears.engine.store import Store
    return Store(database_url(args))


def _profiles(args):
    """The company profiles directory (`--profiles`, $ARREARS_PROFILES, the config file's
    `profiles`): the tick compiles every strategy with it, so start and resume check with it."""
    return profiles_dir(args, load_settings(args))


def _facts():
    from arrears.plugins.facts import plugin_facts
    from arrears.plugins.manager import get_plugin_manager
    return plugin_facts(get_plugin_manager())


def run_validate(args) -> int:
    """Handler: check the file (every problem at file:line:col) and print what it needs."""
    from arrears.engine.experiments import load_experiment
    experiment = load_experiment(existing_file(args.file, "FILE"), facts=_facts())
    if args.format == "json":
        write_json(experiment.to_dict())
        return ExitCode.OK
    size = experiment.sample_size()
    shares = ", ".join(f"{a.name} {float(a.share * 100):g}%" for a in experiment.arms)
    print(f"ok  {args.file}  experiment {experiment.name} ({shares}), {experiment.start} to {experiment.end}")
    print(f"    needs {size.total:,} eligible debtors "
          f"({', '.join(f'{a} {n:,}' for a, n in size.per_arm.items())}) to see "
          f"{experiment.metric.minimum_detectable_effect:g} on {experiment.metric.kpi} "
          f"({experiment.metric.how.test}, alpha {experiment.metric.alpha:g}, power {experiment.metric.power:g})")
    return ExitCode.OK


def _row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "source"}


def run_start(args) -> int:
    """Handler: start the experiment in FILE."""
    from arrears.engine.experiments import lifecycle
    path = existing_file(args.file, "FILE")
    with _store(args) as store:
        row = lifecycle.start(store, path, by=BY, facts=_facts(), profiles=_profiles(args))
    if args.format == "json":
        write_json(_row(row))
    else:
        print(f"experiment {row['name']} started; the champion is {row['champion_digest']}")
    return ExitCode.OK


def run_status(args) -> int:
    """Handler: the results of NAME (default: the running experiment, else the latest)."""
    from arrears.engine.experiments.results import experiment_results
    now = min(datetime.now(timezone.utc), datetime.combine(day(args.at), time(23, 59, 59), timezone.utc))
    with open_store(database_url(args), current=True, read_only=True) as store:
        name = args.name or _default_name(store)
        result = experiment_results(store, name, now=now, facts=_facts(), profiles=_profiles(args))
    if args.format == "json":
        write_json(result.to_dict())
    else:
        print(result.to_text())
    return ExitCode.OK


def _default_name(store) -> str:
    row = store.experiments.running() or next(iter(store.experiments.listing()), None)
    if row is None:
        raise UsageError("no experiment was ever started (`arrears experiment start FILE`)")
    return row["name"]


def run_stop(args) -> int:
    """Handler: stop NAME."""
    from arrears.engine.experiments import lifecycle
    with _store(args) as store:
        row = lifecycle.stop(store, args.name, by=BY)
    if args.format == "json":
        write_json(_row(row))
    else:
        print(f"experiment {row['name']} stopped; the champion decides every debtor again")
    return ExitCode.OK


def run_resume(args) -> int:
    """Handler: resume the paused NAME (refused while the cause of its pause holds)."""
    from arrears.engine.experiments import lifecycle
    with _store(args) as store:
        row = lifecycle.resume(store, args.name, by=BY, facts=_facts(), profiles=_profiles(args))
    if args.format == "json":
        write_json(_row(row))
    else:
        print(f"experiment {row['name']} resumed; each debtor is decided under its strategy again from the next tick")
    return ExitCode.OK


def run_promote(args) -> int:
    """Handler: end NAME and activate CHALLENGER's policy version."""
    from arrears.engine.experiments import lifecycle
    with _store(args) as store:
        row = lifecycle.promote(store, args.name, args.challenger, by=BY)
        active = store.active_policy()
    if args.format == "json":
        write_json({**_row(row), "active_policy": active["digest"]})
    else:
        print(f"experiment {row['name']} ended; {args.challenger} promoted: {active['name']} {active['version']} "
              f"({active['digest']}) is the active policy")
    return ExitCode.OK
