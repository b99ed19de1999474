"""The `arrears` command line: one module per subcommand, each with `register(subparsers)`.

One error handler in `main` turns every expected failure into one line and an exit
code; options shared by several commands live in one module.

May import: anything of Arrears; nothing imports it.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order `arrears --help` lists them.
COMMANDS = ("validate", "test", "explain", "importer", "audit", "plugins", "tick", "serve", "outbox",
            "simulate", "replay", "kpis", "goals", "report")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="arrears", description="Arrears collections-policy engine")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"arrears.engine.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `arrears` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # `arrears … | head` is not an error
        return 0


if __name__ == "__main__":
    sys.exit(main())
