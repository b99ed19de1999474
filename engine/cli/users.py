"""`arrears users add|list|disable|enable|passwd|role`: the people who log in to the console.

Passwords are read from the terminal (asked twice, not echoed) or, with `--password-stdin`, as
the first line of standard input (for scripts); never from the command line, where other users
of the machine could read them. Every change is audited with `by: cli`.
"""
from __future__ import annotations

import getpass
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

HELP = "manage console users: add, list, disable, enable, passwd, role"


def register(subparsers) -> None:
    """Add the `users` subcommand and its actions."""
    from arrears.console.session import ROLES
    parser = add_command(subparsers, "users", HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    exits = {ExitCode.OK: "done", ExitCode.PROBLEMS: "no such user, or the name is taken",
             ExitCode.CANNOT_START: "bad arguments or a password that breaks the rules",
             ExitCode.DATABASE: "the database cannot be used"}
    roles = ", ".join(f"{name} ({what})" for name, what in ROLES.items())
    add = add_command(actions, "add", "add a user", exits=exits,
                      description=f"Add a console user with a role: {roles}.")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=list(ROLES))
    _password_source(add)
    add.set_defaults(handler=run_add, command_name="users add")
    listing = add_command(actions, "list", "list the users", exits={**exits, ExitCode.PROBLEMS: None})
    add_format(listing, TABLE_FORMATS)
    listing.set_defaults(handler=run_list, command_name="users list")
    for name, text, handler in (("disable", "disable a user (their sessions end at once)", run_disable),
                                ("enable", "enable a disabled user again", run_enable)):
        p = add_command(actions, name, text, exits=exits)
        p.add_argument("username")
        p.set_defaults(handler=handler, command_name=f"users {name}")
    passwd = add_command(actions, "passwd", "set a user's password (their sessions end)", exits=exits)
    passwd.add_argument("username")
    _password_source(passwd)
    passwd.set_defaults(handler=run_passwd, command_name="users passwd")
    role = add_command(actions, "role", "change a user's role", exits=exits)
    role.add_argument("username")
    role.add_argument("role", choices=list(ROLES))
    role.set_defaults(handler=run_role, command_name="users role")
    for p in actions.choices.values():
        add_database(p)
        add_config(p, "database_url")
    for p in (add, passwd, role, *[a for n, a in actions.choices.items() if n in ("disable", "enable")]):
        add_format(p)


def _password_source(parser) -> None:
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input (else it is asked)")


def _store(args):
    from arrears.engine.store import Store
    return Store(database_url(args))


def _password(args, min_length: int) -> str:
    from arrears.console.passwords import check_new
    from arrears.engine.domain.errors import InputError
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the two passwords differ")
    else:
        raise UsageError("no terminal to ask the password on: pipe it in with --password-stdin")
    try:
        check_new(password, args.username, min_length)
    except InputError as exc:
        raise UsageError(f"the password {str(exc).split(': ', 1)[-1]}") from None
    return password


def _min_length() -> int:
    from arrears.console.settings import load
    return load(None).min_password_length


def run_add(args) -> int:
    """Handler: add the user (1 if the name is taken)."""
    from arrears.console.passwords import hash_password
    if not args.username.strip() or len(args.username) > 100 or args.username != args.username.strip():
        raise UsageError("a username is 1 to 100 characters without leading or trailing spaces")
    password = _password(args, _min_length())
    with _store(args) as store:
        user = store.users.add(args.username, args.role, hash_password(password), by="cli")
    if user is None:
        print(f"arrears users add: the username {args.username!r} is taken", file=sys.stderr)
        return ExitCode.PROBLEMS
    if args.format == "json":
        write_json(user.public())
    else:
        print(f"added {user.username} ({user.role})")
    return ExitCode.OK


def run_list(args) -> int:
    """Handler: every user, without password hashes."""
    from arrears.engine.cli.options import open_store
    with open_store(database_url(args), current=True) as store:      # only reads: no database made, no upgrade
        users = store.users.listing()
    write_listing(args.format, [u.public() for u in users],
                  ["username", "role", "disabled", "created_at", "last_login_at"],
                  lambda u: f"{u['username']:<24} {u['role']:<11} {'disabled' if u['disabled'] else 'active'}",
                  "user")
    return ExitCode.OK


def _done(ok: bool, args, what: str) -> int:
    if not ok:
        print(f"arrears {args.command_name}: no user {args.username!r}", file=sys.stderr)
        return ExitCode.PROBLEMS
    if args.format == "json":
        write_json({"username": args.username, "done": what})
    else:
        print(f"{args.username}: {what}")
    return ExitCode.OK


def run_disable(args) -> int:
    """Handler: disable the user."""
    with _store(args) as store:
        return _done(store.users.update(args.username, by="cli", disabled=True), args, "disabled")


def run_enable(args) -> int:
    """Handler: enable the user."""
    with _store(args) as store:
        return _done(store.users.update(args.username, by="cli", disabled=False), args, "enabled")


def run_passwd(args) -> int:
    """Handler: set a new password."""
    from arrears.console.passwords import hash_password
    with _store(args) as store:
        if store.users.get(args.username) is None:
            return _done(False, args, "")
        password = _password(args, _min_length())
        return _done(store.users.set_password(args.username, hash_password(password), by="cli"), args,
                     "password changed")


def run_role(args) -> int:
    """Handler: change the role."""
    with _store(args) as store:
        return _done(store.users.update(args.username, by="cli", role=args.role), args, f"role {args.role}")
