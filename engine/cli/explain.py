"""`arrears explain`: decide for one account and say why, in plain words or JSON.

The policy may use the installed plugins' facts (`x_…`); they are computed for the
account as the tick would, and one that fails is shown as unknown, with the reason.
"""
from __future__ import annotations

import json
import sys

from arrears.engine.cli.errors import ExitCode
from arrears.engine.cli.options import (
    add_at,
    add_command,
    add_format,
    add_policy,
    existing_file,
    instant,
    profiles_dir,
    write_json,
)


def register(sub) -> None:
    """Add the `explain` subcommand."""
    p = add_command(sub, "explain", "explain the decision for one account",
                    description="Decide for one account at a moment and explain why.",
                    exits={ExitCode.OK: "explained",
                           ExitCode.PROBLEMS: "the policy has problems (printed as file:line:col: message)",
                           ExitCode.CANNOT_START: "a file is missing or unusable (the account or events "
                                                  "invalid, naming the field), bad arguments, plugins",
                           ExitCode.DATABASE: None})
    add_policy(p, "policy YAML file", required=True)
    p.add_argument("--account", required=True, help="account JSON file ('-' for stdin)")
    p.add_argument("--events", help="JSON file with a list of events")
    add_at(p)
    add_format(p)
    p.set_defaults(handler=run)


def _read_json(path: str, what: str):
    from arrears.engine.domain.errors import InputError
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as exc:
        raise InputError(f"cannot read {what} file: {exc.strerror}", path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                         path) from None


def run(args) -> int:
    """Handler: print the explanation (PolicyError, InputError or UsageError for bad input)."""
    from arrears.engine.decisions.core import decide
    from arrears.engine.decisions.explain import render_text
    from arrears.engine.domain.errors import InputError
    from arrears.engine.domain.model import Account, Event
    from arrears.engine.policy.load import load_policy
    from arrears.plugins.facts import installed_facts

    now = instant(args.at)
    policy = load_policy(existing_file(args.policy, "--policy"), facts=installed_facts(),
                         company_profiles=profiles_dir(args))
    data = _read_json(args.account, "account")
    events_data = _read_json(args.events, "events") if args.events else []
    if not isinstance(events_data, list):
        raise InputError("expected a JSON list of events", args.events)
    account = Account.from_dict(data, where=f"{args.account}: account")
    events = [Event.from_dict(e, where=f"{args.events}: events[{i}]") for i, e in enumerate(events_data)]
    decision = decide(account, events, policy, now)
    if args.format == "json":
        write_json(decision.to_dict())
    else:
        sys.stdout.write(render_text(decision))
    return ExitCode.OK
