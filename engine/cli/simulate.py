"""`arrears simulate`: what candidate policies would do to the stored portfolio, next to the active one.

`--candidate FILE` may be given several times: each candidate is compared with the active
policy in turn (the report of each, then a table of them side by side: stage and decision
changes, suppressions, contacts); with one candidate the output is as it always was. JSON
with several: `{"candidates": [report, ...], "summary": [...]}`.

Read-only: opens the database without upgrading or creating it and writes nothing.
The candidate's warnings (compared with the active policy, with the store's accounts per stage)
come first, as `validate` prints them (JSON: a `warnings` list). Exit status: 0 the report was
printed; 1 the candidate or the stored active policy has problems (each printed as
file:line:col), or with `--strict` the candidate has a warning nobody silenced; 2 bad arguments,
configuration or plugins;
3 the database cannot be used (missing, no Arrears schema, an older schema, locked).
"""
from __future__ import annotations

import sys

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import (
    add_at,
    add_capacity,
    add_command,
    add_config,
    add_database,
    add_format,
    add_policy,
    add_progress,
    existing_file,
    instant,
    load_settings,
    open_store,
    wants_progress,
    write_json,
)
from arrears.engine.cli.warnopts import add_warning_options, print_warnings

HELP = "compare a candidate policy with the active one over every stored account (stores nothing)"


def register(subparsers) -> None:
    """Add the `simulate` subcommand."""
    p = add_command(subparsers, "simulate", HELP, exits={
        ExitCode.OK: "the report was printed",
        ExitCode.PROBLEMS: "the candidate or the stored active policy has problems (printed as "
                           "file:line:col: message), or with --strict the candidate has a warning nobody "
                           "silenced (the report is printed all the same)",
        ExitCode.DATABASE: "the database cannot be used (missing, no Arrears schema, an older schema, "
                           "locked)"})
    p.add_argument("--candidate", required=True, action="append", metavar="FILE",
                   help="a candidate policy YAML (repeatable: several candidates, each against the active one)")
    add_at(p)
    add_database(p)
    add_policy(p, "the policy to compare with when the database has no active version")
    add_config(p, "the channels' daily_capacity and routes, [tick] batch_size")
    p.add_argument("--sample", type=_count, default=20, metavar="N",
                   help="accounts shown per sample (stage changes, newly suppressed, newly released; default 20)")
    add_capacity(p)
    add_format(p)
    add_progress(p)
    add_warning_options(p, against=False, database=False)
    p.set_defaults(handler=run)


def _count(text: str) -> int:
    import argparse
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def run(args) -> int:
    """Handler: simulate each candidate and print the reports as text or JSON."""
    from arrears.engine.cli.tick import Bar
    from arrears.engine.domain.errors import ArrearsError, PolicyError
    from arrears.engine.policy.load import load_checked
    from arrears.engine.policy.registry import read_policy
    from arrears.engine.simulate import from_delivery_config
    from arrears.plugins.facts import installed_facts

    for path in args.candidate:
        existing_file(path, "--candidate")
    try:
        facts = installed_facts()       # the candidates and the active policy may use them
    except ArrearsError as exc:
        raise UsageError(f"cannot load the plugins' facts: {exc}") from exc
    settings = load_settings(args)
    candidates = [(path, *load_checked(path, facts=facts, company_profiles=settings.profiles_path))
                  for path in args.candidate]
    at = instant(args.at, whole_seconds=True)
    capacity = from_delivery_config(settings.dispatcher_config).overridden(dict(args.capacity))
    with open_store(settings.database_url, current=True) as store:
        bar = Bar(sys.stderr) if wants_progress(args) else None
        try:
            active = read_policy(store, settings.policy_path, facts=facts, profiles=settings.profiles_path,
                                 warn=lambda msg: print(f"arrears simulate: {msg}", file=sys.stderr))
            progress = (lambda done, total: bar("evaluate", done, total)) if bar else None
            results = [_one(store, active, path, candidate, doc, at, settings, args, capacity, progress)
                       for path, candidate, doc in candidates]
        except PolicyError as exc:
            exc.add_note("the active policy does not load:")
            raise
        finally:
            if bar is not None:
                bar.close()
    return _print(args, results)


def _one(store, active, path, candidate, doc, at, settings, args, capacity, progress):
    """(path, report dict, warnings) of one candidate against the active policy."""
    from arrears.engine.policy.warnrules import policy_warnings
    from arrears.engine.simulate import simulate
    report = simulate(store, active, candidate, at, batch_size=settings.batch_size, sample=args.sample,
                      progress=progress, capacity=capacity)
    warnings = policy_warnings(candidate, doc, path, against=active, portfolio=store.history_names())
    return path, report.to_dict(), warnings


def summary(results) -> list[dict]:
    """One line per candidate: its policy and how much it changes (for several candidates)."""
    out = []
    for path, data, _warnings in results:
        contacts = data["contacts"]["by_channel"]
        out.append({"file": path, "policy": data["policies"]["candidate"],
                    "stage_changes": data["changes"]["stage"], "decision_changes": data["changes"]["decision"],
                    "newly_suppressed": data["suppressions"]["newly_suppressed"]["accounts"],
                    "newly_released": data["suppressions"]["newly_released"]["accounts"],
                    "contacts_active": sum(c["active"] for c in contacts),
                    "contacts_candidate": sum(c["candidate"] for c in contacts)})
    return out


def _print(args, results) -> int:
    from arrears.engine.simulate.text import render
    strict_bad = False
    if args.format == "json":
        documents = []
        for _path, data, warnings in results:
            documents.append({**data, "warnings": [w.to_dict() for w in warnings]})
            strict_bad |= args.strict and any(not w.silenced for w in warnings)
        write_json(documents[0] if len(documents) == 1 else {"candidates": documents, "summary": summary(results)})
        return ExitCode.PROBLEMS if strict_bad else ExitCode.OK
    for path, data, warnings in results:
        if len(results) > 1:
            print(f"== candidate {path}")
        if warnings:
            print(f"warnings of the candidate {path}:")
        strict_bad |= print_warnings(warnings, args)
        sys.stdout.write(render(data))
    if len(results) > 1:
        print("\ncandidates side by side (each against the active policy)")
        rows = [["candidate", "stage changes", "decision changes", "newly suppressed", "newly released",
                 "contacts (active -> candidate)"]]
        rows += [[f"{s['policy']['name']} {s['policy']['version']} ({s['file']})", f"{s['stage_changes']:,}",
                  f"{s['decision_changes']:,}", f"{s['newly_suppressed']:,}", f"{s['newly_released']:,}",
                  f"{s['contacts_active']:,} -> {s['contacts_candidate']:,}"] for s in summary(results)]
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        for r in rows:
            print("  ".join(v.ljust(w) if c == 0 else v.rjust(w) for c, (v, w) in enumerate(zip(r, widths))).rstrip())
    return ExitCode.PROBLEMS if strict_bad else ExitCode.OK
