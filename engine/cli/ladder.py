"""`arrears ladder POLICY`: the policy as a ladder, per segment: the day each stage falls due after
grace, its channels, attempts and spacing, the offers and fees, and where stages collide or are
never reached. The engine computes it (`arrears.engine.policy.ladder`); this module only formats it.
"""
from __future__ import annotations

import json
import sys

from arrears.engine.cli.errors import ExitCode, UsageError
from arrears.engine.cli.options import add_command, add_format, add_profiles, existing_file, profiles_dir

HELP = "show a policy as a ladder: per segment, the day each stage falls due after grace"


def register(subparsers) -> None:
    """Add the `ladder` subcommand."""
    p = add_command(subparsers, "ladder", HELP, exits={
        ExitCode.OK: "the ladder was printed",
        ExitCode.PROBLEMS: "the policy has problems (printed as file:line:col: message)",
        ExitCode.CANNOT_START: "the policy file does not exist, the segment is not the policy's, or a "
                               "plugin cannot be loaded",
        ExitCode.DATABASE: None})
    p.add_argument("policy", metavar="POLICY", help="the policy YAML file")
    p.add_argument("--segment", metavar="S", help="only this segment's ladder")
    add_format(p, ("text", "json"))
    add_profiles(p, config=False)
    p.set_defaults(handler=run)


def run(args) -> int:
    """Handler: compute the ladder and print it as text or JSON."""
    from arrears.engine.domain.errors import ArrearsError
    from arrears.engine.policy.ladder import ladder
    from arrears.engine.policy.load import load_policy
    from arrears.plugins.facts import installed_facts
    path = existing_file(args.policy, "POLICY")
    try:
        facts = installed_facts()
    except ArrearsError as exc:
        raise UsageError(f"cannot load the plugins' facts: {exc}") from exc
    policy = load_policy(path, facts=facts, company_profiles=profiles_dir(args))
    try:
        ladders = ladder(policy, args.segment, only=args.segment is not None)
    except KeyError:
        raise UsageError(f"--segment: the policy has no segment {args.segment!r} (it has: "
                         f"{', '.join(policy.segments) or 'none'})") from None
    data = {"policy": {"name": policy.name, "version": policy.version, "digest": policy.digest},
            "segments": [lad.to_dict() for lad in ladders]}
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n" if args.format == "json"
                     else render(data))
    return ExitCode.OK


def _day(day: int) -> str:
    return f"day {day:>4}" if day > 0 else (f"{-day:>3} before due" if day < 0 else "due date")


def _rung(r: dict) -> list[str]:
    spacing = []
    if r["max_attempts"] > 1:
        spacing.append(f"{r['max_attempts']} attempts" + (f", every {r['repeat_every_days']} days"
                                                         if r["repeat_every_days"] else ""))
    if r["min_days_since_previous"]:
        spacing.append(f"{r['min_days_since_previous']} days after the previous contact")
    flags = [f for f, on in (("required", r["required"]), ("if its condition holds", r["conditional"])) if on]
    moved = f" (written {r['days_past_due']})" if r["day"] != r["days_past_due"] else ""
    lines = [f"  {_day(r['day'])}{moved}  {r['stage']}  {r['action']} by {', '.join(r['channels'])}"
             + (f"; {'; '.join(spacing)}" if spacing else "") + (f"  [{', '.join(flags)}]" if flags else "")]
    if r["unreachable"]:
        lines.append(f"      never reached: {r['unreachable']}")
    elif r["skipped_by"]:
        lines.append(f"      collides: skipped when {', '.join(r['skipped_by'])} applies (same day)")
    elif r["collides_with"]:
        lines.append(f"      same day as: {', '.join(r['collides_with'])}")
    lines += [f"      no channel for {why}" for why in r["no_channel"]]
    return lines


def _extra(item: dict, key: str) -> str:
    rest = ", ".join(f"{k} {v}" for k, v in item.items() if k not in (key, "applies") and v is not None
                     and not isinstance(v, list))
    tiers = next((v for v in item.values() if isinstance(v, list)), None)
    if tiers:
        rest += (", " if rest else "") + " / ".join(
            f"{t['amount']}" + (f" below {t['below']}" if "below" in t else " above") for t in tiers)
    return f"  {item[key]}: {rest} ({item['applies']})"


def render(data: dict) -> str:
    """The ladder as text: one block per segment."""
    p = data["policy"]
    out = [f"{p['name']} {p['version']} ({p['digest']})"]
    for seg in data["segments"]:
        out.append("")
        out.append(f"{seg['segment']}: grace {seg['grace_days']} days; debtor types "
                   f"{', '.join(seg['debtor_types'])}")
        for r in seg["rungs"]:
            out += _rung(r)
        out += [_extra(o, "offer") for o in seg["offers"]]
        out += [_extra(f, "fee") for f in seg["fees"]]
    return "\n".join(out) + "\n"
