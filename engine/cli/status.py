"""`arrears status`: the distributed tick's workers and queues, and the last ticks.

    arrears status [--db URL] [--broker URL] [--config FILE] [--format text|json]

Lists the broker's queues (tasks waiting: pages of due accounts, parts of due contacts), the
pages queued and not yet finished, the workers that finished pages in the last hour (from
the pages they wrote, so workers on any machine are seen), and the last ticks as recorded in
`tick_runs`. Without a broker it shows the last ticks only (the tick runs in-process).
It also asks the broker which workers answer now (`--no-ping` skips that one-second wait).
Exit status: 0 shown; 2 bad arguments or configuration; 3 the database cannot be used.
"""
from __future__ import annotations

from arrears.engine.cli.errors import ExitCode
from arrears.engine.cli.options import add_command, add_format, load_settings, open_store, write_json
from arrears.engine.cli.tick import add_common

HELP = "show the distributed tick's workers and queues, and the last ticks"
LAST_TICKS = 5


def register(subparsers) -> None:
    """Add the `status` subcommand."""
    parser = add_command(subparsers, "status", HELP, exits={
        ExitCode.OK: "shown", ExitCode.CANNOT_START: "bad arguments or configuration",
        ExitCode.DATABASE: "the database cannot be used"})
    add_common(parser)
    parser.add_argument("--no-ping", dest="ping", action="store_false",
                        help="do not ask the broker which workers are running now (a one-second wait)")
    parser.add_argument("--ticks", type=int, default=LAST_TICKS, metavar="N",
                        help=f"how many of the last ticks to list (default {LAST_TICKS})")
    add_format(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Handler: read the queues, pages, workers and tick runs, and print them."""
    import json
    import time

    from arrears.engine.cli.errors import UsageError
    from arrears.engine.store import tickruns
    from arrears.engine.store.db import read_transaction
    from arrears.engine.tick.scalestatus import scale_status

    if args.ticks < 0:
        raise UsageError("--ticks must be at least 0")
    settings = load_settings(args)
    store = open_store(settings.database_url, current=True, read_only=True)
    try:
        status = scale_status(store, settings.broker_url, now=time.time())
        live = _ping(settings) if settings.broker_url and args.ping else None
        with read_transaction(store.engine) as conn:
            runs = tickruns.page(conn, after=None, limit=args.ticks) if args.ticks else []
    finally:
        store.close()
    ticks = [{"id": r.id, "trigger": r.trigger, "status": r.status, "at": r.at, "started_at": r.started_at,
              "finished_at": r.finished_at, "summary": None if r.summary is None else json.loads(r.summary),
              "error": r.error} for r in runs]
    if args.format == "json":
        write_json({**status.to_dict(), "running_workers": live, "ticks": ticks})
        return ExitCode.OK
    if live is not None:
        print(f"workers running now: {len(live)}" + "".join(f"\n  {name}" for name in live))
    for line in _text(status, ticks):
        print(line)
    return ExitCode.OK


def _ping(settings) -> list[str] | None:
    """The Celery node names of the workers answering a ping within a second (None: the
    broker cannot be asked)."""
    from arrears.engine.tick.celeryapp import make_app
    app = make_app(settings)
    try:
        return sorted(name for reply in app.control.ping(timeout=1.0) for name in reply)
    except Exception:   # noqa: BLE001 -- an unreachable broker is shown as such by the queues line
        return None
    finally:
        app.close()


def _text(status, ticks: list[dict]) -> list[str]:
    from arrears.engine.domain.clock import from_epoch
    from arrears.engine.domain.decision import rfc3339

    def when(t) -> str:
        return "-" if t is None else rfc3339(from_epoch(int(t)))

    out = [f"broker: {status.broker or 'none (the tick runs in this process)'}"]
    if status.queue_error:
        out.append(f"queues: unknown: {status.queue_error}")
    elif status.queues is not None:
        out.append("queues: " + ", ".join(f"{q} {n:,}" for q, n in status.queues.items()))
    out.append("pages in flight: " + ", ".join(f"{k} {n:,}" for k, n in status.in_flight.items()))
    out.append(f"workers (a page finished in the last {status.window:g} s): {len(status.workers)}")
    out += [f"  {w['worker']}: {w['pages']:,} pages, {w['items']:,} accounts or contacts, last {when(w['last'])}"
            for w in status.workers]
    out.append(f"last ticks: {len(ticks)}")
    for t in ticks:
        detail = t["error"] or ""
        if t["summary"]:
            s = t["summary"]
            detail = (f"{s.get('evaluated', 0):,} evaluated, {s.get('decisions_written', 0):,} decisions, "
                      f"{s.get('delivered', 0):,} delivered, {s.get('duration', 0):.1f} s")
        out.append(f"  run {t['id']} ({t['trigger']}) {t['status']} at {when(t['at'])}"
                   + (f": {detail}" if detail else ""))
    return out
