"""The policy warnings as `validate`, `test` and `simulate` show them: `--strict`, `--against
FILE|active`, `--db`, and one way of printing them (`arrears.engine.policy.warnrules` finds them).

Not a subcommand: the options and helpers those commands share. A warning is printed as
`file:line:col: warning W-…: message`, with `[silenced: reason]` when the policy silenced it;
only `--strict` makes an unsilenced one fail the command (exit 1).
"""
from __future__ import annotations

from arrears.engine.cli.errors import UsageError


def add_warning_options(parser, *, against: bool = True, database: bool = True) -> None:
    """`--strict`, and (unless told otherwise) `--against FILE|active` and `--db URL`."""
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a policy has a warning nobody silenced (see `silence:` in the "
                             "policy guide)")
    if against:
        parser.add_argument("--against", metavar="FILE|active",
                            help="compare stage ids with this policy, or with the database's active one "
                                 "(`active`, from --db): renamed, removed and added stages are warnings")
    if database:
        from arrears.engine.cli.options import add_config, add_database
        add_database(parser)
        add_config(parser, "database_url")


class WarningContext:
    """What the warnings compare with: the `--against` policy and the store's history names."""

    def __init__(self, against=None, portfolio=None):
        self.against, self.portfolio = against, portfolio
        self.shown = self.silenced = 0

    def warnings(self, policy, doc, filename: str, events=()) -> list:
        """The warnings of one loaded policy (silences applied)."""
        from arrears.engine.policy.warnrules import policy_warnings
        return policy_warnings(policy, doc, filename, against=self.against, portfolio=self.portfolio,
                               events=events)

    def count(self, found) -> None:
        """Add `found` to the totals of `summary`."""
        self.shown += len(found)
        self.silenced += sum(bool(w.silenced) for w in found)

    def summary(self) -> str:
        """', N warnings (M silenced)' for the command's summary line; '' when there were none."""
        if not self.shown:
            return ""
        return (f"; {self.shown} warning{'s' if self.shown != 1 else ''}"
                + (f" ({self.silenced} silenced)" if self.silenced else ""))


def warning_context(args, facts=None, profiles=None) -> WarningContext:
    """The context `args` ask for: `--against` loaded (UsageError if `active` and no policy is
    active), and with `--db` (or `--against active`) the store's history names read once."""
    from arrears.engine.cli.options import database_url, existing_file, open_store
    from arrears.engine.policy.load import load_policy
    against_arg = getattr(args, "against", None)
    url = getattr(args, "db", None)
    against = portfolio = None
    if against_arg is not None and against_arg != "active":
        against = load_policy(existing_file(against_arg, "--against"), facts=facts, company_profiles=profiles)
    if url is not None or against_arg == "active":
        with open_store(database_url(args)) as store:
            if against_arg == "active":
                row = store.active_policy()
                if row is None:
                    raise UsageError("--against active: no policy is active in the database")
                label = f"<active policy {row['name']} {row['version']}>"
                against = load_policy(row["source"], filename=label, facts=facts, company_profiles=profiles)
            portfolio = store.history_names()
    return WarningContext(against, portfolio)


def print_warnings(found, args, context: WarningContext | None = None) -> int:
    """Print each warning indented under its file's line; return how many count against
    `--strict` (0 without it)."""
    from arrears.engine.policy.warning import unsilenced
    for w in found:
        print(f"    {w}")
    if context is not None:
        context.count(found)
    return len(unsilenced(found)) if getattr(args, "strict", False) else 0
