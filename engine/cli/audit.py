"""`arrears audit verify`: check the audit log's hash chain (and the event batches it records).

Read-only: no schema upgrade, no new database file. Exit status 0 intact, 1 broken (the
finding, on stdout), 3 no usable database. `--format json` prints the verification as JSON.
"""
from __future__ import annotations

from arrears.engine.cli.errors import ExitCode
from arrears.engine.cli.options import (
    add_command,
    add_config,
    add_database,
    add_format,
    database_url,
    open_store,
    write_json,
)
from arrears.engine.domain.words import plural

HELP = "check the tamper-evident audit log"


def register(subparsers) -> None:
    """Add the `audit` subcommand (with its `verify` action) to the `arrears` argument parser."""
    parser = add_command(subparsers, "audit", HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = add_command(actions, "verify", "walk the hash chain and report the first break",
                         description="Walk the audit chain from the first entry: every hash, every link, the "
                                     "head, and the events each batch recorded.",
                         exits={ExitCode.OK: "the chain is intact", ExitCode.PROBLEMS: "the chain is broken",
                                ExitCode.CANNOT_START: "bad arguments",
                                ExitCode.DATABASE: "no database, or one without the Arrears schema"})
    add_database(verify)
    add_config(verify, "database_url")
    add_format(verify)
    verify.set_defaults(handler=run_verify, command_name="audit verify")


def run_verify(args) -> int:
    """0 if the chain is intact, 1 if it is broken (a StoreError, exit 3, without a usable database)."""
    from dataclasses import asdict
    with open_store(database_url(args)) as store:
        result = store.verify_audit()
    if args.format == "json":
        write_json(asdict(result))
    elif result.ok:
        print(f"OK: {plural(result.entries, 'entry')}, head {result.head_hash}")
    else:
        print(f"BROKEN at seq {result.broken_seq}: {result.reason} "
              f"({plural(result.entries, 'entry')} verified before it, last good hash {result.head_hash})")
    return ExitCode.OK if result.ok else ExitCode.PROBLEMS
