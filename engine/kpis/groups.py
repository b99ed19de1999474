"""Which accounts (and which contacts) make up each group of a report.

- None: every account is in "all"; all contacts count.
- "segment": an account is in every policy segment it was in at the end of the period
  (segments overlap), "(none)" if in none.
- "bucket": its aging bucket at the start of the period (the end of the day before);
  "(none)" without a balance then.
- "channel": the channel kind of its last contact attempt up to the end of the period
  ("(none)" if never contacted); the contacts counted are the attempts made on that
  channel kind, whoever received them.
- "stage": the stage of its latest stored decision up to the end of the period
  ("(none)" without one).
- "strategy": the experiment strategy (`champion`, a challenger's name, `ineligible`) of its
  latest stored decision up to the end of the period that was made under an experiment
  ("(none)" if none was): the tick records it on each decision (`decisions.strategy`).
- a ledger label: its label value ("(none)" for None).

Except under "channel", a group counts the contact attempts made on its own accounts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.kinds import CHANNEL_KINDS, label
from arrears.engine.kpis.ledger import Ledger
from arrears.engine.kpis.measures import Period

GROUP_BY = ("segment", "bucket", "channel", "stage", "strategy")
NONE = "(none)"


def all_kinds() -> tuple[int, ...]:
    """The code of every channel kind registered (built-in, then plugins')."""
    return tuple(range(len(CHANNEL_KINDS)))


@dataclass(frozen=True)
class Group:
    """A named group: its accounts, and whose contacts on which channel kinds count for it."""

    name: str
    rows: np.ndarray          # bool (n): accounts whose figures count
    contact_rows: np.ndarray  # bool (n): accounts whose contact attempts count
    kinds: tuple              # channel kind codes whose attempts count


def check_group_by(group_by, ledger: Ledger) -> None:
    """InputError unless `group_by` is None, one of GROUP_BY or a label of the ledger."""
    allowed = (*GROUP_BY, *sorted(ledger.labels))
    if group_by is not None and group_by not in allowed:
        raise InputError(f"expected one of {', '.join(allowed)}; got {group_by!r}", "group_by")


def groups(ledger: Ledger, period: Period, policy, group_by: str | None) -> list[Group]:
    """The groups of `period` under `group_by` (see the module docstring)."""
    check_group_by(group_by, ledger)
    everyone = np.ones(ledger.n, dtype=bool)
    if group_by is None:
        return [Group("all", everyone, everyone, all_kinds())]
    if group_by == "channel":      # each kind under its reporting name (a plugin's `WhatsApp`)
        out = [Group(label(kind), period.last_kind == code, everyone, (code,))
               for code, kind in enumerate(CHANNEL_KINDS)]
        none = period.last_kind < 0
        return out + [Group(NONE, none, none, ())]
    if group_by == "segment":
        return _segments(ledger, period)
    if group_by == "bucket":
        labels = np.asarray(list(policy.bucket_names) + [NONE], dtype=object)[period.opening.bucket]
        order = [*policy.bucket_names, NONE]
    elif group_by == "stage":
        labels = stage_at(ledger, period.end)
        order = [s.id for s in policy.stages]
    elif group_by == "strategy":
        labels = strategy_at(ledger, period.end)
        order = ["champion"]
    else:
        labels = np.asarray([NONE if v is None else str(v) for v in ledger.labels[group_by]], dtype=object)
        order = []
    return _by_label(labels, order)


def ordered(names, order) -> list:
    """`names` in report order: those in `order` first (in its order), then the others sorted,
    "(none)" last."""
    present = set(names)
    out = [x for x in order if x in present and x != NONE]
    return out + sorted(present - set(out) - {NONE}) + ([NONE] if NONE in present else [])


def group_order(group_by: str | None, policy, names, segments=()) -> list:
    """The order a report lists the groups `names` of `group_by` in (as `groups` makes them);
    `segments`: the ledger's segment names."""
    preset = {None: ["all"], "channel": list(CHANNEL_KINDS), "bucket": list(policy.bucket_names),
              "stage": [s.id for s in policy.stages], "segment": list(segments), "strategy": ["champion"]}
    return ordered(names, preset.get(group_by, []))


def _by_label(labels: np.ndarray, order: list) -> list[Group]:
    """One group per distinct label: those in `order` first, then the others sorted, "(none)" last."""
    uniq, codes = np.unique(labels.astype(str), return_inverse=True) if len(labels) else ([], [])
    code_of = {name: i for i, name in enumerate(uniq.tolist() if len(labels) else [])}
    names = ordered(code_of, order)
    out = []
    for name in names:
        rows = codes.reshape(-1) == code_of[name]      # integer compare: cheap on large portfolios
        out.append(Group(name, rows, rows, all_kinds()))
    return out


def _segments(ledger: Ledger, period: Period) -> list[Group]:
    seg = ledger.segments
    member = seg.at(period.end)
    if member is None:
        raise InputError(f"the ledger has no segment membership at or before "
                         f"{day_to_date(period.end).isoformat()} (ledger_from_store(..., segment_days=[end]))",
                         "group_by")
    out = [Group(name, member[i], member[i], all_kinds()) for i, name in enumerate(seg.names)]
    none = ~member.any(axis=0) if len(seg.names) else np.ones(ledger.n, dtype=bool)
    return out + [Group(NONE, none, none, all_kinds())]


def stage_at(ledger: Ledger, day: int) -> np.ndarray:
    """Each account's stage in its latest decision up to `day` ("(none)" without one)."""
    st = ledger.stages
    out = np.full(ledger.n, NONE, dtype=object)
    rows = np.flatnonzero(st.day <= day)
    if rows.size:
        acct = st.acct[rows]
        last = np.r_[acct[1:] != acct[:-1], True]
        stages = st.stage[rows[last]]
        out[acct[last]] = np.where(np.equal(stages, None), NONE, stages)
    return out


def strategy_at(ledger: Ledger, day: int) -> np.ndarray:
    """Each account's experiment strategy in its latest decision up to `day` that recorded one
    ("(none)" without one)."""
    st = ledger.stages
    out = np.full(ledger.n, NONE, dtype=object)
    rows = np.flatnonzero((st.day <= day) & ~np.equal(st.strategy, None))
    if rows.size:
        acct = st.acct[rows]
        last = np.r_[acct[1:] != acct[:-1], True]
        out[acct[last]] = st.strategy[rows[last]]
    return out
