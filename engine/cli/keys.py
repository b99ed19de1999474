"""`arrears keys create|list|revoke`: API keys kept in the database, no restart needed.

`create` prints the new key ONCE (only its SHA-256 is stored: it cannot be shown again); the
running API accepts it at once. `revoke` makes the API refuse it within a second (each
answer of a key lookup is reused for `arrears.api.auth.STORED_KEY_TTL` seconds). Keys in the
configuration (`api.keys`, `ARREARS_API_KEYS`) are not listed here: they change with a restart.
Every change is audited with `by: cli`.
"""
from __future__ import annotations

import sys

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import (
    TABLE_FORMATS,
    add_command,
    add_config,
    add_database,
    add_format,
    database_url,
    write_json,
    write_listing,
)
from arrears.engine.store.apikeys import ROLES

HELP = "manage API keys kept in the database: create, list, revoke"
COLUMNS = ["id", "key_id", "label", "role", "created_at", "created_by", "revoked_at", "revoked_by"]


def register(subparsers) -> None:
    """Add the `keys` subcommand and its actions."""
    parser = add_command(subparsers, "keys", HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    exits = {ExitCode.OK: "done", ExitCode.PROBLEMS: "no such key, or it is revoked already",
             ExitCode.CANNOT_START: "bad arguments", ExitCode.DATABASE: "the database cannot be used"}
    create = add_command(actions, "create", "make a key and print it once",
                         exits={**exits, ExitCode.PROBLEMS: None},
                         description="Make an API key with a role; the key is printed once and only "
                                     "its SHA-256 is kept. The running API accepts it at once.")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--label", required=True, help="what the key is for (who holds it)")
    create.set_defaults(handler=run_create, command_name="keys create")
    listing = add_command(actions, "list", "list the stored keys (never the keys themselves)",
                          exits={**exits, ExitCode.PROBLEMS: None})
    add_format(listing, TABLE_FORMATS)
    listing.set_defaults(handler=run_list, command_name="keys list")
    revoke = add_command(actions, "revoke", "revoke a key (refused by the API within a second)", exits=exits)
    revoke.add_argument("id", type=int, help="the key's id (`arrears keys list`)")
    revoke.set_defaults(handler=run_revoke, command_name="keys revoke")
    for p in actions.choices.values():
        add_database(p)
        add_config(p, "database_url")
    for p in (create, revoke):
        add_format(p)


def _store(args):
    from arrears.engine.store import Store
    return Store(database_url(args))


def run_create(args) -> int:
    """Handler: make the key, print it once."""
    label = args.label.strip()
    if not label or len(label) > 200:
        raise UsageError("a label is 1 to 200 characters")
    with _store(args) as store:
        key, row = store.api_keys.create(args.role, label, by="cli")
    if args.format == "json":
        write_json({**row.public(), "key": key})
    else:
        print(key)
        print(f"key {row.id} ({row.key_id}) for {row.label!r}, role {row.role}: shown once, store it now",
              file=sys.stderr)
    return ExitCode.OK


def run_list(args) -> int:
    """Handler: every stored key, newest first, without digests."""
    from arrears.engine.cli.options import open_store
    with open_store(database_url(args), current=True) as store:      # only reads: no upgrade
        keys = store.api_keys.listing()
    write_listing(args.format, [k.public() for k in keys], COLUMNS, _line, "key")
    return ExitCode.OK


def _line(k: dict) -> str:
    state = "revoked" if k["revoked_at"] is not None else "active"
    return f"{k['id']:>5} {k['key_id']} {k['role']:<11} {state:<8} {k['label']}"


def run_revoke(args) -> int:
    """Handler: revoke the key (1 if there is none, or it is revoked already)."""
    with _store(args) as store:
        before = store.api_keys.get(args.id)
        active = before is not None and before.revoked_at is None
        row = store.api_keys.revoke(args.id, by="cli") if active else None
    if row is None:
        why = "no key" if before is None else "already revoked:"
        print(f"arrears keys revoke: {why} {args.id}", file=sys.stderr)
        return ExitCode.PROBLEMS
    if args.format == "json":
        write_json(row.public())
    else:
        print(f"key {row.id} ({row.key_id}, {row.label}) revoked")
    return ExitCode.OK
