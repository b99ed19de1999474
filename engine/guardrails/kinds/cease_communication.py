"""`cease_communication`: which final notices the universal cease stop still lets through."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arrears.engine.domain.clock import FAR, NEVER
from arrears.engine.guardrails.kinds.base import Rule, channels_param, param

ACTIONS = {"$ref": "#/$defs/actions"}


@dataclass(frozen=True)
class CeaseCommunication(Rule):
    """After a request to stop communicating, only `allowed_actions` by the listed channels."""

    kind: ClassVar[str] = "cease_communication"
    state: ClassVar[str] = "cease_communication"
    scoped_by_channels: ClassVar[bool] = False     # `channels` are what it still allows
    exempts: ClassVar[str] = "stop.cease_communication"
    channels: tuple[str, ...] = channels_param()
    allowed_actions: tuple[str, ...] = param((), ACTIONS, "actions still permitted", required=True,
                                             parse=tuple)

    def describe(self) -> str:
        """E.g. "after a request to stop communicating, only legal_warning, write_off by letter"."""
        return (f"after a request to stop communicating, only {', '.join(self.allowed_actions)} "
                f"by {', '.join(self.channels)}")

    def _allows(self, stage_action: np.ndarray, kind: np.ndarray) -> np.ndarray:
        return np.isin(kind, self.channel_codes) & np.isin(stage_action, list(self.allowed_actions))

    def earliest(self, facts, cand, mask, applies):
        """Never (FAR), once the debtor asked us to stop, for anything it does not allow."""
        ceased = facts.states["cease_communication"][0]
        allows = np.isin(cand.kind, self.channel_codes) & cand.action_in(self.allowed_actions)
        return np.where(applies & ceased & ~allows, FAR, NEVER)

    def exempt(self, facts, stage_action, kind):
        """The final notices (action and channel) this rule allows despite the request."""
        return self._allows(stage_action, kind)
