"""`arrears explain`: decide for one account and say why, in plain words or JSON.

The policy may use the installed plugins' facts (`x_…`); they are computed for the
account as the tick would, and one that fails is shown as unknown, with the reason.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

from arrears.engine.domain.errors import ArrearsError, InputError, PolicyError
from arrears.engine.domain.model import Account, Event, parse_instant


def register(sub) -> None:
    """Add the `explain` subcommand."""
    p = sub.add_parser("explain", help="explain the decision for one account",
                       description="Decide for one account at a moment and explain why.")
    p.add_argument("--policy", required=True, help="policy YAML file")
    p.add_argument("--account", required=True, help="account JSON file ('-' for stdin)")
    p.add_argument("--events", help="JSON file with a list of events")
    p.add_argument("--at", help="moment to decide at, RFC 3339 (default: now)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=run)


def _read_json(path: str, what: str):
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
    """Handler: print the explanation; exit 0, or 1 with a message on bad input."""
    from arrears.engine.decide.core import decide
    from arrears.engine.decide.explain import render_text
    from arrears.engine.policy.load import load_policy
    from arrears.plugins.facts import installed_facts
    try:
        policy = load_policy(args.policy, facts=installed_facts())
        data = _read_json(args.account, "account")
        events_data = _read_json(args.events, "events") if args.events else []
        if not isinstance(events_data, list):
            raise InputError("expected a JSON list of events", args.events)
        account = Account.from_dict(data, where=f"{args.account}: account")
        events = [Event.from_dict(e, where=f"{args.events}: events[{i}]")
                  for i, e in enumerate(events_data)]
        now = parse_instant(args.at, "--at") if args.at else datetime.now(timezone.utc)
        decision = decide(account, events, policy, now)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    except ArrearsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(decision.to_dict(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(decision))
    return 0
