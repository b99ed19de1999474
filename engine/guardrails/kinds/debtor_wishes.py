"""`debtor_wishes`: the debtor's own recorded requests on when and how to be contacted.

A `contact_preference` event (engine/domain/requests.py) records them: the hours and
weekdays contact is welcome, the only channels to use, no call or text at work, a language.
They bind like any guardrail: ACCC/ASIC debt collection guideline part 2 s4.2 (a debtor's
reasonable request about the time, place and means of contact), 12 CFR 1006.6(b)(1) (a time
or place known to be inconvenient), FCA CONC 7.9. The engine applies one rule of this kind to
every account whatever its jurisdiction (`UNIVERSAL`); a profile may list it too.

Hours, weekdays and work hours narrow the candidate channel's contact window (searched together
with the profiles' windows and holidays, so the result satisfies all of them); a channel the
debtor did not ask for is not used while the wish holds (the step moves to another channel, or
waits for the wish's `until`). Wishes are about contacting the debtor: while a representative
speaks for the debtor they do not apply (engine/facts/requests.py). The language wish picks the
template language (`Facts.language`), not a time.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from arrears.engine.domain.batch import NO_DAY, day_to_date
from arrears.engine.domain.clock import FAR, NEVER
from arrears.engine.domain.kinds import KINDS, codes_where
from arrears.engine.domain.requests import WISH_CHANNELS
from arrears.engine.guardrails.kinds.base import Rule, once


def _at_work() -> list[int]:
    """What reaches a debtor at their workplace: the kinds that reach a phone (a call, an SMS,
    and a plugin's kind that needs a mobile, such as WhatsApp)."""
    return codes_where(lambda kind: kind.reach in ("phone", "mobile"))


@dataclass(frozen=True)
class DebtorWishes(Rule):
    """The debtor's own wishes (a `contact_preference` event) on when and how to be contacted."""

    kind: ClassVar[str] = "debtor_wishes"

    def describe(self) -> str:
        """The rule in plain words."""
        return "the debtor's own wishes on when and how to be contacted"

    def describe_for(self, facts, row: int) -> str:
        """The wishes of account `row`, with the day they were last valid if they end."""
        wish = facts.wishes["wish"][row]
        if wish is None:
            return self.describe()
        until = int(facts.wishes["until"][row])
        end = "" if until == NO_DAY else f" (until {_iso(until)})"
        return f"the debtor asked: {wish.describe()}{end}"

    def _active(self, facts) -> np.ndarray:
        return once(facts, self, "active",
                    lambda: facts.wishes["active"] & ~facts.representative["active"])

    def earliest(self, facts, cand, mask, applies) -> np.ndarray:
        """A channel kind the debtor did not ask for: not before the wish ends (FAR: open-ended)."""
        w = facts.wishes
        kind_bit = np.left_shift(1, np.maximum(cand.kind, 0))
        unwanted = applies & self._active(facts) & ((w["channels"] & kind_bit) == 0)
        out = np.full(facts.n, NEVER)
        if unwanted.any():
            ends = _wish_end(facts)
            out[unwanted] = ends[unwanted]
        return out

    def narrow(self, facts, cand, win, applies) -> None:
        """Welcome hours and weekdays for every channel; for calls and texts on a working day,
        not before the working day ends (its start would leave only the early morning)."""
        w = facts.wishes
        rows = applies & self._active(facts)
        if not rows.any():
            return
        timed = rows & ((w["start"] > 0) | (w["end"] < 1440))
        if timed.any():
            hours = (w["start"][timed], w["end"][timed])
            win.restrict(timed, hours, hours)
        days = rows & (w["days"] != 127)
        if days.any():
            win.allow_days(days, w["days"][days])
        work = rows & w["at_work"] & np.isin(cand.kind, _at_work())
        if work.any():
            win.restrict(work, (w["work_end"][work], np.full(int(work.sum()), 1440)), (0, 1440))


def _wish_end(facts) -> np.ndarray:
    """Start of the local day after the wish's `until` (FAR where it has none)."""
    until = facts.wishes["until"]
    out = np.full(facts.n, FAR)
    has = until != NO_DAY
    if has.any():
        out[has] = facts.midnight(until[has] + 1, np.flatnonzero(has))
    return out


def _iso(day: int) -> str:
    return day_to_date(day).isoformat()


# The rule every account gets, whatever its jurisdiction (engine/guardrails/evaluate.py).
UNIVERSAL = DebtorWishes(
    id="debtor.wishes", profile="", channels=WISH_CHANNELS,
    source="ACCC/ASIC debt collection guideline part 2 s4.2; 12 CFR 1006.6(b)(1); FCA CONC 7.9")


def universal() -> DebtorWishes:
    """`UNIVERSAL`, also covering the debtor-facing channel kinds plugins registered: a debtor
    who asked for letters only gets no WhatsApp either, and none at work."""
    extra = tuple(name for name, kind in KINDS.items() if kind.debtor_facing and name not in WISH_CHANNELS)
    return replace(UNIVERSAL, channels=(*WISH_CHANNELS, *extra)) if extra else UNIVERSAL
