"""`public_holidays`: no contact on some channels on the debtor's public holidays."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.guardrails.kinds.base import Rule, channels_param, param


@dataclass(frozen=True)
class PublicHolidays(Rule):
    """No contact on the listed channels on a public holiday, national or also the state's own."""

    kind: ClassVar[str] = "public_holidays"
    channels: tuple[str, ...] = channels_param()
    scope: str = param("subdivision", {"enum": ["national", "subdivision"]},
                       "national or including the state's own")

    def describe(self) -> str:
        """E.g. "no call, sms on public holidays where the debtor lives"."""
        return f"no {', '.join(self.channels)} on public holidays where the debtor lives"

    def restrict(self, win, applies):
        """Close the holidays' whole local days (national ones only with `scope: national`)."""
        win.close_holidays(applies, national=self.scope == "national")
