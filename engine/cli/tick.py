"""`arrears tick`: run one tick now (or at `--at`), for cron users and for tests.

The tick decides with the store's active policy; `--policy` only bootstraps an empty
store, unless `--activate-policy` makes the file the active policy first. Every run is
recorded in `tick_runs` (trigger `cli`).

Exit status: 0 the tick ran; 1 the tick failed, or the policy has problems; 2 bad
arguments, configuration or plugins; 3 the database cannot be used, or the tick was
skipped because another process holds the tick lease (nothing was done): try again later.
"""
from __future__ import annotations

import json
import sys
import time

from arrears.engine.cli.errors import CommandError, ExitCode
from arrears.engine.cli.options import (
    add_at,
    add_broker,
    add_command,
    add_config,
    add_database,
    add_deprecated_flag,
    add_format,
    add_policy,
    add_progress,
    instant,
    load_settings,
    wants_progress,
)

HELP = "run one tick: evaluate the due accounts, queue and deliver their contacts"
# A skipped tick shares the database's code: both mean "nothing was done, try again later".
SKIPPED = ExitCode.DATABASE
CONFIG_HOLDS = "channels, routes, templates, creditor, [tick]"
POLICY_ROLE = "policy YAML the database starts with when it has no active policy"


def add_common(parser) -> None:
    """The options `tick`, `serve` and `worker` share: --db, --broker, --policy, --config."""
    add_database(parser)
    add_broker(parser)
    add_policy(parser, POLICY_ROLE)
    add_config(parser, CONFIG_HOLDS)


def register(subparsers) -> None:
    """Add the `tick` subcommand."""
    parser = add_command(subparsers, "tick", HELP, exits={
        ExitCode.OK: "the tick ran",
        ExitCode.PROBLEMS: "the tick failed, or refused the stored policy (its text was edited in the "
                           "database), or the policy has problems (printed as file:line:col: message)",
        ExitCode.DATABASE: "the database cannot be used, or another process holds the tick lease "
                           "(nothing was done): try again later"})
    add_common(parser)
    add_at(parser)
    parser.add_argument("--no-dispatch", action="store_true", help="evaluate and queue, deliver nothing")
    parser.add_argument("--activate-policy", action="store_true",
                        help="make the policy file (--policy) the active policy first, even if another "
                             "version was activated since (audited); without it the file is used only "
                             "when no policy is active")
    add_progress(parser)
    add_format(parser)
    add_deprecated_flag(parser, "--json", "format", "json", "--format json")
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
    """Handler: run the tick and print its summary line (or JSON); 3 if it was skipped."""
    from arrears.engine.domain.errors import ArrearsError, PolicyError, StoreError
    from arrears.engine.tick.service import Runtime
    from arrears.engine.tick.workers import WorkerError

    now = instant(args.at)
    settings = load_settings(args)
    runtime = Runtime(settings, dispatch=not args.no_dispatch, activate_policy=args.activate_policy)
    bar = Bar(sys.stderr) if wants_progress(args) else None
    try:
        _, summary = runtime.run(now, "cli", progress=bar)
    except PolicyError as exc:                  # the active policy stopped loading: its problems, located
        exc.add_note("the tick failed:")
        raise
    except (ArrearsError, WorkerError) as exc:  # a worker process that died is a failed tick too
        code = ExitCode.DATABASE if isinstance(exc, StoreError) else ExitCode.PROBLEMS
        raise CommandError(f"the tick failed: {exc}", code) from exc
    finally:
        if bar is not None:
            bar.close()
        runtime.close()
    print(json.dumps(summary.to_dict(), sort_keys=True) if args.format == "json" else summary.line())
    if summary.refused:
        return ExitCode.PROBLEMS
    if not summary.ran and not (summary.evaluated or summary.delivered):
        return SKIPPED
    return ExitCode.OK
