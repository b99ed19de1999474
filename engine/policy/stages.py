"""The escalation ladder's stages, their segment-specific variants, and the event messages (in
the shape of a stage), as compiled values: what `CompiledPolicy.stages` and `.messages` hold.

A stage's channels are, in order, its own, then those of its variants' channels that it does not
have already with the same template (`Stage.positions(v)` says which positions are whose), then
the representation's review task when the policy has one, so a channel position names one
channel and one template for every account, and the step's variant only says which positions
the account may use (`CompiledPolicy.listed_mask`).
"""
from __future__ import annotations

from dataclasses import dataclass

from arrears.engine.policy.conditions import Node
from arrears.engine.policy.templates import template_for


@dataclass(frozen=True)
class Variant:
    """A segment-specific form of a stage (`variants:` in the policy): for the accounts it
    matches, its own timing, attempts and channels, under the stage's id, so progress and
    attempts count under the one stage. The first variant that matches an account wins."""

    number: int                      # 1, 2, … in policy order (0 is the stage's own form)
    segments: tuple[str, ...]
    when: Node
    days_past_due: int
    max_attempts: int
    repeat_every_days: int | None
    min_days_since_previous: int
    positions: tuple[int, ...]       # its channels' positions in the stage's `channels`
    description: str = ""


@dataclass(frozen=True)
class Stage:
    """One escalation step."""

    index: int
    id: str
    days_past_due: int
    action: str
    channels: tuple[str, ...]
    templates: tuple[str, ...]      # the template of each channel, resolved once per kind
    tone: str
    required: bool
    max_attempts: int
    repeat_every_days: int | None
    min_days_since_previous: int
    segments: tuple[str, ...]
    when: Node
    description: str = ""
    representative_template: str | None = None   # for the representative (else the policy's)
    listed: int = 0            # how many of `channels` the policy lists; the rest is the review task
    # Segment-specific forms; their channels follow the stage's own in `channels` (before the
    # review task), so a channel position names one channel and one template for every account.
    variants: tuple[Variant, ...] = ()
    own: int = 0               # how many of `channels` are the stage's own (0: all it lists)
    # `account_manager`: an account that has one gets the step (on a call or task channel)
    # assigned to its manager; None: the general queue.
    assign_to: str | None = None

    @property
    def template(self) -> str:
        """The template of the stage's preferred (first) channel."""
        return self.templates[0]

    def positions(self, variant: int = 0) -> tuple[int, ...]:
        """The positions in `channels` of the channels listed for `variant` (0: the stage's own)."""
        if variant:
            return self.variants[variant - 1].positions
        return tuple(range(self.own or self.listed))

    def form(self, variant: int = 0):
        """The stage itself (0) or its variant number `variant`: what sets the timing and attempts."""
        return self.variants[variant - 1] if variant else self


@dataclass(frozen=True)
class Representation:
    """How represented debtors are handled: the representative's template, the review task."""

    template: str
    review_channel: str
    review_template: str


@dataclass(frozen=True)
class EventMessage:
    """A message triggered by an event (a payment, a promise, a plan) or by a date coming up
    (a plan instalment, a promised date): see `arrears.engine.decisions.messages`.

    `stage` is the message in the shape of a stage (index after the ladder's stages), so the
    channel choice, the guardrails and the decision treat it like any other step."""

    stage: Stage
    on: str
    days_before: int = 0
    within_days: int = 2


def compile_stage(i: int, s: dict, kinds: dict, representation, cond) -> Stage:
    """Stage `i` of the ladder from its document `s` (`kinds`: channel name -> kind; `cond`
    compiles a condition); its variants share its own channel positions where they can."""
    listed, templates, variants = list(s["channels"]), [template_for(s["template"], kinds[c])
                                                        for c in s["channels"]], []
    own = len(listed)
    for number, v in enumerate(s.get("variants") or (), start=1):
        spec = v.get("template", s["template"])
        positions = []
        for name in v.get("channels", s["channels"]):
            template = template_for(spec, kinds[name])
            at = _own_position(listed[:own], templates[:own], name, template, positions)
            if at is None:             # a channel (or template, or order) of its own: a new position
                at = len(listed)
                listed.append(name)
                templates.append(template)
            positions.append(at)
        variants.append(Variant(
            number=number, segments=tuple(v.get("segments") or ()), when=cond(v.get("when")),
            days_past_due=int(v.get("days_past_due", s["days_past_due"])),
            max_attempts=int(v.get("max_attempts", s.get("max_attempts", 1))),
            repeat_every_days=v.get("repeat_every_days", s.get("repeat_every_days")),
            min_days_since_previous=int(v.get("min_days_since_previous",
                                              s.get("min_days_since_previous", 0))),
            positions=tuple(positions), description=v.get("description", "")))
    return Stage(
        index=i, id=s["id"], days_past_due=int(s["days_past_due"]), action=s["action"],
        channels=_with_review(listed, representation), listed=len(listed),
        templates=tuple(templates) + _review_template(listed, representation),
        representative_template=s.get("representative_template"),
        tone=s.get("tone", "neutral"),
        required=bool(s.get("required", False)), max_attempts=int(s.get("max_attempts", 1)),
        repeat_every_days=s.get("repeat_every_days"),
        min_days_since_previous=int(s.get("min_days_since_previous", 0)),
        segments=tuple(s.get("segments") or ()), when=cond(s.get("when")),
        description=s.get("description", ""), variants=tuple(variants), assign_to=s.get("assign_to"),
        own=own)


def _own_position(channels: list, templates: list, name: str, template: str, taken: list) -> int | None:
    """The stage's own position a variant's channel can share (the same channel and template,
    after the variant's previous channels, so the variant's order of preference is kept), or None.
    Sharing keeps a stage's channel list, and the guardrails' work per channel position, as
    short as it can be: "no SMS for businesses" adds no position at all."""
    if name not in channels or (taken and taken[-1] >= len(channels)):
        return None
    at = channels.index(name)
    ok = templates[at] == template and (not taken or at > taken[-1])
    return at if ok else None


def _with_review(channels: list, representation: Representation | None) -> tuple[str, ...]:
    """A stage's channels, and after them the review channel a represented debtor's step falls
    back to (engine/guardrails/evaluate.py uses it only for them)."""
    if representation is None or representation.review_channel in channels:
        return tuple(channels)
    return (*channels, representation.review_channel)


def _review_template(channels: list, representation: Representation | None) -> tuple[str, ...]:
    """The template of the review channel `_with_review` appends (none when it appends none)."""
    if representation is None or representation.review_channel in channels:
        return ()
    return (representation.review_template,)


# The action type each trigger's message has (Action.type, the tick's decision key).
MESSAGE_ACTIONS = {"payment": "acknowledgement", "promise_to_pay": "acknowledgement",
                   "payment_plan": "confirmation", "instalment_due": "reminder", "promise_due": "reminder"}


def compile_messages(specs, first: int, cond) -> tuple[EventMessage, ...]:
    """The policy's event messages, each as a stage indexed after the ladder's `first` stages."""
    return tuple(EventMessage(
        stage=Stage(index=first + i, id=m["id"], days_past_due=0, action=MESSAGE_ACTIONS[m["trigger"]],
                    channels=tuple(m["channels"]), templates=tuple(m["template"] for _ in m["channels"]),
                    listed=len(m["channels"]), tone=m.get("tone", "friendly"),
                    required=False, max_attempts=1, repeat_every_days=None, min_days_since_previous=0,
                    segments=(), when=cond(m.get("when")), description=m.get("description", "")),
        on=m["trigger"], days_before=int(m.get("days_before", 0)), within_days=int(m.get("within_days", 2)),
    ) for i, m in enumerate(specs))
