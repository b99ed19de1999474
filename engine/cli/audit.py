"""`arrears audit verify`: check the audit log's hash chain (and the event batches it records)."""
from __future__ import annotations

import sys

HELP = "check the tamper-evident audit log"


def register(subparsers) -> None:
    """Add the `audit` subcommand (with its `verify` action) to the `arrears` argument parser."""
    parser = subparsers.add_parser("audit", help=HELP, description=HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="walk the hash chain and report the first break",
                                description="Walk the audit chain from the first entry: every hash, "
                                            "every link, the head, and the events each batch recorded.")
    verify.add_argument("--db", metavar="URL", help="database URL (default: $ARREARS_DATABASE_URL, "
                        "else sqlite:///arrears.db)")
    verify.set_defaults(handler=run_verify)


def run_verify(args) -> int:
    """0 if the chain is intact, 1 if it is broken, 2 if there is no usable database."""
    from arrears.engine.domain.errors import ArrearsError
    from arrears.engine.store import Store

    try:
        # Read-only: no schema upgrade, no new database file.
        with Store(args.db, upgrade=False, create=False) as store:
            if store.schema_revision() is None:
                print("arrears audit verify: the database has no Arrears schema", file=sys.stderr)
                return 2
            result = store.verify_audit()
    except ArrearsError as exc:
        print(f"arrears audit verify: {exc}", file=sys.stderr)
        return 2
    if result.ok:
        print(f"OK: {result.entries:,} entries, head {result.head_hash}")
        return 0
    print(f"BROKEN at seq {result.broken_seq}: {result.reason} "
          f"({result.entries:,} entries verified before it, last good hash {result.head_hash})")
    return 1
