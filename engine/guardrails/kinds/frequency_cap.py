"""`frequency_cap`: at most `max` attempts (or contacts) on some channels in a rolling window."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arrears.engine.domain.batch import OUTCOME_CODES
from arrears.engine.domain.clock import DAY, FAR, NEVER
from arrears.engine.guardrails.kinds.base import Rule, channels_param, once, param

# Outcomes that reached the debtor ("actual contacts"): a refusal did, too.
_CONTACT_OUTCOMES = [OUTCOME_CODES[o] for o in ("sent", "delivered", "voicemail", "conversation",
                                                "refused")]


def nth_latest(group: np.ndarray, at: np.ndarray, m: int, ngroups: int,
               presorted: bool = False) -> np.ndarray:
    """Per group, the time of its m-th most recent event (NEVER if it has fewer than m).

    `presorted`: events already ordered by (group, time), as a batch's are by account.
    """
    out = np.full(ngroups, NEVER)
    if m <= 0 or group.size == 0:
        return out
    if presorted:
        g, a = group, at
    else:
        order = np.lexsort((at, group))
        g, a = group[order], at[order]
    counts = np.bincount(g, minlength=ngroups)
    ends = np.cumsum(counts)
    has = counts >= m
    out[has] = a[ends[has] - m]
    return out


@dataclass(frozen=True)
class FrequencyCap(Rule):
    """At most `max` attempts (or contacts) on the listed channels in any rolling `window_days`."""

    kind: ClassVar[str] = "frequency_cap"
    channels: tuple[str, ...] = channels_param()
    max: int = param(0, {"type": "integer", "minimum": 0}, "most contacts allowed in the window",
                     required=True)
    window_days: int = param(0, {"type": "integer", "minimum": 1}, "rolling window length in days",
                             required=True)
    counts: str = param("attempts", {"enum": ["attempts", "contacts"]},
                        "count attempts, or only contacts that reached the debtor", required=True)
    scope: str = param("account", {"enum": ["account", "debtor"]}, "per account or per debtor")

    def describe(self) -> str:
        """E.g. "at most 7 attempts by call in 7 days per account"."""
        what = "contacts that reached the debtor" if self.counts == "contacts" else "attempts"
        scope = "debtor" if self.scope == "debtor" else "account"
        return (f"at most {self.max} {what} by {', '.join(self.channels)} in {self.window_days} "
                f"days per {scope}")

    def earliest(self, facts, cand, mask, applies):
        """When the oldest counted contact of the latest `max` ages out of the window."""
        return np.where(applies, once(facts, self, "until", lambda: self._until(facts, mask)), NEVER)

    def _until(self, facts, rows: np.ndarray) -> np.ndarray:
        """Per account: the instant the cap allows one more contact (NEVER: already allowed).

        Only events of accounts in `rows` (where the rule applies) are counted.
        """
        b = facts.b
        mask = facts.attempt_mask & np.isin(b.ev_kind, self.channel_codes)
        if self.scope != "debtor":
            mask &= rows[b.ev_acct]
        if self.counts == "contacts":
            mask &= np.isin(b.ev_outcome, _CONTACT_OUTCOMES)
        if self.max == 0:
            return np.full(facts.n, FAR)
        if self.scope == "debtor":
            uniq, code = np.unique(b.debtor.astype(str), return_inverse=True)
            group, ngroups = code[b.ev_acct[mask]], len(uniq)
        else:
            code, group, ngroups = None, b.ev_acct[mask].astype(np.int64), facts.n
        tau = nth_latest(group, b.ev_at[mask], self.max, ngroups, presorted=code is None)
        tau = tau if code is None else tau[code]
        return np.where(tau == NEVER, NEVER, tau + self.window_days * DAY)


__all__ = ["FrequencyCap", "nth_latest"]
