"""`arrears simulate`: what a candidate policy would do to the stored portfolio, next to the active one.

Read-only: opens the database without upgrading or creating it and writes nothing.
Exit status: 0 the report was printed; 1 the candidate has problems (each printed as
file:line:col), or the configuration, the active policy or the database is unusable;
2 bad arguments.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HELP = "compare a candidate policy with the active one over every stored account (stores nothing)"


def register(subparsers) -> None:
    """Add the `simulate` subcommand."""
    p = subparsers.add_parser("simulate", help=HELP, description=HELP)
    p.add_argument("--candidate", required=True, metavar="FILE", help="the candidate policy YAML")
    p.add_argument("--at", metavar="TIME", help="decide at this instant, RFC 3339 (default: now)")
    p.add_argument("--database", "--db", dest="db", metavar="URL",
                   help="database URL (default: $ARREARS_DATABASE_URL, else the config file's "
                        "database_url, else sqlite:///arrears.db)")
    p.add_argument("--policy", metavar="FILE", help="the policy to compare with when the database has no "
                   "active version (default: $ARREARS_POLICY, else the config file's, else the shipped one)")
    p.add_argument("--config", metavar="FILE", help="config file, TOML or YAML (default: $ARREARS_CONFIG): "
                   "the channels' daily_capacity and routes, [tick] batch_size")
    p.add_argument("--sample", type=_count, default=20, metavar="N",
                   help="accounts shown per sample (stage changes, newly suppressed, newly released; default 20)")
    p.add_argument("--capacity", action="append", default=[], type=_capacity, metavar="KIND=N",
                   help="daily capacity of a delivery channel kind, replacing the configured one "
                        "(repeatable), e.g. call=150")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--progress", action="store_true",
                   help="show a progress bar even when stderr is not a terminal")
    p.set_defaults(handler=run)


def _count(text: str) -> int:
    import argparse
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _capacity(text: str) -> tuple[str, int]:
    import argparse
    kind, sep, number = text.partition("=")
    if not sep or not kind.strip() or not number.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected KIND=N (e.g. call=150), got {text!r}")
    return kind.strip(), int(number)


def _fail(message: str) -> int:
    print(f"arrears simulate: {message}", file=sys.stderr)
    return 1


def run(args) -> int:
    """Handler: simulate and print the report as text or JSON."""
    from datetime import datetime, timezone

    from arrears.engine.cli.tick import Bar
    from arrears.engine.domain.errors import ArrearsError, PolicyError, StoreError
    from arrears.engine.domain.model import parse_instant
    from arrears.engine.policy.load import load_policy
    from arrears.engine.policy.registry import read_policy
    from arrears.engine.simulate import from_delivery_config, simulate
    from arrears.engine.simulate.text import render
    from arrears.engine.tick.settings import load_settings
    from arrears.plugins.facts import installed_facts

    if not Path(args.candidate).is_file():
        return _fail(f"no such file: {args.candidate}")
    try:
        facts = installed_facts()       # the candidate and the active policy may use them
    except ArrearsError as exc:
        return _fail(f"cannot load the plugins' facts: {exc}")
    try:
        candidate = load_policy(args.candidate, facts=facts)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    try:
        at = parse_instant(args.at, "--at") if args.at else datetime.now(timezone.utc).replace(microsecond=0)
        settings = load_settings(db=args.db, policy=args.policy, config=args.config)
        capacity = from_delivery_config(settings.dispatcher_config).overridden(dict(args.capacity))
        store = _open(settings.database_url)
    except (ArrearsError, StoreError, OSError) as exc:
        return _fail(str(exc))
    bar = Bar(sys.stderr) if args.progress or sys.stderr.isatty() else None
    try:
        active = read_policy(store, settings.policy_path, facts=facts,
                             warn=lambda msg: print(f"arrears simulate: {msg}", file=sys.stderr))
        report = simulate(store, active, candidate, at, batch_size=settings.batch_size, sample=args.sample,
                          progress=(lambda done, total: bar("evaluate", done, total)) if bar else None,
                          capacity=capacity)
    except PolicyError as exc:
        return _fail(f"the active policy does not load:\n{exc}")
    except (ArrearsError, StoreError, OSError) as exc:
        return _fail(str(exc))
    finally:
        if bar is not None:
            bar.close()
        store.close()
    data = report.to_dict()
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n" if args.format == "json"
                     else render(data))
    return 0


def _open(url: str):
    """The store, read-only: no new file, no schema upgrade (simulate never writes)."""
    from arrears.engine.domain.errors import ArrearsError
    from arrears.engine.store import Store
    from arrears.engine.store.migrations import HEAD

    store = Store(url, upgrade=False, create=False)
    revision = store.schema_revision()
    if revision != HEAD:
        store.close()
        if revision is None:
            raise ArrearsError(f"the database at {url} has no Arrears schema")
        raise ArrearsError(f"the database is at schema revision {revision}, not {HEAD}: run `arrears tick` "
                           "once to upgrade it (simulate only reads)")
    return store
