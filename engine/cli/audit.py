"""`arrears audit verify`: check the audit log's hash chain, the event batches it records,
and every sealed row (accounts, invoices, decisions, outbox, policy versions).

Read-only: the database is opened so that nothing can be written (a read-only copy
works), no schema upgrade, no new database file. Exit status 0 intact, 1 broken (the
findings, on stdout: table, row, columns), 3 no usable database. `--format json` prints the
verification as JSON.
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
                                     "head, and the events each batch recorded; then check every sealed row "
                                     "(accounts, invoices, decisions, outbox, policy versions) against the "
                                     "entry that recorded it, naming the table, the row and the columns "
                                     "that changed. Opens the database read-only.",
                         exits={ExitCode.OK: "the chain and every sealed row are intact",
                                ExitCode.PROBLEMS: "the chain is broken, or sealed rows changed",
                                ExitCode.CANNOT_START: "bad arguments",
                                ExitCode.DATABASE: "no database, or one without the Arrears schema"})
    add_database(verify)
    add_config(verify, "database_url")
    add_format(verify)
    verify.set_defaults(handler=run_verify, command_name="audit verify")


def run_verify(args) -> int:
    """0 if the chain and the sealed rows are intact, 1 if not (a StoreError, exit 3, without
    a usable database)."""
    from dataclasses import asdict
    with open_store(database_url(args), read_only=True) as store:
        result = store.verify_audit()
    if args.format == "json":
        write_json(asdict(result))
        return ExitCode.OK if result.ok else ExitCode.PROBLEMS
    if result.broken_seq is not None:
        print(f"BROKEN at seq {result.broken_seq}: {result.reason} "
              f"({plural(result.entries, 'entry')} verified before it, last good hash {result.head_hash})")
        return ExitCode.PROBLEMS
    rows = sum(result.rows.values())
    checked = f"{plural(rows, 'sealed row')} in {plural(len(result.rows), 'table')} checked"
    if not result.rows:
        checked = "no sealed rows (the schema predates revision 0010; any writing command upgrades it)"
    if result.ok:
        print(f"OK: {plural(result.entries, 'entry', 'entries')}, head {result.head_hash}; {checked}")
        return ExitCode.OK
    tables = sorted({f.table for f in result.findings})
    print(f"BROKEN: {plural(len(result.findings), 'finding')} in {plural(len(tables), 'table')} "
          f"({', '.join(tables)}); the chain itself is intact ({plural(result.entries, 'entry', 'entries')}, "
          f"head {result.head_hash}; {checked})")
    for finding in result.findings[:SHOWN]:
        print(f"  {finding.line()}")
    if len(result.findings) > SHOWN:
        print(f"  ... and {len(result.findings) - SHOWN:,} more")
    return ExitCode.PROBLEMS


SHOWN = 50          # findings printed
