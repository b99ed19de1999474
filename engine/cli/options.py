"""The options several `arrears` commands share, each declared here once with one wording, and
the helpers that read them: the settings, the database, `--at`, the period, input files, the
read-only store, and `--format` (text, json, csv) with its writers and the deprecated spellings.

Declaring an option imports nothing heavy (`arrears --help` builds every parser); the
helpers import the engine when a command runs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arrears.engine.cli.errors import UsageError, exit_epilog

# Where a command finds each setting when its flag is not given (engine/tick/settings.py).
# Every command that opens a database finds it the same way (`database_url`).
DATABASE_DEFAULT = "$ARREARS_DATABASE_URL, else the config file's database_url, else sqlite:///arrears.db"
POLICY_DEFAULT = "$ARREARS_POLICY, else the config file's policy, else the shipped policies/default.yaml"
PROFILES_DEFAULT = "$ARREARS_PROFILES, else the config file's profiles, else none"
PROFILES_ENV = "ARREARS_PROFILES"
INSTANT = "RFC 3339 with an offset, e.g. 2026-11-23T10:00:00Z"


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, except that a text written with line breaks (the exit-status table of the
    epilog) keeps them; one-line descriptions are wrapped to the terminal as usual."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def add_command(subparsers, name: str, help: str, *, description: str | None = None,
                exits: dict | None = None, epilog: str = ""):
    """Add the subcommand `name`; its `--help` ends with `epilog` (kept as written) and the exit
    statuses, `exits` (code -> text) saying what a code means for this command."""
    ending = (epilog + "\n\n" if epilog else "") + exit_epilog(exits)
    return subparsers.add_parser(name, help=help, description=description or help, epilog=ending,
                                 formatter_class=HelpFormatter)


def add_database(parser) -> None:
    """`--db URL` (alias `--database`), with the one default of every command that opens a
    database. Such a command also takes `--config` (the default may come from the config file);
    `database_url` resolves the URL."""
    parser.add_argument("--db", "--database", dest="db", metavar="URL",
                        help=f"database URL (default: {DATABASE_DEFAULT})")


BROKER_DEFAULT = "$ARREARS_BROKER_URL, else the config file's broker_url, else none: the tick runs in this process"


def add_broker(parser) -> None:
    """`--broker URL`: the distributed tick's broker (redis://, amqp://), with PostgreSQL; found
    like `--db` (flag, environment, config file). Without one the tick runs in-process."""
    parser.add_argument("--broker", metavar="URL",
                        help="Celery broker of the distributed tick, redis://... or amqp://..., with a "
                             f"PostgreSQL --db (docs/scale-out.md; default: {BROKER_DEFAULT})")


def database_url(args) -> str:
    """The database URL of a command's `--db`, as every command finds it: the flag, else
    $ARREARS_DATABASE_URL, else the config file's (`--config`, $ARREARS_CONFIG) database_url,
    else sqlite:///arrears.db (ConfigError if the config file is unusable)."""
    return load_settings(args).database_url


def add_capacity(parser) -> None:
    """`--capacity KIND=N` (repeatable): a delivery channel kind's daily capacity, replacing the
    configured one (`args.capacity`: a list of (kind, n))."""
    parser.add_argument("--capacity", action="append", default=[], type=_capacity, metavar="KIND=N",
                        help="daily capacity of a delivery channel kind, replacing the configured one "
                             "(repeatable), e.g. call=150")


def _capacity(text: str) -> tuple[str, int]:
    kind, sep, number = text.partition("=")
    if not sep or not kind.strip() or not number.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected KIND=N (e.g. call=150), got {text!r}")
    return kind.strip(), int(number)


def add_config(parser, holds: str = "") -> None:
    """`--config FILE`; `holds` says what the command reads from it."""
    text = "config file, TOML or YAML (default: $ARREARS_CONFIG)" + (f": {holds}" if holds else "")
    parser.add_argument("--config", metavar="FILE", help=text)


def add_policy(parser, role: str, *, active_first: bool = False, required: bool = False) -> None:
    """`--policy FILE`. `role` says what the command does with it; `active_first` for the commands
    that read the database's active policy unless a file is given."""
    if required:
        text = f"{role} (required)"
    elif active_first:
        text = f"{role} (default: the database's active policy; if none, {POLICY_DEFAULT})"
    else:
        text = f"{role} (default: {POLICY_DEFAULT})"
    parser.add_argument("--policy", metavar="FILE", required=required, help=text)
    add_profiles(parser)


def add_profiles(parser, *, config: bool = True) -> None:
    """`--profiles DIR`: the company's own stricter jurisdiction profiles, besides the shipped
    ones (every command that loads a policy has it)."""
    default = PROFILES_DEFAULT if config else "$ARREARS_PROFILES, else none"
    parser.add_argument("--profiles", metavar="DIR",
                        help="a directory of your own jurisdiction profiles, applied besides the shipped "
                             f"ones; they can only tighten (default: {default})")


def profiles_dir(args, settings=None):
    """The company profiles directory: `--profiles`, else the settings' (environment, config
    file), else $ARREARS_PROFILES; None if none. UsageError if it names no directory."""
    import os
    value = getattr(args, "profiles", None)
    if value is None and settings is not None:
        value = getattr(settings, "profiles_path", None)
    if value is None:
        value = os.environ.get(PROFILES_ENV) or None
    if value is None:
        return None
    path = Path(value)
    if not path.is_dir():
        raise UsageError(f"--profiles: no such directory: {value}")
    return path


def add_at(parser, *, day: bool = False) -> None:
    """`--at`: an instant to decide at, or (`day=True`) a day to judge at the end of."""
    if day:
        parser.add_argument("--at", metavar="DATE", help="judge as of the end of this day (YYYY-MM-DD; "
                            "default: today, UTC)")
    else:
        parser.add_argument("--at", metavar="TIME", help=f"decide at this instant, {INSTANT} (default: now)")


def add_period(parser, *, to_note: str = "") -> None:
    """`--from DATE --to DATE`, both required, both included."""
    parser.add_argument("--from", dest="start", required=True, metavar="DATE",
                        help="first day of the period (YYYY-MM-DD, the debtors' local days)")
    parser.add_argument("--to", dest="end", required=True, metavar="DATE",
                        help="last day of the period (included)" + (f"; {to_note}" if to_note else ""))


# `--format`: `text` for people, the default of every command; `json` for programs; `csv` too
# where the output is a table (TABLE_FORMATS).
TEXT = "text"
FORMATS = (TEXT, "json")
TABLE_FORMATS = (TEXT, "json", "csv")


def deprecated(parser, old: str, instead: str) -> None:
    """Say on stderr that the spelling `old`, just used, still works but is deprecated for `instead`."""
    print(f"{parser.prog}: warning: {old} is deprecated; use {instead}", file=sys.stderr)


class _Format(argparse.Action):
    """`--format` that also takes the documented old spellings (`aliases`: old -> (dest, value,
    what to write instead)), each with a deprecation line, and lists only the current ones."""

    def __init__(self, option_strings, dest, formats=FORMATS, aliases=None, **kw):
        self.formats, self.aliases = tuple(formats), dict(aliases or {})
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser, namespace, value, option_string=None):
        if value in self.formats:
            setattr(namespace, self.dest, value)
        elif value in self.aliases:
            dest, new, instead = self.aliases[value]
            deprecated(parser, f"{option_string} {value}", instead)
            setattr(namespace, dest, new)
        else:
            parser.error(f"argument --format: invalid choice: {value!r} "
                         f"(choose from {', '.join(self.formats)})")


def add_format(parser, formats: tuple[str, ...] = FORMATS, *, aliases: dict | None = None) -> None:
    """`--format text|json` (`formats`: TABLE_FORMATS where the output is a table), default `text`.
    `aliases`: old spellings still accepted with a deprecation line, `{old: new}` for another name
    of a format, or `{old: (dest, value, instead)}` for one that now sets another option."""
    table = {old: (("format", new, f"--format {new}") if isinstance(new, str) else new)
             for old, new in (aliases or {}).items()}
    old = f"; deprecated: {', '.join(table)}" if table else ""
    parser.add_argument("--format", action=_Format, formats=formats, aliases=table, default=TEXT,
                        metavar="{" + ",".join(formats) + "}",
                        help=f"output: {', '.join(formats)} (default: {TEXT}{old})")


def write_json(data) -> None:
    """`--format json`: `data` on stdout, indented, UTF-8 as it is."""
    import json
    print(json.dumps(data, indent=2, ensure_ascii=False))


def write_csv(header, rows) -> None:
    """`--format csv`: a header line and the rows on stdout (RFC 4180 quoting, \\n line ends)."""
    import csv
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def write_listing(fmt: str, rows: list[dict], header, line, noun: str) -> None:
    """A listing's rows (dicts) in `fmt`: json the rows as they are, csv the `header` columns, text
    one `line(row)` each and then their count (`plural(n, noun)`)."""
    from arrears.engine.domain.words import plural
    if fmt == "json":
        write_json(rows)
    elif fmt == "csv":
        write_csv(header, [[row[name] for name in header] for row in rows])
    else:
        for row in rows:
            print(line(row))
        print(plural(len(rows), noun))


def add_deprecated_flag(parser, flag: str, dest: str, value, instead: str) -> None:
    """An old flag kept as a documented alias: it sets `dest` to `value`, says it is deprecated
    (use `instead`), and is hidden from `--help`."""

    class Alias(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            deprecated(parser, flag, instead)
            setattr(namespace, dest, value)

    parser.add_argument(flag, nargs=0, action=Alias, help=argparse.SUPPRESS)


def add_progress(parser) -> None:
    """`--progress`: a progress bar on stderr, which a terminal gets anyway."""
    parser.add_argument("--progress", action="store_true",
                        help="show a progress bar even when stderr is not a terminal")


def wants_progress(args) -> bool:
    """Whether to draw a progress bar: asked for, or stderr is a terminal."""
    return bool(args.progress) or sys.stderr.isatty()


def existing_file(value: str, flag: str) -> Path:
    """`value` as a Path, checked before any work is done (UsageError naming `flag` if it is not a file)."""
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{flag}: is a directory, not a file: {value}")
    if not path.exists():
        raise UsageError(f"{flag}: no such file: {value}")
    return path


def load_settings(args, **extra):
    """The settings from the command's --db, --policy and --config (those it has), the environment
    and the config file (engine/tick/settings.py; ConfigError if unusable). A `--policy` given
    must name a file; one from the environment or config file is checked where it is used."""
    from arrears.engine.tick.settings import load_settings as resolve
    policy = getattr(args, "policy", None)
    if policy is not None:
        existing_file(policy, "--policy")
    return resolve(db=getattr(args, "db", None), policy=policy, config=getattr(args, "config", None),
                   profiles=getattr(args, "profiles", None), broker=getattr(args, "broker", None), **extra)


def instant(value: str | None, *, whole_seconds: bool = False):
    """`--at` as an aware UTC datetime, else now (InputError naming --at if it is not RFC 3339
    with an offset). `whole_seconds` drops the microseconds of now, for a tidy report."""
    from datetime import datetime, timezone

    from arrears.engine.domain.model import parse_instant
    if value:
        return parse_instant(value, "--at")
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=0) if whole_seconds else now


def day(value: str | None):
    """`--at` as a date, else today in UTC (InputError naming --at if it is not YYYY-MM-DD)."""
    from datetime import datetime, timezone

    from arrears.engine.domain.model import parse_date
    return parse_date(value, "--at") if value else datetime.now(timezone.utc).date()


def period(args):
    """(first, last) day of `--from`/`--to` (UsageError if the period ends before it starts)."""
    from arrears.engine.domain.model import parse_date
    start, end = parse_date(args.start, "--from"), parse_date(args.end, "--to")
    if start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    return start, end


def open_store(url: str | None, *, upgrade: bool = False, current: bool = False, read_only: bool = False):
    """The store at `url` (None: $ARREARS_DATABASE_URL or the default) without creating a database
    file, as the reporting and repair commands need it: read as it is unless `upgrade`. SchemaError
    (a StoreError, exit 3) if it holds no Arrears schema or, with `current`, an older one.
    `read_only`: opened so that nothing can be written (a read-only copy works)."""
    from arrears.engine.store import SCHEMA_HEAD, SchemaError, Store, safe_url

    store = Store(url, upgrade=upgrade, create=False, read_only=read_only)
    try:
        revision = store.schema_revision()
        if revision is None:
            raise SchemaError(f"the database at {safe_url(store.url)} has no Arrears schema")
        if current and revision != SCHEMA_HEAD:
            raise SchemaError(f"the database is at schema revision {revision}, not {SCHEMA_HEAD}: run "
                              "`arrears tick` once to upgrade it (this command only reads)")
    except BaseException:
        store.close()
        raise
    return store
