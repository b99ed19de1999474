"""`arrears outbox`: list the contacts whose delivery outcome is unknown, and settle them.

    arrears outbox unknown [--format text|json|csv]
    arrears outbox resolve ID --as sent|failed [--provider-id X] [--note TEXT] [--by NAME]
                           [--format text|json]

A contact is `unknown` when the process delivering it died after claiming it (see
docs/tick.md). Check with the provider, by the idempotency key `unknown` prints, then
settle it: once, in one transaction with its contact event and an audit entry.
Exit status: 0 done; 1 the row is not unknown (for instance settled already: nothing
changed); 2 bad arguments or configuration; 3 the database cannot be used.
"""
from __future__ import annotations

import getpass

from arrears.engine.cli.errors import CommandError, ExitCode
from arrears.engine.cli.options import (
    TABLE_FORMATS,
    add_command,
    add_config,
    add_database,
    add_format,
    load_settings,
    open_store,
    write_csv,
    write_json,
)
from arrears.engine.domain.words import plural

HELP = "list contacts whose delivery outcome is unknown, and settle them"
# The columns of `outbox unknown --format csv` (UnknownRow.to_dict's keys), for an empty listing too.
UNKNOWN_COLUMNS = ("id", "account_id", "stage", "attempt", "episode", "channel", "idempotency_key",
                   "claimed_at", "claimed_by", "last_error")


def register(subparsers) -> None:
    """Add the `outbox` subcommand and its `unknown` and `resolve` actions."""
    parser = add_command(subparsers, "outbox", HELP)
    actions = parser.add_subparsers(dest="outbox_action", metavar="ACTION", required=True)
    listing = add_command(actions, "unknown", "list the unknown contacts, oldest first",
                          exits={ExitCode.PROBLEMS: None})
    _common(listing)
    add_format(listing, TABLE_FORMATS)
    listing.set_defaults(handler=run_unknown)
    settle = add_command(
        actions, "resolve", "record what happened to an unknown contact (audited, once)",
        description="Mark an unknown outbox row sent or failed, after checking with the provider.",
        exits={ExitCode.OK: "recorded",
               ExitCode.PROBLEMS: "the row cannot be settled (no such row, settled already, or its channel's "
                                 "kind is unknown): nothing changed"})
    _common(settle)
    settle.add_argument("id", type=int, metavar="ID", help="the outbox row id (from `arrears outbox unknown`)")
    settle.add_argument("--as", dest="outcome", choices=("sent", "failed"), required=True,
                        help="sent: the provider has it (counts as a contact); failed: it never went out")
    settle.add_argument("--provider-id", metavar="X", help="the provider's message id, if it has one")
    settle.add_argument("--note", default="", help="how you found out (kept in the audit log)")
    settle.add_argument("--by", default=None, help="who settles it (default: the login name)")
    add_format(settle)
    settle.set_defaults(handler=run_resolve)


def _common(parser) -> None:
    add_database(parser)
    add_config(parser)


def _store(args, *, write: bool):
    """The configured store. Never a new database file: a mistyped URL must not make an
    empty one. Listing reads as the schema is; settling upgrades it first, as the tick does."""
    return open_store(load_settings(args).database_url, upgrade=write)


def run_unknown(args) -> int:
    """Handler: print the unknown rows (text or JSON)."""
    from arrears.engine.tick.resolve import list_unknown
    with _store(args, write=False) as store:
        rows = list_unknown(store)
    if args.format == "json":
        write_json([r.to_dict() for r in rows])
        return ExitCode.OK
    if args.format == "csv":
        header = tuple(rows[0].to_dict()) if rows else UNKNOWN_COLUMNS
        write_csv(header, [tuple("" if v is None else v for v in r.to_dict().values()) for r in rows])
        return ExitCode.OK
    if not rows:
        print("no contacts with an unknown outcome")
        return ExitCode.OK
    for r in rows:
        d = r.to_dict()
        print(f"{r.id:>6}  {r.account_id}  {r.stage} attempt {r.attempt} by {r.channel}  "
              f"claimed {d['claimed_at'] or '-'} by {r.claimed_by or '-'}")
        print(f"        idempotency key {r.idempotency_key}")
    print(f"{plural(len(rows), 'contact')} with an unknown outcome; settle each with "
          "`arrears outbox resolve ID --as sent|failed`")
    return ExitCode.OK


def run_resolve(args) -> int:
    """Handler: settle one unknown row; CommandError (1) if it cannot be settled (nothing changed)."""
    from datetime import datetime, timezone

    from arrears.engine.domain.errors import InputError
    from arrears.engine.tick.resolve import resolve_unknown
    by = args.by or getpass.getuser()
    with _store(args, write=True) as store:
        try:
            resolve_unknown(store, None, args.id, sent=args.outcome == "sent", now=datetime.now(timezone.utc),
                            note=args.note, provider_id=args.provider_id, by=by)
        except InputError as exc:    # not unknown (any more), or its channel's kind cannot be told
            raise CommandError(str(exc)) from exc
    if args.format == "json":
        write_json({"id": args.id, "outcome": args.outcome, "by": by, "provider_id": args.provider_id,
                    "audit": f"delivery.resolved.{args.outcome}"})
    else:
        print(f"outbox row {args.id}: recorded as {args.outcome} (audited: delivery.resolved.{args.outcome}, "
              f"by {by})")
    return ExitCode.OK
