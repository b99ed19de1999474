"""What every compliance rule kind is made of: parameters, plain words and hooks.

A rule kind is a frozen dataclass that subclasses `Rule`. Its parameters are dataclass
fields declared with `param()`, which also says how a profile writes them (JSON Schema
fragment, meaning, required or not, how the YAML value is read). The profile schema's
kinds and keys are generated from these declarations (`arrears.engine.policy.profileschema`).

The evaluation calls a kind only through the hooks below, generically and column-wise (one
numpy call per rule per batch, never per account). A kind overrides the hooks it needs; the
base versions do nothing, and `hooks` names the ones a kind overrides so the evaluation can
skip the rest. Hooks that run per batch take `facts` and the rule's `mask` (the accounts the
rule's profile covers); per-batch columns a kind needs in several hooks are memoised in
`facts.cache` with `once()`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from arrears.engine.domain.batch import KIND_CODES


@dataclass(frozen=True)
class Param:
    """How a profile writes one rule parameter."""

    schema: dict                                  # JSON Schema of the YAML value
    doc: str = ""                                 # its meaning, for the schema's description
    required: bool = False
    parse: Callable[[Any], Any] | None = None     # YAML value -> field value
    check: Callable[[Any], str | None] | None = None   # a problem the schema cannot see


def param(default, schema: dict, doc: str = "", *, required: bool = False, parse=None, check=None):
    """A rule parameter: a dataclass field that also says how a profile writes it."""
    return field(default=default, metadata={"param": Param(schema, doc, required, parse, check)})


def channels_param(required: bool = True):
    """The `channels` key: channel kinds the rule covers (required by most kinds)."""
    return param((), {"$ref": "#/$defs/channels"}, required=required, parse=tuple)


def params(cls) -> dict[str, Param]:
    """A kind's parameters by key, in declaration order."""
    return {f.name: f.metadata["param"] for f in fields(cls) if "param" in f.metadata}


@dataclass
class Candidate:
    """One candidate channel of every account's step, as columns (see `evaluate.apply`)."""

    kind: np.ndarray           # channel kind code per account (-1: no candidate in this position)
    usable: np.ndarray         # the candidate exists, is reachable, not opted out, not failed
    stage_action: np.ndarray   # the step's stage action per account (object array; "" if none)
    step: np.ndarray | None = None   # the step (`policy.actions` index, -1: none) per account
    actions: tuple = ()              # the stage action of each step index, then "" (for -1)

    def action_in(self, names) -> np.ndarray:
        """Per account: its step's stage action is one of `names` (`np.isin(stage_action,
        names)`, answered by the step index: a few strings compared, not one per account)."""
        if self.step is None:
            return np.isin(self.stage_action, list(names))
        return np.array([a in names for a in self.actions], dtype=bool)[self.step]


HOOKS = ("earliest", "restrict", "narrow", "starts", "content_bits", "exempt", "lengthens", "freezes_fees",
         "bar", "report", "hold_note")


def once(facts, rule: Rule, name: str, compute: Callable[[], Any]):
    """A per-batch column of `rule`, computed on first use and kept in `facts.cache`."""
    key = ("rule", rule.id, name)
    if key not in facts.cache:
        facts.cache[key] = compute()
    return facts.cache[key]


@dataclass(frozen=True)
class Rule:
    """One guardrail rule of a jurisdiction profile. Subclasses are the rule kinds."""

    kind: ClassVar[str] = ""
    # The account state (`Facts.states` key) the rule is about: its trace line reads
    # "in force" while the state is.
    state: ClassVar[str | None] = None
    # False for kinds whose `channels` are not the channels they restrict (cease_communication:
    # the channels it still allows); such a rule covers every candidate channel.
    scoped_by_channels: ClassVar[bool] = True
    # The hold whose stop an `exempt` hook relaxes.
    exempts: ClassVar[str] = ""
    hooks: ClassVar[frozenset] = frozenset()

    id: str
    source: str
    profile: str
    note: str = ""
    channels: tuple[str, ...] = channels_param(required=False)
    # (built-in kind, plugin kinds that follow it in this rule's profile): the profile's
    # `channel_classes`, for the plugin kinds of the policy being loaded
    # (`arrears.engine.policy.channelclasses`); a rule naming a built-in kind covers them too.
    followers: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), repr=False)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.hooks = frozenset(h for h in HOOKS if getattr(cls, h) is not getattr(Rule, h))

    @classmethod
    def from_spec(cls, spec: dict, profile: str) -> Rule:
        """The rule a profile's (schema-valid) YAML mapping `spec` describes."""
        kw = {}
        for key, p in params(cls).items():
            if key in spec:
                kw[key] = p.parse(spec[key]) if p.parse else spec[key]
        return cls(id=spec["id"], source=spec["source"], profile=profile, note=spec.get("note", ""), **kw)

    @cached_property
    def channel_codes(self) -> list[int]:
        """KIND_CODES of `channels`."""
        return [KIND_CODES[k] for k in self.channels]

    def codes_of(self, kinds: tuple[str, ...]) -> list[int]:
        """KIND_CODES of the built-in `kinds` a kind's code names itself (texts, written
        messages), and of the plugin kinds that follow them in this rule's profile."""
        follow = dict(self.followers)
        return [KIND_CODES[k] for name in kinds for k in (name, *follow.get(name, ()))]

    # ---- wording ------------------------------------------------------------------------
    def describe(self) -> str:
        """What the rule forbids, in plain words (suppressions, the trace and the docs). Every
        kind words its own rule (tests/test_rule_kinds.py checks each one does)."""
        raise NotImplementedError

    def describe_for(self, facts, row: int) -> str:
        """What the rule forbids for account `row` (suppressions and the trace); by default
        `describe()`. A rule whose terms differ per account (the debtor's wishes) says them."""
        return self.describe()

    def report(self, facts, row: int) -> tuple[str, str] | None:
        """The trace line's (outcome, detail) for account `row`, or None for the generic
        wording of a rule that times contacts (clear, deferred, blocked, moved channel).

        Runs per account, only when a full decision is built. By default a rule with a
        `state` reads "in force" while that state is, else "clear".
        """
        if self.state is None:
            return None
        active = bool(facts.states[self.state][0][row])
        return ("in force" if active else "clear", f"{self.describe()} [{self.source}]")

    def channels_out_of_reach(self) -> str:
        """Why this rule may keep its `channels` from ever reaching a debtor it covers ("closes it
        on every day of the week"), read by the policy warnings and the ladder
        (`arrears.engine.policy.reach`); "" (the default) when it never does."""
        return ""

    # ---- before the step is chosen --------------------------------------------------------
    def lengthens(self) -> tuple[str, int] | None:
        """(state, days): a pause (`Facts.states` key) this rule makes last at least `days`.

        Pauses are only ever lengthened: the longest applicable length wins, and an
        open-ended pause stays open-ended.
        """
        return None

    def bar(self, facts, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(barred accounts, local day the bar began): stages whose action is in the rule's
        `blocked_actions` are removed for barred accounts before escalation (a time bar)."""
        return None

    # ---- per candidate channel --------------------------------------------------------------
    def earliest(self, facts, cand: Candidate, mask: np.ndarray, applies: np.ndarray) -> np.ndarray:
        """Earliest instant this rule allows the candidate channel, per account (NEVER: no
        restriction, FAR: not while things stay as they are). `applies`: accounts the rule
        covers whose candidate is usable and on one of the rule's channels."""
        raise NotImplementedError

    def restrict(self, win, applies: np.ndarray) -> None:
        """Narrow the candidate's contact windows (`guardrails.windows.Windows`) for the
        accounts in `applies`; windows and holidays of all rules are searched together."""
        raise NotImplementedError

    def narrow(self, facts, cand: Candidate, win, applies: np.ndarray) -> None:
        """Like `restrict`, for windows that differ per account (or per candidate channel kind):
        narrow `win` with per-row hours (`Windows.restrict` with arrays for the rows in
        `applies`) and weekdays (`Windows.allow_days`)."""
        raise NotImplementedError

    def starts(self, facts, cand: Candidate, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(accounts, instant) for a rule that starts to bite on a date: the candidate of those
        accounts may not go out at or after that instant, so a step deferred into it is blocked
        and the account decided again then. Judged at the candidate's send time, in profile
        order; `mask` holds only accounts whose candidate is not blocked already."""
        return None

    def content_bits(self, facts, kind: np.ndarray) -> np.ndarray:
        """`ruletext.CONTENT_BITS` a message on channel `kind` must carry, per account."""
        raise NotImplementedError

    def exempt(self, facts, stage_action: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """Accounts whose step (stage action, chosen channel kind) this rule lets through the
        hold named by `exempts`. A step goes through only if some rule of this kind applies
        and every one that applies lets it through."""
        raise NotImplementedError

    # ---- after the step is chosen -------------------------------------------------------------
    def freezes_fees(self, facts) -> np.ndarray | None:
        """Accounts whose late fees and interest this rule freezes (None: none)."""
        return None

    def hold_note(self, facts, mask: np.ndarray) -> tuple[str, np.ndarray, Callable[[int], str]] | None:
        """(hold id, accounts, words for one account): a note this rule adds to a hold's reason
        where that hold is in force. It never lifts the hold."""
        return None
