"""`contact_window`: contact on some channels only between local hours, weekdays and weekends apart."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arrears.engine.guardrails.kinds.base import Rule, channels_param, param


def minutes(text: str) -> int:
    """Minutes after midnight of a local "HH:MM" (24:00 is the end of the day)."""
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def _hhmm(mins: int) -> str:
    return f"{mins // 60:02d}:{mins % 60:02d}"


def _read(window: dict) -> tuple[int, int]:
    return minutes(window["start"]), minutes(window["end"])


def _check(window) -> str | None:
    """A window must open before it closes (the schema checks each time on its own)."""
    if (isinstance(window, dict) and {"start", "end"} <= set(window)
            and minutes(window["start"]) >= minutes(window["end"])):
        return f"start {window['start']} must be before end {window['end']}"
    return None


_WINDOW = {"$ref": "#/$defs/window"}


@dataclass(frozen=True)
class ContactWindow(Rule):
    """Contact on the listed channels only within local hours (every known time zone)."""

    kind: ClassVar[str] = "contact_window"
    channels: tuple[str, ...] = channels_param()
    weekdays: tuple[int, int] = param((0, 1440), _WINDOW, "Monday to Friday", required=True,
                                      parse=_read, check=_check)
    weekends: tuple[int, int] = param((0, 1440), _WINDOW, "Saturday and Sunday", required=True,
                                      parse=_read, check=_check)

    def describe(self) -> str:
        """E.g. "call only 08:00-21:00 on weekdays and 08:00-21:00 at weekends, ..."."""
        wd, we = self.weekdays, self.weekends
        return (f"{', '.join(self.channels)} only {_hhmm(wd[0])}-{_hhmm(wd[1])} on weekdays and "
                f"{_hhmm(we[0])}-{_hhmm(we[1])} at weekends, in the debtor's local time (every known zone)")

    def restrict(self, win, applies):
        """Intersect the window with this rule's weekday and weekend hours."""
        win.restrict(applies, self.weekdays, self.weekends)
