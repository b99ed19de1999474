"""Compile a validated policy document into an immutable `CompiledPolicy`.

Compilation happens once per policy: conditions become `Node` trees, thresholds
become numbers and arrays, names become indexes. `decide` then never parses.
The digest is the SHA-256 of the canonical JSON of the document, so comments and
formatting do not change it but any change of meaning does. It never depends on which
plugins are loaded: the same text is the same policy version wherever it is stored.
The plugin facts a policy uses are kept beside it (`plugin_facts`), with their plugin.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat

import numpy as np

from arrears.engine.domain.model import RETRY_AFTER_HOURS
from arrears.engine.domain.money import parse_amount
from arrears.engine.facts import pluginfacts
from arrears.engine.facts.catalogue import FactDef
from arrears.engine.policy.conditions import TRUE, Node, compile_condition
from arrears.engine.policy.digest import digest_of, profiles_digest
from arrears.engine.policy.househours import HouseRule, compile_house_hours
from arrears.engine.policy.stages import (
    EventMessage,
    Representation,
    Stage,
    Variant,
    compile_messages,
    compile_stage,
)

__all__ = ["CompiledPolicy", "EventMessage", "Representation", "Stage", "Variant", "compile_policy"]

PRIORITY_FACTORS = ("balance", "days_past_due", "recovery_likelihood", "risk", "legal_exposure",
                    "relationship_value")


@dataclass(frozen=True)
class Factor:
    """A priority factor: weight and normalisation settings."""

    name: str
    weight: float
    scale: str = "linear"
    cap: float | Decimal | None = None
    limitation_days: int = 2190
    tiers: dict = field(default_factory=dict)
    unknown: float = 0.5          # risk: the value of an unknown risk score


@dataclass(frozen=True)
class Pauses:
    dispute_scope: str = "invoice"
    promise_tolerance_days: int = 0
    promise_max_days: int = 60
    promise_resume_stage: str | None = None
    plan_tolerance_days: int = 0
    plan_resume_stage: str | None = None
    hold_max_days: int | None = None


@dataclass(frozen=True)
class Grace:
    """Grace days after the due date (engine/decisions/escalation.py `grace_days`)."""

    default_days: int = 0
    segments: tuple[tuple[str, int], ...] = ()   # the largest that applies wins (with default_days)
    hardship_days: int | None = None
    added: tuple[tuple[str, int], ...] = ()      # segments whose days add up on top (`adds: true`)
    shift_ladder: bool = False                   # every post-due stage moves later by the grace days


@dataclass(frozen=True)
class Incentives:
    max_discount_percent: Decimal = Decimal(100)
    early: dict | None = None          # percent, window_days, when
    settlement: dict | None = None     # discount_percent, floor_percent, floor, min_dpd, …
    plan_freeze: bool = False
    loyalty: dict | None = None        # segment, tone, waive_late_fee


@dataclass(frozen=True)
class Fees:
    late_fee: dict | None = None       # when, tiers [(below|None, amount)] | flat | percent
    interest: dict | None = None       # when, rate_percent, basis_days


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy ready for evaluation. Immutable; identified by `digest`."""

    name: str
    version: str
    digest: str
    source: str
    metadata: dict
    default_timezone: str
    default_language: str
    bucket_names: tuple[str, ...]
    bucket_starts: np.ndarray
    segments: dict[str, Node]
    factors: tuple[Factor, ...]
    channels: dict[str, str]                       # channel name -> kind
    templates: dict[str, tuple[str, ...]]
    stages: tuple[Stage, ...]
    grace: Grace
    pauses: Pauses
    incentives: Incentives
    fees: Fees
    compliance: dict
    max_interval_days: int
    document: dict = field(repr=False, compare=False)
    # channel name -> seconds after a failed attempt before the channel is tried again
    channel_retry: dict = field(default_factory=dict, repr=False, compare=False)
    messages: tuple[EventMessage, ...] = ()

    @property
    def actions(self) -> tuple[Stage, ...]:
        """Everything a step can be: the ladder's stages, then the event messages (as stages)."""
        return self.stages + tuple(m.stage for m in self.messages)
    profiles: dict = field(default_factory=dict, repr=False, compare=False)
    profiles_digest: str = ""
    # The plugin facts the conditions use (name -> FactDef, with its plugin); not in the digest.
    plugin_facts: dict[str, FactDef] = field(default_factory=dict, repr=False, compare=False)
    # The house contact hours (`compliance.contact_hours`) as guardrail rules; in the digest
    # through the document.
    house: tuple[HouseRule, ...] = field(default=(), repr=False, compare=False)
    # None: a represented debtor is not contacted at all (stop.represented).
    representation: Representation | None = None
    # The company's own profiles directory it was compiled with (`load_policy(company_profiles=)`),
    # None: the shipped profiles only. Policies compiled beside it (an experiment's challengers)
    # are compiled with the same, so every strategy keeps the same guardrails.
    company_profiles: str | None = field(default=None, repr=False, compare=False)
    # Rules every account gets from the channel kinds the policy uses (a plugin kind that needs
    # the debtor's consent: `policy.channelclasses.consent_rules`); not in the digest.
    channel_rules: tuple = field(default=(), repr=False, compare=False)
    # `stage_renames`: an old stage id -> the id of the stage it is now; the history's contacts
    # under the old id count for the new stage (`stage_codes`), so progress carries over.
    stage_renames: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # Where each part of the document is written: path tuple -> (line, col), the key's position
    # for a mapping entry. Empty when compiled from a bare dict; not in the digest.
    positions: dict = field(default_factory=dict, repr=False, compare=False)

    def where(self, *path) -> str:
        """`source:line:col` of the policy part at `path` (e.g. `("segments", "vip")`), or "" when
        the policy was not compiled from a located document or has no such part."""
        at = self.positions.get(tuple(path))
        return "" if at is None else f"{self.source}:{at[0]}:{at[1]}"

    @property
    def first_threshold(self) -> int:
        """The earliest stage threshold in days past due (may be negative)."""
        return min((s.days_past_due for s in self.stages), default=0)

    def stage_index(self, stage_id: str | None) -> int:
        """Index of a stage by id, -1 if unknown or None."""
        return self._stage_ids.get(stage_id, -1)

    def stage_codes(self, ids: np.ndarray) -> np.ndarray:
        """Stage indexes for an object array of stage ids (-1 for unknown or None).

        One dictionary look-up per id in C (`map`), not a sort of the ids as strings: the
        history holds many attempts, and this is decide_batch's largest single column.
        """
        if len(ids) == 0:
            return np.empty(0, dtype=np.int64)
        return np.fromiter(map(self._stage_ids.get, ids, repeat(-1)), dtype=np.int64, count=len(ids))

    @property
    def _stage_ids(self) -> dict:
        ids = {s.id: s.index for s in self.stages}
        return {**{old: ids[new] for old, new in self.stage_renames.items() if new in ids}, **ids}

    @property
    def assigning_stages(self) -> tuple[str, ...]:
        """Ids of the stages whose steps go to the account manager when the account has one."""
        return tuple(s.id for s in self.stages if s.assign_to == "account_manager")

    @property
    def has_variants(self) -> bool:
        """Some stage has segment-specific variants."""
        return any(s.variants for s in self.stages)

    def listed_mask(self, step: np.ndarray, variant: np.ndarray | None, review: bool = False) -> np.ndarray:
        """Per account, a bitmask of the channel positions the policy lists for its step (the
        `actions` index; -1: none) in its stage variant (0: the stage's own channels); with
        `review`, the representation's review task appended after them as well."""
        table = self.__dict__.get("_listed_table")
        if table is None:         # built once per policy: a few stages by a few variants
            widest = 1 + max((len(s.variants) for s in self.stages), default=0)
            table = np.zeros((2, len(self.actions) + 1, widest), dtype=np.int64)
            for a in self.actions:
                appended = sum(1 << pos for pos in range(a.listed, len(a.channels)))
                for v in range(widest):
                    form = v if v <= len(a.variants) else 0
                    table[0, a.index, v] = sum(1 << pos for pos in a.positions(form))
                    table[1, a.index, v] = table[0, a.index, v] | appended
            self.__dict__["_listed_table"] = table
        v = 0 if variant is None else variant
        return table[int(review), step, v]


def _money(value):
    return None if value is None else parse_amount(value, "policy")


def compile_policy(doc: dict, source: str = "<policy>", profiles: dict | None = None,
                   facts=None, positions: dict | None = None, channel_rules: tuple = (),
                   company_profiles: str | None = None) -> CompiledPolicy:
    """Compile a schema- and semantics-valid policy document with its guardrail profiles.

    `positions`: where each part is written (path -> (line, col), as a loaded `Document` holds
    them), for the trace's `source` of each step.

    `facts`: the loaded plugins' facts (a mapping by name, or an iterable; see
    `arrears.engine.facts.pluginfacts.catalogue`) that its conditions may use.
    """
    profiles = profiles or {}
    sources = pluginfacts.catalogue(facts)

    def _cond(spec) -> Node:      # conditions may use the plugin facts
        return TRUE if spec is None else compile_condition(spec, sources)

    meta = doc["metadata"]
    buckets = doc["aging"]["buckets"]
    starts = np.array([b.get("min_days", -(2 ** 62)) for b in buckets], dtype=np.int64)
    segments = {name: _cond(spec.get("when")) for name, spec in (doc.get("segments") or {}).items()}
    factors = []
    for name in PRIORITY_FACTORS:
        spec = (doc.get("priority") or {}).get("factors", {}).get(name)
        if spec is None:
            continue
        cap = spec.get("cap")
        factors.append(Factor(
            name=name, weight=float(spec["weight"]), scale=spec.get("scale", "linear"),
            cap=_money(cap) if name == "balance" and cap is not None else cap,
            limitation_days=int(spec.get("limitation_days", 2190)),
            tiers={k: float(v) for k, v in (spec.get("tiers") or {}).items()},
            unknown=float(spec.get("unknown", 0.5))))
    rep = doc.get("representation")
    representation = None if rep is None else Representation(rep["template"], rep["review_channel"],
                                                              rep["review_template"])
    kinds = {name: spec["kind"] for name, spec in doc["channels"].items()}
    stages = tuple(compile_stage(i, s, kinds, representation, _cond)
                   for i, s in enumerate(doc["escalation"]["stages"]))
    grace = doc.get("grace") or {}
    pauses = doc.get("pauses") or {}
    promise, plan = pauses.get("promise_to_pay") or {}, pauses.get("payment_plan") or {}
    inc = doc.get("incentives") or {}
    fees = doc.get("fees") or {}
    return CompiledPolicy(
        name=meta["name"], version=str(meta["version"]), digest=digest_of(doc), source=source,
        metadata=meta,
        default_timezone=meta.get("default_timezone", "UTC"),
        default_language=meta.get("default_language", "en"),
        bucket_names=tuple(b["name"] for b in buckets), bucket_starts=starts,
        segments=segments, factors=tuple(factors),
        channels=kinds,
        templates={name: tuple(spec.get("languages") or ()) for name, spec in doc["templates"].items()},
        stages=stages,
        grace=_compile_grace(grace),
        pauses=Pauses(
            dispute_scope=(pauses.get("dispute") or {}).get("scope", "invoice"),
            promise_tolerance_days=int(promise.get("tolerance_days", 0)),
            promise_max_days=int(promise.get("max_days", 60)),
            promise_resume_stage=promise.get("broken_resume_stage"),
            plan_tolerance_days=int(plan.get("missed_instalment_tolerance_days", 0)),
            plan_resume_stage=plan.get("resume_stage"),
            hold_max_days=(pauses.get("manual_hold") or {}).get("max_days")),
        incentives=_compile_incentives(inc, _cond),
        fees=_compile_fees(fees, _cond),
        compliance=dict(doc.get("compliance") or {}),
        max_interval_days=int((doc.get("evaluation") or {}).get("max_interval_days", 7)),
        document=doc,
        messages=compile_messages(doc.get("event_messages") or (), len(stages), _cond),
        channel_retry={name: 3600 * int(spec.get("retry_after_hours", RETRY_AFTER_HOURS[spec["kind"]]))
                       for name, spec in doc["channels"].items()},
        profiles=dict(profiles),
        company_profiles=company_profiles,
        profiles_digest=profiles_digest(profiles.values()),
        plugin_facts={name: sources[name].definition for name in pluginfacts.referenced(doc)
                      if name in sources},
        house=compile_house_hours(doc.get("compliance") or {}, meta["name"]),
        representation=representation,
        channel_rules=tuple(channel_rules),
        stage_renames=dict(doc.get("stage_renames") or {}),
        positions=dict(positions or {}),
    )


def _compile_grace(grace: dict) -> Grace:
    """Grace: a segment's days are a number (the largest that applies wins) or
    `{days, adds: true}` (added on top of whatever else applies)."""
    plain, added = [], []
    for name, spec in (grace.get("segments") or {}).items():
        days, adds = ((spec.get("days", 0), spec.get("adds", False)) if isinstance(spec, dict)
                      else (spec, False))
        (added if adds else plain).append((name, int(days)))
    return Grace(default_days=int(grace.get("default_days", 0)), segments=tuple(plain),
                 hardship_days=grace.get("hardship_extension_days"), added=tuple(added),
                 shift_ladder=bool(grace.get("shift_ladder", False)))


def _compile_incentives(inc: dict, cond) -> Incentives:
    early = inc.get("early_payment_discount")
    settle = inc.get("settlement")
    loyalty = inc.get("loyalty")
    return Incentives(
        max_discount_percent=Decimal(str(inc.get("max_discount_percent", 100))),
        early=None if early is None else {
            "percent": Decimal(str(early["percent"])),
            "window_days": int(early.get("window_days", 10)),
            "days_after_due": int(early.get("days_after_due", 0)),
            "when": cond(early.get("when"))},
        settlement=None if settle is None else {
            "discount_percent": Decimal(str(settle["discount_percent"])),
            "floor_percent": Decimal(str(settle.get("floor_percent", 0))),
            "floor": _money(settle.get("floor")) or Decimal(0),
            "min_days_past_due": int(settle.get("min_days_past_due", 0)),
            "approval": _compile_approval(settle),
            "valid_days": int(settle.get("valid_days", 14)),
            "when": cond(settle.get("when"))},
        plan_freeze=bool((inc.get("plan_interest_freeze") or {}).get("enabled", False)),
        loyalty=None if loyalty is None else {
            "segment": loyalty["segment"], "tone": loyalty.get("tone"),
            "waive_late_fee": bool(loyalty.get("waive_late_fee", False))},
    )


APPROVAL_FIGURES = ("balance", "amount", "discount")   # the figures a settlement approval may look at


def _compile_approval(settle: dict) -> tuple:
    """((figure, {currency: threshold}, threshold for other currencies or None), …) of a settlement's
    approval rules, in APPROVAL_FIGURES order; `approval_above` is the discount's, for every currency."""
    spec = dict(settle.get("approval") or {})
    if settle.get("approval_above") is not None:
        spec.setdefault("discount_above", settle["approval_above"])
    out = []
    for figure in APPROVAL_FIGURES:
        limit = spec.get(f"{figure}_above")
        if limit is None:
            continue
        if isinstance(limit, dict):
            per = {cur: _money(v) for cur, v in limit.items() if cur != "other"}
            out.append((figure, per, _money(limit.get("other"))))
        else:
            out.append((figure, {}, _money(limit)))
    return tuple(out)


def _compile_fees(fees: dict, cond) -> Fees:
    late, interest = fees.get("late_fee"), fees.get("interest")
    late_c = None
    if late is not None:
        late_c = {"when": cond(late.get("when")),
                  "tiers": tuple((_money(t.get("below")), _money(t["amount"]))
                                 for t in late.get("fixed_by_amount") or ()),
                  "flat": _money(late.get("flat")),
                  "percent": None if late.get("percent") is None else Decimal(str(late["percent"]))}
    interest_c = None
    if interest is not None:
        rate = Decimal(str(interest.get("reference_rate_percent", 0))) + \
            Decimal(str(interest.get("margin_percent", 0)))
        interest_c = {"when": cond(interest.get("when")), "rate_percent": rate,
                      "basis_days": int(interest.get("basis_days", 365))}
    return Fees(late_fee=late_c, interest=interest_c)
