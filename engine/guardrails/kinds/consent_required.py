"""`consent_required`: some channels only with the debtor's consent, from an optional start date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import KIND_CODES, epoch_day
from arrears.engine.domain.clock import FAR, NEVER
from arrears.engine.guardrails.kinds.base import Rule, channels_param, param


def _date(value) -> date:
    # YAML reads an unquoted date as a date, a quoted one as text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def consented(facts, kind: str) -> np.ndarray:
    """Accounts whose latest word on channel `kind` is a `consent_given` (a withdrawal at the
    same instant wins)."""
    on_kind = facts.b.ev_kind == KIND_CODES[kind]
    return (facts.last_at(facts._mask(E["consent_given"]) & on_kind)
            > facts.last_at(facts._mask(E["consent_withdrawn"]) & on_kind))


@dataclass(frozen=True)
class ConsentRequired(Rule):
    """The listed channels only with the debtor's consent, from `effective_from` (local date) on."""

    kind: ClassVar[str] = "consent_required"
    channels: tuple[str, ...] = channels_param()
    effective_from: date | None = param(None, {"type": "string", "format": "date"},  # noqa: RUF009
                                        "date the rule takes effect", parse=_date)

    def channels_out_of_reach(self) -> str:
        """A debtor who never consented is never reached on the listed channels."""
        return "allows it only with the debtor's written consent"

    def describe(self) -> str:
        """E.g. "email, sms only with the debtor's written consent"."""
        return f"{', '.join(self.channels)} only with the debtor's written consent"

    def earliest(self, facts, cand, mask, applies):
        """Never (FAR) on a listed channel without consent, once in force on the local date."""
        if self.effective_from is not None:
            applies = applies & (facts.today >= epoch_day(self.effective_from))
        out = np.full(facts.n, NEVER)
        for name in self.channels:
            sel = applies & (cand.kind == KIND_CODES[name])
            out[sel & ~consented(facts, name)] = FAR
        return out

    def starts(self, facts, cand, mask):
        """Before `effective_from`: a contact without consent may not go out from its local midnight."""
        if self.effective_from is None:
            return None
        start_day = epoch_day(self.effective_from)
        sel = mask & cand.usable & (facts.today < start_day)
        pick = np.zeros(facts.n, dtype=bool)
        for name in self.channels:
            pick |= sel & (cand.kind == KIND_CODES[name]) & ~consented(facts, name)
        at = np.full(facts.n, FAR)
        if pick.any():
            rows = np.flatnonzero(pick)
            at[rows] = facts.local.midnights(("day", start_day), np.full(facts.n, start_day), rows)
        return pick, at
