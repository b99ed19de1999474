"""`arrears worker`: a Celery worker of the distributed tick, on any machine (docs/scale-out.md).

It serves the tick's two queues: pages of due accounts (load, decide and write one page in one
transaction, with the tick's revision and decision-key checks) and parts of the due contacts
(claim, re-check and deliver each at most once). The leader (`arrears serve` or `arrears tick`
with the same `--db` and `--broker`) enqueues them. Needs `--broker` (or $ARREARS_BROKER_URL,
or the config file's `broker_url`) and a PostgreSQL `--db`; the channels, routes and templates
come from the same config file as the leader's.

Exit status: 0 stopped by SIGTERM or SIGINT (after the running tasks finished); 2 no broker,
bad arguments, configuration or plugins; 3 the database cannot be used.
"""
from __future__ import annotations

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import add_command, load_settings
from arrears.engine.cli.tick import add_common

HELP = "run a Celery worker of the distributed tick: evaluate pages and deliver contacts"


def register(subparsers) -> None:
    """Add the `worker` subcommand."""
    parser = add_command(subparsers, "worker", HELP, exits={
        ExitCode.OK: "stopped by SIGTERM or SIGINT, after the running tasks finished",
        ExitCode.CANNOT_START: "no broker (--broker), bad arguments, configuration or plugins",
        ExitCode.DATABASE: "the database cannot be used"})
    add_common(parser)
    parser.add_argument("--concurrency", type=int, metavar="N",
                        help="task processes (default: the config file's scale.concurrency, else 1)")
    parser.add_argument("--name", metavar="NAME", help="the worker's Celery node name (default: arrears-PID@HOST)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Handler: check the settings and the database, then serve the tick's queues until stopped."""
    import logging
    import sys

    from arrears.engine.store import Store
    from arrears.engine.tick.celeryapp import run_worker
    from arrears.engine.tick.service import Runtime

    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    settings = load_settings(args)
    if not settings.broker_url:
        raise UsageError("arrears worker needs a broker: --broker redis://... (or $ARREARS_BROKER_URL, or the "
                         "config file's broker_url)")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with Store(settings.database_url):         # reachable, and at the current schema, before serving
        pass
    return run_worker(settings, lambda: Runtime(settings), concurrency=args.concurrency, name=args.name)
