"""`required_content`: what every message on some channels must carry (an opt-out, a disclosure)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arrears.engine.guardrails.kinds.base import Rule, channels_param, param
from arrears.engine.guardrails.ruletext import CONTENT_BITS

_WHAT = {"opt_out": "a simple way to opt out", "disclosure": "the required disclosure"}


@dataclass(frozen=True)
class RequiredContent(Rule):
    """Every message on the listed channels carries the `content` flag."""

    kind: ClassVar[str] = "required_content"
    channels: tuple[str, ...] = channels_param()
    content: str = param("", {"enum": list(_WHAT)}, "what the message must carry", required=True)

    def describe(self) -> str:
        """E.g. "every email, sms message carries a simple way to opt out"."""
        return f"every {', '.join(self.channels)} message carries {_WHAT[self.content]}"

    def content_bits(self, facts, kind):
        """The content flag, on the listed channels."""
        return np.where(np.isin(kind, self.channel_codes), CONTENT_BITS[self.content], 0)
