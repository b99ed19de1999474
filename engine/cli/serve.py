"""`arrears serve`: run the scheduled tick until SIGINT or SIGTERM.

The tick runs at start-up, then every `--interval` seconds or on the `--cron` schedule
(both also from the environment or the config file; see `engine.tick.settings`). The
HTTP API will be served by the same command; `--no-scheduler` is reserved for running
the API alone.
"""
from __future__ import annotations

import logging
import sys

HELP = "run the scheduled tick (APScheduler) until interrupted"


def register(subparsers) -> None:
    """Add the `serve` subcommand."""
    from engine.cli.tick import add_common
    parser = subparsers.add_parser("serve", help=HELP, description=HELP)
    add_common(parser)
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--interval", type=int, metavar="SECONDS",
                      help="seconds between ticks (default: $ARREARS_TICK_INTERVAL, else 300)")
    when.add_argument("--cron", metavar="EXPR", help="crontab schedule in UTC, e.g. '*/15 * * * *' "
                      "(default: $ARREARS_TICK_CRON)")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="do not run the tick (reserved for serving the HTTP API alone)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Handler: start the scheduler and block until SIGINT/SIGTERM; 0 on a clean stop."""
    from engine.errors import ArrearsError
    from engine.tick.scheduler import serve
    from engine.tick.service import Runtime
    from engine.tick.settings import load_settings
    from sqlalchemy.exc import SQLAlchemyError

    if args.no_scheduler:
        print("arrears serve: --no-scheduler leaves nothing to run yet (the HTTP API is not "
              "part of this version)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(db=args.db, policy=args.policy, config=args.config,
                                 interval=args.interval, cron=args.cron)
        runtime = Runtime(settings)
    except (ArrearsError, SQLAlchemyError, OSError) as exc:
        print(f"arrears serve: {exc}", file=sys.stderr)
        return 1
    return serve(settings, runtime=runtime)
