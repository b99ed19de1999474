"""`arrears import FILE`: load accounts or events from CSV or JSON Lines into the store.

Exit status: 0 every record stored (duplicates of already stored events count as
stored), 1 some records rejected (the others are stored), 2 the file is unusable
(missing, not UTF-8, wrong CSV header): nothing stored.
"""
from __future__ import annotations

import json
import sys
import time

HELP = "import accounts or events from a CSV or JSON Lines file into the database"
SHOWN = 100      # rejects printed on stdout; --rejects FILE gets them all


def register(subparsers) -> None:
    """Add the `import` subcommand to the `arrears` argument parser."""
    parser = subparsers.add_parser("import", help=HELP, description=HELP)
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--db", metavar="URL", help="database URL (default: $ARREARS_DATABASE_URL, "
                        "else sqlite:///arrears.db)")
    parser.add_argument("--kind", choices=("accounts", "events"),
                        help="what the file holds (default: guessed from the first record)")
    parser.add_argument("--format", choices=("csv", "jsonl"), dest="fmt",
                        help="file format (default: from the extension)")
    parser.add_argument("--rejects", metavar="FILE", help="write every rejected record here (JSON Lines)")
    parser.add_argument("--progress", action="store_true",
                        help="show a progress bar even when stderr is not a terminal")
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

    bar = ProgressBar(sys.stderr, f"importing {args.file}") if args.progress or sys.stderr.isatty() else None
    started = time.perf_counter()
    try:
        with Store(args.db) as store:
            result = import_file(store, args.file, kind=args.kind, fmt=args.fmt, on_progress=bar)
    except Unusable as exc:
        _end(bar)
        print(f"arrears import: {args.file}: {exc} (nothing stored)", file=sys.stderr)
        return 2
    except ArrearsError as exc:
        _end(bar)
        print(f"arrears import: {exc} (nothing stored)", file=sys.stderr)
        return 2
    if bar is not None:
        bar(1, 1, result.read, force=True)
        bar.close()
    _report(args, result, time.perf_counter() - started)
    return 1 if result.rejects else 0


def _end(bar) -> None:
    if bar is not None:
        bar.close()


def _report(args, result, seconds: float) -> None:
    for reject in result.rejects[:SHOWN]:
        print(f"{args.file}:{reject.line}: {reject.reason}")
    if len(result.rejects) > SHOWN:
        more = "see " + args.rejects if args.rejects else "use --rejects FILE to get them all"
        print(f"... and {len(result.rejects) - SHOWN:,} more rejected records ({more})")
    if args.rejects:
        with open(args.rejects, "w", encoding="utf-8") as fh:
            for reject in result.rejects:
                fh.write(json.dumps(reject.to_dict(), ensure_ascii=False) + "\n")
    detail = ""
    if result.kind == "accounts":
        detail = f" ({result.inserted:,} new, {result.updated:,} changed, {result.unchanged:,} unchanged)"
    elif result.duplicate_lines:
        dups = len(result.duplicate_lines)
        detail = f", {dups:,} {'duplicate' if dups == 1 else 'duplicates'} of stored events ignored"
    rejected = len(result.rejects)
    print(f"{args.file}: {result.stored:,} {result.kind} stored{detail}; {rejected:,} "
          f"{'record' if rejected == 1 else 'records'} rejected ({seconds:.1f} s)")
