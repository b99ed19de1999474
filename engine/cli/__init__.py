"""The `arrears` command line: one module per subcommand, each with `register(subparsers)`.

Commands raise; the one error handler in `main` turns whatever leaves a command into one
line on stderr and an exit code (the table is `errors.ExitCode`); options shared by
several commands are declared once, in `options`.

May import: anything of Arrears; nothing imports it.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from arrears.engine.cli.errors import ExitCode, exit_epilog, report_error
from arrears.engine.cli.options import HelpFormatter

# Subcommand modules, in the order `arrears --help` lists them.
COMMANDS = ("validate", "test", "ladder", "explain", "importer", "audit", "plugins", "tick", "serve", "worker",
            "status", "outbox", "simulate", "replay", "experiment", "kpis", "goals", "report", "users", "keys")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="arrears", description="Arrears collections-policy engine",
                                     epilog=exit_epilog(), formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"arrears.engine.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `arrears` console script; returns the process exit code (`ExitCode`).

    argparse's own usage errors still exit 2 through SystemExit, with its usage line.
    """
    command = None
    try:
        args = build_parser().parse_args(argv)
        # `audit verify` names its action in messages; the others their command.
        command = getattr(args, "command_name", None) or args.command
        code = args.handler(args)
        sys.stdout.flush()            # a closed pipe shows here, not in the interpreter's exit
        return int(code or ExitCode.OK)
    except BrokenPipeError:           # `arrears … | head` is not an error
        _drop_stdout()
        return int(ExitCode.OK)
    except (Exception, KeyboardInterrupt) as exc:
        return int(report_error(command, exc))


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):    # no file descriptor (captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
