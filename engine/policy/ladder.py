"""The policy as a ladder: per segment, the day each stage falls due, and where stages collide.

One engine module computes it; `arrears ladder` only formats it, and the warnings
(`arrears.engine.policy.warnrules`) and the console read the same data. For each segment (and
for accounts in none, "everyone"), with that segment's grace (the largest of the default and the
segment's own, as `arrears.engine.decisions.escalation.grace_days` takes it):

- a post-due stage falls due on day max(days_past_due, grace + 1), or with `grace.shift_ladder`
  on day days_past_due + grace; a pre-due one on its own day;
- a stage with a variant for the segment is read in that form (its days, channels, attempts);
- a stage's channels, attempts and spacing; whether its `when` makes it depend on the account;
- stages falling due on the same day collide: the escalation takes the furthest due stage, so a
  stage that is not required and shares its day with a later stage that applies to the whole
  segment is never reached there (a later one with a `when` skips it only when it applies);
- a stage none of whose channels the house hours or a profile lets reach the segment's debtors;
- the offers and fees that apply to the segment (always, or depending on the account).

`view(policy, stage, segment)` is the one place a stage is read for a segment: its own form, or
the first of its variants that is for the segment (its `segments` name it and its `when`, if any,
holds for the whole segment).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from arrears.engine.policy import reach
from arrears.engine.policy.condscan import holds_for, pinned
from arrears.engine.policy.househours import DEBTOR_TYPES

EVERYONE = None     # the ladder of accounts in no segment


@dataclass(frozen=True)
class Rung:
    """One stage as a segment's accounts meet it."""

    stage: str
    index: int
    days_past_due: int          # as written
    day: int                    # the day past due it falls due after grace
    action: str
    channels: tuple[str, ...]
    required: bool
    max_attempts: int
    repeat_every_days: int | None
    min_days_since_previous: int
    conditional: bool           # its `when` depends on the account
    collides_with: tuple[str, ...] = ()
    unreachable: str = ""       # why it is never reached in this segment ("" if it can be)
    skipped_by: tuple[str, ...] = ()   # later stages of the same day that skip it when they apply
    no_channel: tuple[str, ...] = ()   # debtor types / places where none of its channels can be used


@dataclass(frozen=True)
class SegmentLadder:
    """The ladder of one segment (`segment` None: accounts in no segment)."""

    segment: str | None
    grace_days: int
    debtor_types: tuple[str, ...]
    rungs: tuple[Rung, ...]
    offers: tuple[dict, ...] = field(default=())
    fees: tuple[dict, ...] = field(default=())

    def to_dict(self) -> dict:
        """The JSON form (`arrears ladder --format json`, the console)."""
        out = asdict(self)
        out["segment"] = self.segment if self.segment is not None else "(none)"
        return out


def view(policy, stage, segment: str | None):
    """The stage as `segment`'s accounts have it (in the form of its first variant for them), or
    None if it is not for them (its `segments`)."""
    if stage.segments and segment not in stage.segments:
        return None
    doc_segments = policy.document.get("segments") or {}
    docs = policy.document["escalation"]["stages"][stage.index].get("variants") or ()
    for variant, doc in zip(stage.variants, docs):
        if variant.segments and segment not in variant.segments:
            continue
        if not variant.segments and "when" not in doc:
            continue
        if "when" in doc and holds_for(doc["when"], segment, doc_segments) is not True:
            continue
        channels = tuple(stage.channels[p] for p in variant.positions)
        return replace(stage, channels=channels, listed=len(channels), days_past_due=variant.days_past_due,
                       max_attempts=variant.max_attempts, repeat_every_days=variant.repeat_every_days,
                       min_days_since_previous=variant.min_days_since_previous)
    own = stage.channels[:stage.own or stage.listed]          # not the variants' channels
    return replace(stage, channels=own, listed=len(own))


def segment_grace(policy, segment: str | None) -> int:
    """The grace days of a segment's accounts: the larger of the default and the segment's own,
    or the default plus the segment's own when its grace adds up (`adds: true`)."""
    grace = policy.grace
    base = max(grace.default_days, dict(grace.segments).get(segment, 0)) if segment is not None \
        else grace.default_days
    return base + (dict(grace.added).get(segment, 0) if segment is not None else 0)


def due_day(policy, days_past_due: int, grace: int) -> int:
    """The day past due a stage written at `days_past_due` falls due after `grace` days (as
    `arrears.engine.decisions.escalation` times it): held back until grace is over, or moved
    later by it (`grace.shift_ladder`); a stage at 0 or before the due date never moves."""
    if days_past_due <= 0:
        return days_past_due
    return days_past_due + grace if policy.grace.shift_ladder else max(days_past_due, grace + 1)


def _debtor_types(policy, segment: str | None) -> tuple[str, ...]:
    doc_segments = policy.document.get("segments") or {}
    if segment is None:
        return DEBTOR_TYPES
    values = pinned((doc_segments.get(segment) or {}).get("when"), "debtor_type", doc_segments)
    return tuple(t for t in DEBTOR_TYPES if values is None or t in values)


def _no_channel(policy, stage, types, bars) -> tuple[str, ...]:
    kinds = [policy.channels[c] for c in stage.channels[:stage.listed]]
    out = []
    for dtype in types:
        for scope in reach.unreachable(policy, kinds, dtype, bars):
            out.append(f"{dtype} debtors ({scope[0].scope}): " + "; ".join(
                f"{', '.join(b.kinds)}: {b.why}" for b in scope))
    return tuple(out)


def segment_ladder(policy, segment: str | None, bars=None) -> SegmentLadder:
    """The ladder of one segment (None: accounts in no segment)."""
    doc = policy.document
    doc_segments = doc.get("segments") or {}
    stage_docs = doc["escalation"]["stages"]
    bars = reach.bars(policy) if bars is None else bars
    grace = segment_grace(policy, segment)
    types = _debtor_types(policy, segment)
    seen = [(s, view(policy, s, segment)) for s in policy.stages]
    stages = [v for _, v in seen if v is not None]
    day = {s.id: due_day(policy, s.days_past_due, grace) for s in stages}
    cond = {s.id: holds_for(stage_docs[s.index].get("when"), segment, doc_segments) for s in stages}
    rungs = []
    for s in stages:
        same = tuple(o.id for o in stages if o.id != s.id and day[o.id] == day[s.id] and s.days_past_due > 0)
        later = [o for o in stages if o.index > s.index and o.id in same and cond[o.id] is not False]
        why = ""
        if cond[s.id] is False:
            why = "its condition never holds for this segment"
        elif not s.required and any(cond[o.id] is True for o in later):
            first = next(o for o in later if cond[o.id] is True)
            why = f"{first.id!r} falls due the same day (day {day[s.id]}) and is taken instead"
        rungs.append(Rung(
            stage=s.id, index=s.index, days_past_due=s.days_past_due, day=day[s.id], action=s.action,
            channels=s.channels[:s.listed], required=s.required, max_attempts=s.max_attempts,
            repeat_every_days=s.repeat_every_days, min_days_since_previous=s.min_days_since_previous,
            conditional=cond[s.id] is None, collides_with=same, unreachable=why,
            skipped_by=() if s.required or cond[s.id] is False else tuple(o.id for o in later),
            no_channel=_no_channel(policy, s, types, bars)))
    return SegmentLadder(segment, grace, types, tuple(rungs), _offers(policy, segment),
                         _fees(policy, segment))


def _applies(spec, segment, doc_segments) -> str:
    found = holds_for(spec, segment, doc_segments)
    return {True: "always", False: "never", None: "depends on the account"}[found]


def _offers(policy, segment) -> tuple[dict, ...]:
    inc, segs = policy.document.get("incentives") or {}, policy.document.get("segments") or {}
    out = []
    early = inc.get("early_payment_discount")
    if early:
        out.append({"offer": "early_payment_discount", "percent": early["percent"],
                    "days_before_due": early.get("window_days", 10),
                    "days_after_due": early.get("days_after_due", 0),
                    "applies": _applies(early.get("when"), segment, segs)})
    settle = inc.get("settlement")
    if settle:
        out.append({"offer": "settlement", "discount_percent": settle["discount_percent"],
                    "from_day": settle.get("min_days_past_due", 0),
                    "approval_above": settle.get("approval_above"),
                    "applies": _applies(settle.get("when"), segment, segs)})
    loyalty = inc.get("loyalty")
    if loyalty:
        out.append({"offer": "loyalty", "segment": loyalty["segment"],
                    "waive_late_fee": bool(loyalty.get("waive_late_fee", False)),
                    "applies": _applies({"segment": loyalty["segment"]}, segment, segs)})
    return tuple(o for o in out if o["applies"] != "never")


def _fees(policy, segment) -> tuple[dict, ...]:
    fees, segs = policy.document.get("fees") or {}, policy.document.get("segments") or {}
    out = []
    late = fees.get("late_fee")
    if late:
        how = ({"fixed_by_amount": late["fixed_by_amount"]} if "fixed_by_amount" in late
               else {k: late[k] for k in ("flat", "percent") if k in late})
        out.append({"fee": "late_fee", **how, "applies": _applies(late.get("when"), segment, segs)})
    interest = fees.get("interest")
    if interest:
        rate = float(interest.get("reference_rate_percent", 0)) + float(interest.get("margin_percent", 0))
        out.append({"fee": "interest", "rate_percent": rate,
                    "applies": _applies(interest.get("when"), segment, segs)})
    return tuple(f for f in out if f["applies"] != "never")


def ladder(policy, segment: str | None = None, *, only: bool = False) -> list[SegmentLadder]:
    """The ladders of accounts in no segment and of every segment, in the policy's order;
    with `only`, just `segment`'s (KeyError if the policy has no such segment)."""
    bars = reach.bars(policy)
    if only:
        if segment is not None and segment not in policy.segments:
            raise KeyError(segment)
        return [segment_ladder(policy, segment, bars)]
    return [segment_ladder(policy, name, bars) for name in (EVERYONE, *policy.segments)]
