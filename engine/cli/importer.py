"""`arrears import FILE`: load accounts or events from CSV or JSON Lines into the store.

Exit status: 0 every record stored (duplicates of already stored events count as
stored), 1 some records rejected (the others are stored), 2 the file is unusable
(missing, not UTF-8, wrong CSV header), 3 the database cannot be used: nothing stored.
"""
from __future__ import annotations

import json
import sys
import time

from arrears.engine.cli.errors import ExitCode, UsageError, restate
from arrears.engine.cli.options import (
    add_command,
    add_config,
    add_database,
    add_format,
    add_progress,
    database_url,
    wants_progress,
    write_json,
)
from arrears.engine.domain.words import plural

HELP = "import accounts or events from a CSV or JSON Lines file into the database"
SHOWN = 100      # rejects printed on stdout; --rejects FILE gets them all
INPUT_FORMATS = ("csv", "jsonl")


def register(subparsers) -> None:
    """Add the `import` subcommand to the `arrears` argument parser."""
    parser = add_command(subparsers, "import", HELP, exits={
        ExitCode.OK: "every record stored",
        ExitCode.PROBLEMS: "some records rejected (printed as FILE:LINE: reason), the others stored",
        ExitCode.CANNOT_START: "the file is unusable (missing, not UTF-8, a wrong CSV header): nothing "
                               "stored",
        ExitCode.DATABASE: "the database cannot be used (locked, read-only, full ...): nothing stored"})
    parser.add_argument("file", metavar="FILE")
    add_database(parser)
    add_config(parser, "database_url")
    parser.add_argument("--kind", choices=("accounts", "events"),
                        help="what the file holds (default: guessed from the first record)")
    parser.add_argument("--input-format", choices=INPUT_FORMATS, dest="fmt",
                        help="the file's format: csv, jsonl (default: from its extension)")
    # `--format csv|jsonl` named the file's format before `--format` meant the output's everywhere.
    add_format(parser, aliases={f: ("fmt", f, f"--input-format {f}") for f in INPUT_FORMATS})
    parser.add_argument("--rejects", metavar="FILE", help="write every rejected record here (JSON Lines)")
    add_progress(parser)
    parser.set_defaults(handler=run)


class ProgressBar:
    """A one-line progress bar on a stream, redrawn at most ten times a second."""

    def __init__(self, stream, label: str, width: int = 30):
        self.stream, self.label, self.width, self.last = stream, label, width, 0.0

    def __call__(self, done: int, total: int, records: int, force: bool = False) -> None:
        """Redraw for `done` of `total` bytes and `records` records read."""
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        frac = done / total if total else 1.0
        filled = int(frac * self.width)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{frac:4.0%} {records:,} records")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        self.stream.write("\n")
        self.stream.flush()


def run(args) -> int:
    """Import the file and print a summary and the rejects; see the module doc for exit codes."""
    from arrears.engine.domain.errors import ArrearsError
    from arrears.engine.store import Store
    from arrears.engine.store.importing import import_file
    from arrears.engine.store.readers import Unusable

    url = database_url(args)
    bar = ProgressBar(sys.stderr, f"importing {args.file}") if wants_progress(args) else None
    started = time.perf_counter()
    try:
        with Store(url) as store:
            result = import_file(store, args.file, kind=args.kind, fmt=args.fmt, on_progress=bar)
    except BaseException as exc:
        _end(bar)                        # the message starts a line of its own
        if isinstance(exc, Unusable):
            raise UsageError(f"{args.file}: {exc} (nothing stored)") from exc
        if isinstance(exc, ArrearsError):    # e.g. the database's (exit 3): its one transaction rolled back
            raise restate(exc, f"{exc} (nothing stored)") from exc
        raise
    if bar is not None:
        bar(1, 1, result.read, force=True)
        bar.close()
    _report(args, result, time.perf_counter() - started)
    return ExitCode.PROBLEMS if result.rejects else ExitCode.OK


def _end(bar) -> None:
    if bar is not None:
        bar.close()


def _report(args, result, seconds: float) -> None:
    if args.rejects:
        with open(args.rejects, "w", encoding="utf-8") as fh:
            for reject in result.rejects:
                fh.write(json.dumps(reject.to_dict(), ensure_ascii=False) + "\n")
    if args.format == "json":
        write_json({"file": args.file, "kind": result.kind, "format": result.format, "read": result.read,
                    "stored": result.stored, "inserted": result.inserted, "updated": result.updated,
                    "unchanged": result.unchanged, "duplicates": len(result.duplicate_lines),
                    "rejected": len(result.rejects), "rejects": [r.to_dict() for r in result.rejects[:SHOWN]],
                    "seconds": round(seconds, 3)})
        return
    for reject in result.rejects[:SHOWN]:
        print(f"{args.file}:{reject.line}: {reject.reason}")
    if len(result.rejects) > SHOWN:
        more = "see " + args.rejects if args.rejects else "use --rejects FILE to get them all"
        print(f"... and {len(result.rejects) - SHOWN:,} more rejected records ({more})")
    detail = ""
    if result.kind == "accounts":
        detail = f" ({result.inserted:,} new, {result.updated:,} changed, {result.unchanged:,} unchanged)"
    elif result.duplicate_lines:
        detail = f", {plural(len(result.duplicate_lines), 'duplicate')} of stored events ignored"
    stored = plural(result.stored, result.kind[:-1], result.kind)      # kind: accounts or events
    print(f"{args.file}: {stored} stored{detail}; {plural(len(result.rejects), 'record')} rejected "
          f"({seconds:.1f} s)")
