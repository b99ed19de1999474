"""`arrears tick`: run one tick now (or at `--at`), for cron users and for tests.

The tick decides with the store's active policy; `--policy` only bootstraps an empty
store, unless `--activate-policy` makes the file the active policy first. Every run is
recorded in `tick_runs` (trigger `cli`).

Exit status: 0 the tick ran; 1 bad configuration, policy or database; 3 skipped because
another process holds the tick lease (nothing was done).
"""
from __future__ import annotations

import json
import sys
import time

HELP = "run one tick: evaluate the due accounts, queue and deliver their contacts"
SKIPPED = 3


def add_common(parser) -> None:
    """The options `tick` and `serve` share."""
    parser.add_argument("--db", metavar="URL", help="database URL (default: $ARREARS_DATABASE_URL, "
                        "else the config file's database_url, else sqlite:///arrears.db)")
    parser.add_argument("--policy", metavar="FILE", help="policy YAML (default: $ARREARS_POLICY, else the "
                        "config file's policy, else the shipped policies/default.yaml)")
    parser.add_argument("--config", metavar="FILE", help="config file, TOML or YAML (default: $ARREARS_CONFIG): "
                        "channels, routes, templates, creditor, [tick]")


def register(subparsers) -> None:
    """Add the `tick` subcommand."""
    parser = subparsers.add_parser("tick", help=HELP, description=HELP)
    add_common(parser)
    parser.add_argument("--at", metavar="TIME", help="decide at this instant, RFC 3339 (default: now)")
    parser.add_argument("--no-dispatch", action="store_true", help="evaluate and queue, deliver nothing")
    parser.add_argument("--activate-policy", action="store_true",
                        help="make the policy file (--policy) the active policy first, even if another "
                             "version was activated since (audited); without it the file is used only "
                             "when no policy is active")
    parser.add_argument("--progress", action="store_true",
                        help="show a progress bar even when stderr is not a terminal")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


class Bar:
    """Progress on stderr: one line per phase, redrawn at most ten times a second (and
    once more with the final count when the phase ends)."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width, self.last, self.state = stream, width, 0.0, None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.state is not None and phase != self.state[0]:
            self._draw(*self.state)
            self.stream.write("\n")
            self.last = 0.0
        self.state = (phase, done, total)
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self._draw(phase, done, total)

    def _draw(self, phase: str, done: int, total: int) -> None:
        if phase == "evaluate" and total:
            filled = int(done / total * self.width)
            self.stream.write(f"\r{phase:9} [{'#' * filled}{'.' * (self.width - filled)}] "
                              f"{done:,}/{total:,} accounts")
        else:
            self.stream.write(f"\r{phase:9} {done:,}/{total:,} contacts")
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.state is not None:
            self._draw(*self.state)
            self.stream.write("\n")
            self.stream.flush()


def run(args) -> int:
    """Handler: run the tick and print its summary line (or JSON)."""
    from datetime import datetime, timezone

    from arrears.engine.domain.errors import ArrearsError, StoreError
    from arrears.engine.domain.model import parse_instant
    from arrears.engine.tick.service import Runtime
    from arrears.engine.tick.settings import load_settings

    try:
        now = parse_instant(args.at, "--at") if args.at else datetime.now(timezone.utc)
        settings = load_settings(db=args.db, policy=args.policy, config=args.config)
        runtime = Runtime(settings, dispatch=not args.no_dispatch, activate_policy=args.activate_policy)
    except (ArrearsError, StoreError, OSError) as exc:
        print(f"arrears tick: {exc}", file=sys.stderr)
        return 1
    bar = Bar(sys.stderr) if args.progress or sys.stderr.isatty() else None
    try:
        _, summary = runtime.run(now, "cli", progress=bar)
    except (ArrearsError, StoreError) as exc:
        print(f"arrears tick: the tick failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
        runtime.close()
    print(json.dumps(summary.to_dict(), sort_keys=True) if args.json else summary.line())
    if not summary.ran and not (summary.evaluated or summary.delivered):
        return SKIPPED
    return 0
