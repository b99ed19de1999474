"""`arrears outbox`: list the contacts whose delivery outcome is unknown, and settle them.

    arrears outbox unknown [--format json]
    arrears outbox resolve ID --as sent|failed [--provider-id X] [--note TEXT] [--by NAME]

A contact is `unknown` when the process delivering it died after claiming it (see
docs/tick.md). Check with the provider, by the idempotency key `unknown` prints, then
settle it: once, in one transaction with its contact event and an audit entry.
Exit status: 0 done; 1 the row is not unknown (for instance settled already), or a
database or configuration error; 2 usage errors.
"""
from __future__ import annotations

import getpass
import json
import sys

HELP = "list contacts whose delivery outcome is unknown, and settle them"


def register(subparsers) -> None:
    """Add the `outbox` subcommand and its `unknown` and `resolve` actions."""
    parser = subparsers.add_parser("outbox", help=HELP, description=HELP)
    actions = parser.add_subparsers(dest="outbox_action", metavar="ACTION", required=True)
    listing = actions.add_parser("unknown", help="list the unknown contacts, oldest first")
    _common(listing)
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=run_unknown)
    settle = actions.add_parser(
        "resolve", help="record what happened to an unknown contact (audited, once)",
        description="Mark an unknown outbox row sent or failed, after checking with the provider.")
    _common(settle)
    settle.add_argument("id", type=int, metavar="ID", help="the outbox row id (from `arrears outbox unknown`)")
    settle.add_argument("--as", dest="outcome", choices=("sent", "failed"), required=True,
                        help="sent: the provider has it (counts as a contact); failed: it never went out")
    settle.add_argument("--provider-id", metavar="X", help="the provider's message id, if it has one")
    settle.add_argument("--note", default="", help="how you found out (kept in the audit log)")
    settle.add_argument("--by", default=None, help="who settles it (default: the login name)")
    settle.set_defaults(handler=run_resolve)


def _common(parser) -> None:
    parser.add_argument("--db", metavar="URL", help="database URL (default: $ARREARS_DATABASE_URL, else the "
                        "config file's database_url, else sqlite:///arrears.db)")
    parser.add_argument("--config", metavar="FILE", help="config file, TOML or YAML (default: $ARREARS_CONFIG)")


def _store(args, *, write: bool):
    """The configured store. Never a new database file: a mistyped URL must not make an
    empty one. Listing reads as the schema is; settling upgrades it first, as the tick does."""
    from arrears.engine.domain.errors import ArrearsError
    from arrears.engine.store import Store
    from arrears.engine.tick.settings import load_settings
    settings = load_settings(db=args.db, config=args.config)
    store = Store(settings.database_url, upgrade=write, create=False)
    if store.schema_revision() is None:
        store.close()
        raise ArrearsError(f"the database {settings.database_url} has no Arrears schema")
    return store


def run_unknown(args) -> int:
    """Handler: print the unknown rows (text or JSON)."""
    from arrears.engine.domain.errors import ArrearsError, StoreError
    from arrears.engine.tick.resolve import list_unknown
    try:
        with _store(args, write=False) as store:
            rows = list_unknown(store)
    except (ArrearsError, StoreError, OSError) as exc:
        print(f"arrears outbox: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in rows], indent=2))
        return 0
    if not rows:
        print("no contacts with an unknown outcome")
        return 0
    for r in rows:
        d = r.to_dict()
        print(f"{r.id:>6}  {r.account_id}  {r.stage} attempt {r.attempt} by {r.channel}  "
              f"claimed {d['claimed_at'] or '-'} by {r.claimed_by or '-'}")
        print(f"        idempotency key {r.idempotency_key}")
    print(f"{len(rows)} unknown; settle each with `arrears outbox resolve ID --as sent|failed`")
    return 0


def run_resolve(args) -> int:
    """Handler: settle one unknown row; 1 if it is not unknown (nothing changed)."""
    from datetime import datetime, timezone

    from arrears.engine.domain.errors import ArrearsError, StoreError
    from arrears.engine.tick.resolve import resolve_unknown
    by = args.by or getpass.getuser()
    try:
        with _store(args, write=True) as store:
            resolve_unknown(store, None, args.id, sent=args.outcome == "sent", now=datetime.now(timezone.utc),
                            note=args.note, provider_id=args.provider_id, by=by)
    except (ArrearsError, StoreError, OSError) as exc:
        print(f"arrears outbox: {exc}", file=sys.stderr)
        return 1
    print(f"outbox row {args.id}: recorded as {args.outcome} (audited: delivery.resolved.{args.outcome}, by {by})")
    return 0
