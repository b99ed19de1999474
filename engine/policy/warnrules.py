"""The warning rules, one function each, and `policy_warnings`, which runs them all (the value,
the catalogue of rule ids and the silencing are in `arrears.engine.policy.warning`).

Each rule reads the compiled policy, its document (for positions) and, where given, the active
policy, the store's history (`portfolio`) and the contact events of policy tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from arrears.engine.facts.catalogue import FACTS, MONEY
from arrears.engine.policy import reach
from arrears.engine.policy.condscan import pinned
from arrears.engine.policy.househours import DEBTOR_TYPES
from arrears.engine.policy.ladder import ladder
from arrears.engine.policy.warning import PolicyWarning, apply_silences, warning_at
from arrears.engine.policy.yamlsrc import Document

_COMPARE = ("eq", "ne", "lt", "lte", "gt", "gte", "between")


@dataclass(frozen=True)
class Context:
    """What every rule reads."""

    policy: object
    doc: Document
    filename: str
    portfolio: dict

    def at(self, path, rule, message, subject="", key=False) -> PolicyWarning:
        """A warning at `path` of the policy."""
        return warning_at(self.doc, self.filename, path, rule, message, subject, key)

    @property
    def segments(self) -> dict:
        return self.policy.document.get("segments") or {}


@dataclass(frozen=True)
class EventRef:
    """A contact event of a policy test: the stage and channel kind it names, and where it is."""

    stage: str | None
    channel: str | None
    file: str
    line: int
    col: int
    path: str = ""


def policy_warnings(policy, doc: Document, filename: str | None = None, *, against=None,
                    portfolio: dict | None = None, events=()) -> list[PolicyWarning]:
    """Every warning of a loaded `policy` (compiled from `doc`), silences applied, sorted.

    `against`: the active policy (a CompiledPolicy) to compare stage ids with; `portfolio`: what
    the store's history holds (`arrears.engine.store.stagereads.history_names`): accounts per
    stage, the stages and channels of its contact events, its currencies; `events`: contact events
    of policy tests, as `EventRef`s located in their own file.
    """
    filename = filename or doc.filename
    ctx = Context(policy, doc, filename, portfolio or {})
    found, checked = [], set()
    for rule, run in rules(ctx, against, events):
        checked.add(rule)
        found += run()
    return apply_silences(found, doc, filename, checked)


def rules(ctx: Context, against, events):
    """(rule id, function) of every rule that can run with what was given."""
    out = [("W-stage-channels-unavailable", partial(channels_unavailable, ctx)),
           ("W-stages-same-day", partial(stages_same_day, ctx)),
           ("W-money-all-currencies", partial(money_all_currencies, ctx))]
    if against is not None:
        out.append(("W-stage-ids-changed", partial(stage_ids_changed, ctx, against)))
    if events or ctx.portfolio.get("contact_names") is not None:
        out += [("W-event-unknown-stage", partial(event_names, ctx, events, "stage")),
                ("W-event-unknown-channel", partial(event_names, ctx, events, "channel"))]
    return out


def _stage_path(stage, key: str | None = None) -> tuple:
    return ("escalation", "stages", stage.index) + ((key,) if key else ())


# -- a required stage no channel can carry ----------------------------------------------------------
def _stage_types(ctx: Context, stage) -> tuple[str, ...]:
    spec = ctx.policy.document["escalation"]["stages"][stage.index]
    allowed = set(DEBTOR_TYPES)
    own = pinned(spec.get("when"), "debtor_type", ctx.segments)
    if own is not None:
        allowed &= own
    if stage.segments:
        via = set()
        for name in stage.segments:
            seg = pinned((ctx.segments.get(name) or {}).get("when"), "debtor_type", ctx.segments)
            via |= set(DEBTOR_TYPES) if seg is None else seg
        allowed &= via
    return tuple(t for t in DEBTOR_TYPES if t in allowed)


def channels_unavailable(ctx: Context) -> list[PolicyWarning]:
    """W-stage-channels-unavailable: a required stage whose listed channels are all barred for a
    debtor type, everywhere (house hours) or where a profile applies."""
    policy, out = ctx.policy, []
    bars = reach.bars(policy)
    for stage in policy.stages:
        if not stage.required:
            continue
        kinds = [policy.channels[c] for c in stage.channels[:stage.listed]]
        found = []
        for dtype in _stage_types(ctx, stage):
            for scope in reach.unreachable(policy, kinds, dtype, bars):
                why = "; ".join(f"{', '.join(b.kinds)}: {b.why}" for b in scope)
                where = "everywhere" if scope[0].scope == "everywhere" else f"under {scope[0].scope}"
                found.append(f"{dtype} debtors {where} ({why})")
        if found:
            out.append(ctx.at(_stage_path(stage, "channels"), "W-stage-channels-unavailable",
                              f"required stage {stage.id!r} has no channel that can reach "
                              + " nor ".join(found) + ": those accounts are never contacted at this stage "
                              "nor escalated past it", stage.id))
    return out


# -- grace that makes stages collide ------------------------------------------------------------------
def stages_same_day(ctx: Context) -> list[PolicyWarning]:
    """W-stages-same-day: a stage that is not required shares its due day with a later stage in
    some segment, so the first contact skips it (read from the ladder)."""
    skipped: dict[str, list] = {}
    for seg in ladder(ctx.policy):
        for rung in seg.rungs:
            if rung.skipped_by:
                skipped.setdefault(rung.stage, []).append((seg, rung))
    out = []
    for stage in ctx.policy.stages:
        if stage.id not in skipped:
            continue
        parts = []
        for seg, rung in skipped[stage.id]:
            who = "accounts in no segment" if seg.segment is None else f"segment {seg.segment!r}"
            grace = f" (grace {seg.grace_days} days)" if rung.day != rung.days_past_due else ""
            parts.append(f"{who}{grace}: day {rung.day} with {', '.join(map(repr, rung.skipped_by))}")
        out.append(ctx.at(_stage_path(stage, "days_past_due"), "W-stages-same-day",
                          f"stage {stage.id!r} falls due on the same day as a later stage for "
                          + "; ".join(parts) + ": the later one is taken and the first contact skips "
                          f"{stage.id!r}", stage.id))
    return out


# -- one money figure across currencies ---------------------------------------------------------------
def _named_currencies(node) -> set:
    found = set()
    if isinstance(node, dict):
        if node.get("fact") == "currency":
            found |= {node["eq"]} if "eq" in node else set(node.get("in") or ())
        for v in node.values():
            found |= _named_currencies(v)
    elif isinstance(node, list):
        for v in node:
            found |= _named_currencies(v)
    return found


def _pins(ctx, spec) -> bool:
    return pinned(spec, "currency", ctx.segments) is not None


def _money_leaves(ctx, node, path, is_pinned, out):
    if not isinstance(node, dict):
        return
    here = is_pinned or _pins(ctx, node)
    for i, item in enumerate(node.get("all") or ()):
        _money_leaves(ctx, item, path + ("all", i), here, out)
    for i, item in enumerate(node.get("any") or ()):
        _money_leaves(ctx, item, path + ("any", i), is_pinned, out)
    if "not" in node:
        _money_leaves(ctx, node["not"], path + ("not",), is_pinned, out)
    fd = FACTS.get(node.get("fact")) if isinstance(node.get("fact"), str) else None
    if fd is not None and fd.kind == MONEY and not here:
        for op in (k for k in node if k in _COMPARE):
            out.append((path + (op,), f"{node['fact']} {op} {node[op]}"))


def money_all_currencies(ctx: Context) -> list[PolicyWarning]:
    """W-money-all-currencies: where the portfolio (or the policy's own currency tests) has several
    currencies, each money threshold not tied to one currency by a currency test."""
    data = ctx.policy.document
    currencies = _named_currencies(data) | set(ctx.portfolio.get("currencies") or ())
    if len(currencies) < 2:
        return []
    found = []
    for name, seg in ctx.segments.items():
        _money_leaves(ctx, (seg or {}).get("when"), ("segments", name, "when"), False, found)
    for stage in ctx.policy.stages:
        spec = data["escalation"]["stages"][stage.index]
        by_segment = bool(stage.segments) and all(
            _pins(ctx, {"segment": s}) for s in stage.segments)
        _money_leaves(ctx, spec.get("when"), _stage_path(stage, "when"), by_segment, found)
    inc, fees = data.get("incentives") or {}, data.get("fees") or {}
    sections = [(("incentives", "settlement"), inc.get("settlement"), ("floor", "approval_above")),
                (("fees", "late_fee"), fees.get("late_fee"), ("flat", "fixed_by_amount")),
                (("priority", "factors", "balance"), ((data.get("priority") or {}).get("factors") or {})
                 .get("balance"), ("cap",))]
    for path, section, keys in sections:
        if not isinstance(section, dict):
            continue
        _money_leaves(ctx, section.get("when"), path + ("when",), False, found)
        if _pins(ctx, section.get("when")):
            continue
        for key in keys:
            if key in section:
                found.append((path + (key,), f"{'.'.join(map(str, path))}.{key}"))
    listed = ", ".join(sorted(currencies))
    return [ctx.at(path, "W-money-all-currencies",
                   f"{what} applies the same figure to every currency ({listed}), with no conversion; "
                   "tie it to one currency with a currency test and give each currency its own figure")
            for path, what in found]


# -- stage ids compared with the active policy ---------------------------------------------------------
def stage_ids_changed(ctx: Context, against) -> list[PolicyWarning]:
    """W-stage-ids-changed: stage ids the active policy has and this one lacks (unless mapped in
    `stage_renames`), and ids this one adds; with the store, how many accounts each old id holds."""
    policy, counts = ctx.policy, ctx.portfolio.get("accounts_by_stage")
    old = {s.id: s for s in against.stages}
    new = {s.id: s for s in policy.stages}
    renames = policy.stage_renames
    removed = [sid for sid in old if sid not in new and sid not in renames]
    added = [sid for sid in new if sid not in old and sid not in renames.values()]
    out, paired = [], set()

    def held(sid):
        if counts is None:
            return "accounts part-way through the ladder"
        n = counts.get(sid, 0)
        return f"{n} account{'s' if n != 1 else ''} in the store with contacts under it"

    for sid in removed:
        was = old[sid]
        guess = next((a for a in added if a not in paired and (
            new[a].index == was.index or (new[a].days_past_due, new[a].action) == (was.days_past_due,
                                                                                   was.action))), None)
        if guess is not None:
            paired.add(guess)
            out.append(ctx.at(_stage_path(new[guess], "id"), "W-stage-ids-changed",
                              f"stage {sid!r} of the active policy looks renamed to {guess!r}: {held(sid)} "
                              f"would restart or repeat steps; to carry their progress over, add "
                              f"`stage_renames: {{{sid}: {guess}}}`", sid))
        else:
            out.append(ctx.at(("escalation", "stages"), "W-stage-ids-changed",
                              f"stage {sid!r} of the active policy is removed: {held(sid)} lose that "
                              f"progress and would restart or repeat steps; if another stage replaces it, "
                              f"map it in `stage_renames: {{{sid}: NEW_ID}}`", sid, key=True))
    for sid in added:
        if sid not in paired:
            out.append(ctx.at(_stage_path(new[sid], "id"), "W-stage-ids-changed",
                              f"stage {sid!r} is new compared with the active policy: accounts already "
                              f"past day {new[sid].days_past_due} skip it"
                              + (", or, as it is required, go back to it" if new[sid].required else ""),
                              sid))
    return out


# -- contact events naming what the policy lacks --------------------------------------------------------
def event_names(ctx: Context, events, what: str) -> list[PolicyWarning]:
    """W-event-unknown-stage / W-event-unknown-channel: contact events of policy tests (at their
    line) or of the store (counted, at the policy's stages) naming a stage or channel kind the
    policy does not have."""
    policy = ctx.policy
    if what == "stage":
        rule = "W-event-unknown-stage"
        known = {s.id for s in policy.actions} | set(policy.stage_renames)
        hint = "its contacts do not count for any stage, so the debtor is contacted again"
    else:
        rule = "W-event-unknown-channel"
        known = set(policy.channels.values())
        hint = "the policy has no channel of that kind"
    out = []
    for ev in events:
        name = getattr(ev, what)
        if name is not None and name not in known:
            out.append(PolicyWarning(ev.file, ev.line, ev.col, rule,
                                     f"the event names {what} {name!r}, which the policy does not have: "
                                     f"{hint}", ev.path, name))
    totals: dict[str, int] = {}
    for stage, channel, n in ctx.portfolio.get("contact_names") or ():
        name = stage if what == "stage" else channel
        if name is not None and name not in known:
            totals[name] = totals.get(name, 0) + n
    for name, n in totals.items():
        out.append(ctx.at(("escalation", "stages"), rule,
                          f"{n} contact event{'s' if n != 1 else ''} in the store "
                          f"name{'s' if n == 1 else ''} "
                          f"{what} {name!r}, which the policy does not have: {hint}", name, key=True))
    return out
