"""`arrears serve`: the HTTP API (waitress) and the scheduled tick, in one process.

The tick runs at start-up, then every `--interval` seconds or on the `--cron` schedule
(both also from the environment or the config file; see `arrears.engine.tick.settings`).
`--no-scheduler` serves the API alone (extra replicas). `--workers N` serves the API
from N processes sharing the port, to use N cores; the tick then runs in the parent,
which watches them (a tick requested over the API runs in the process that received
it and leaves delivery to the scheduled tick). `--demo` loads a generated portfolio
into an empty database and, when no API key is configured, prints a demo admin key,
so a newcomer sees real decisions at once; beside a SQLite file the key is kept
(`<file>.demo-key`), so a restart prints the same one.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import sys
from pathlib import Path

from arrears.engine.cli.errors import CommandError, ExitCode, UsageError
from arrears.engine.cli.options import add_command, load_settings
from arrears.engine.cli.tick import add_common
from arrears.engine.domain.words import plural

HELP = "serve the HTTP API and run the scheduled tick until interrupted"


def register(subparsers) -> None:
    """Add the `serve` subcommand."""
    parser = add_command(subparsers, "serve", HELP, exits={
        ExitCode.OK: "stopped by SIGINT or SIGTERM",
        ExitCode.PROBLEMS: "the policy has problems (printed as file:line:col: message)",
        ExitCode.CANNOT_START: "bad arguments, configuration, plugins or API keys; the port is taken"})
    add_common(parser)
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--interval", type=int, metavar="SECONDS",
                      help="seconds between ticks (default: $ARREARS_TICK_INTERVAL, else 300)")
    when.add_argument("--cron", metavar="EXPR", help="crontab schedule in UTC, e.g. '*/15 * * * *' "
                      "(default: $ARREARS_TICK_CRON)")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="serve the API without running the tick (extra API replicas)")
    parser.add_argument("--demo", action="store_true",
                        help="load demo accounts into an empty database; print a demo API key if none is set")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="API threads per process (default: arrears.api.httpd.DEFAULT_THREADS, 64): more "
                             "requests in flight make bigger decision batches")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="API server processes sharing the port (default 1; Linux); the tick "
                             "runs in the parent process")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Handler: serve the API (and the tick unless --no-scheduler) until SIGINT/SIGTERM."""
    from arrears.api import create_app
    from arrears.api.auth import KeyConfigError
    from arrears.api.httpd import DEFAULT_THREADS
    from arrears.api.server import serve as serve_api
    from arrears.engine.cli.goals import goals_path
    from arrears.engine.tick.scheduler import TickScheduler, announce
    from arrears.engine.tick.service import Runtime, TickJob

    if args.workers < 1:             # before anything is opened or created
        raise UsageError("--workers must be at least 1")
    from arrears.api.requestids import RequestIdFilter
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    for handler in logging.getLogger().handlers:     # `-` outside a request (the tick, start-up)
        handler.addFilter(RequestIdFilter())
    logging.getLogger("alembic").setLevel(logging.WARNING)   # migration chatter on every start
    # APScheduler says "Adding job tentatively", "Running job", "executed successfully" at INFO for
    # every job run; the tick and the dashboard log what they did themselves. Its missed runs and
    # job errors are warnings and errors, still shown.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = load_settings(args, interval=args.interval, cron=args.cron)
    config = {"database_url": settings.database_url, "policy": str(settings.policy_path)}
    if settings.profiles_path is not None:
        config["profiles"] = str(settings.profiles_path)
    if "kpis" in settings.dispatcher_config:      # unit costs for GET /v1/kpis
        config["kpis"] = settings.dispatcher_config["kpis"]
    config["goals"] = str(goals_path(None, settings))   # GET /v1/goals ($ARREARS_GOALS, config `goals`)
    if settings.broker_url:                       # the distributed tick: /metrics shows its queues
        config["broker_url"] = settings.broker_url
    if "console" in settings.dispatcher_config:    # the console's settings (docs/console.md)
        config["console"] = settings.dispatcher_config["console"]
    if args.demo:
        _demo(settings, config)
    try:
        app = create_app(config)
    except KeyConfigError as exc:    # a ValueError, not one of ours: $ARREARS_API_KEYS is configuration
        raise UsageError(str(exc)) from exc
    runtime = None if args.no_scheduler else Runtime(settings)
    scheduler = None if runtime is None else TickScheduler(TickJob(runtime), settings)
    if scheduler is not None and args.workers == 1:
        scheduler.init_app(app)       # POST /v1/ticks runs through it (with its dispatcher)
    if scheduler is not None:         # the dashboard, computed beside the ticks (docs/console.md)
        from arrears.api.app import state_of
        from arrears.console.dashboard import DashboardJob
        scheduler.add_periodic(DashboardJob(state_of(app)), app.extensions["arrears.console"].dashboard_minutes,
                               "arrears-dashboard", "arrears dashboard", after_ticks=True)
        from arrears.console.experiments import ExperimentsJob
        scheduler.add_periodic(ExperimentsJob(state_of(app)), app.extensions["arrears.console"].dashboard_minutes,
                               "arrears-experiments", "arrears experiments' results", after_ticks=True)

    @contextlib.contextmanager
    def ticking():
        # Started once the API listens (after forking its processes: threads do not
        # survive a fork); stopped in `finally` below.
        scheduler.start()
        announce(settings)
        yield

    try:
        serve_api(app, args.host, args.port, args.threads or DEFAULT_THREADS, workers=args.workers,
                  parent=ticking if scheduler is not None else None)
    except OSError as exc:            # e.g. the port is taken
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                           ExitCode.CANNOT_START) from exc
    finally:
        log = logging.getLogger("arrears.serve")
        log.info("arrears serve: shutting down (waiting for a running tick to stop)")
        app.extensions["arrears.whatif"].shutdown()     # the workbench's what-if jobs stop at their page
        if scheduler is not None:
            scheduler.shutdown()
        if runtime is not None:
            runtime.close()
        log.info("arrears serve: stopped")
    return ExitCode.OK


def _demo_login(store) -> tuple[str, str] | None:
    """The demo console login: made once, when the database has no user yet, and kept (the
    password in the database's settings, as the demo's only plain-text secret) so every
    `serve --demo` on the same database prints the same login. None when real users exist
    and no demo login was ever made, or when the demo user was disabled or its password changed."""
    import secrets

    from arrears.console.passwords import hash_password, verify
    users = store.users
    kept = users.setting("console.demo_password")
    if kept is None:
        if users.count():
            return None
        kept = users.keep_setting("console.demo_password", secrets.token_urlsafe(12))
        users.add("demo", "admin", hash_password(kept), by="serve --demo")
    demo = users.get("demo")
    if demo is None or demo.disabled or not verify(demo.password_hash, kept):
        return None
    return "demo", kept


def _demo(settings, config: dict) -> None:
    """Demo data into an empty database, and a demo key when none is configured."""
    from datetime import datetime, timezone

    from arrears.engine.demo import load_demo
    from arrears.engine.store import Store
    with Store(settings.database_url) as store:
        added = load_demo(store, datetime.now(timezone.utc).date())
        login = _demo_login(store)
    if added:
        print(f"arrears serve: loaded {plural(added, 'demo account')}", file=sys.stderr)
    if login is not None:
        print(f"arrears serve: demo console login (admin): {login[0]} / {login[1]}", file=sys.stderr, flush=True)
    if not os.environ.get("ARREARS_API_KEYS"):
        key, kept = demo_key(settings.database_url)
        config["api"] = {"keys": {key: "admin"}}
        where = f" (kept in {kept})" if kept else " (a new one each start: kept only beside a SQLite file)"
        print(f"arrears serve: demo API key (admin): {key}{where}", file=sys.stderr, flush=True)


DEMO_KEY = re.compile(r"^demo-[A-Za-z0-9_-]{24}$")


def demo_key(database_url: str) -> tuple[str, Path | None]:
    """The demo admin key of the database at `database_url`, and the file that keeps it.

    Beside a SQLite database file, in `<file>.demo-key` (readable by its owner only), so a
    restart on the same database prints the same key; made on first use. Other databases
    (PostgreSQL, in-memory SQLite) get a new key each start and no file (None): the key is
    never written into the database, whose audit log other roles may read.
    """
    from arrears.engine.store.db import sqlite_path

    path = sqlite_path(database_url)
    if path is None:
        return "demo-" + secrets.token_urlsafe(18), None
    keep = path.with_name(path.name + ".demo-key")
    try:
        kept = keep.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        kept = None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read the demo key file {keep}: {getattr(exc, 'strerror', None) or exc}",
                           ExitCode.CANNOT_START) from exc
    if kept is not None and DEMO_KEY.match(kept):
        return kept, keep
    key = "demo-" + secrets.token_urlsafe(18)
    try:
        fd = os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
    except OSError as exc:
        raise CommandError(f"cannot keep the demo key in {keep}: {exc.strerror or exc}",
                           ExitCode.CANNOT_START) from exc
    return key, keep
