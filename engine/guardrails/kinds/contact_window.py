"""`contact_window`: contact on some channels only between local hours, per day of the week."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from arrears.engine.guardrails.kinds.base import Rule, channels_param, param
from arrears.engine.guardrails.windows import CLOSED, week_of


_HHMM = re.compile(r"^([01][0-9]|2[0-4]):[0-5][0-9]$")


def minutes(text: str) -> int:
    """Minutes after midnight of a local "HH:MM" (24:00 is the end of the day)."""
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def _hhmm(mins: int) -> str:
    return f"{mins // 60:02d}:{mins % 60:02d}"


def read_window(window) -> tuple[int, int]:
    """A profile's or policy's day window as (start, end) minutes; "closed" is (0, 0)."""
    if window == "closed":
        return CLOSED
    return minutes(window["start"]), minutes(window["end"])


def check_window(window) -> str | None:
    """A window must open before it closes (the schema checks each time on its own; a time
    it refuses is left to it)."""
    if (isinstance(window, dict) and all(_HHMM.match(str(window.get(k, ""))) for k in ("start", "end"))
            and minutes(window["start"]) >= minutes(window["end"])):
        return f"start {window['start']} must be before end {window['end']}"
    return None


def words(window: tuple[int, int]) -> str:
    """(480, 1260) -> "08:00-21:00"; a closed day -> "closed"."""
    return "closed" if window[0] >= window[1] else f"{_hhmm(window[0])}-{_hhmm(window[1])}"


_DAY = {"$ref": "#/$defs/day"}


@dataclass(frozen=True)
class ContactWindow(Rule):
    """Contact on the listed channels only within local hours (every known time zone)."""

    kind: ClassVar[str] = "contact_window"
    channels: tuple[str, ...] = channels_param()
    weekdays: tuple[int, int] = param((0, 1440), _DAY, "Monday to Friday", required=True,
                                      parse=read_window, check=check_window)
    weekends: tuple[int, int] = param((0, 1440), _DAY, "Saturday and Sunday", required=True,
                                      parse=read_window, check=check_window)
    saturday: tuple[int, int] | None = param(None, _DAY, "Saturday, instead of `weekends`",
                                             parse=read_window, check=check_window)
    sunday: tuple[int, int] | None = param(None, _DAY, "Sunday, instead of `weekends`",
                                           parse=read_window, check=check_window)

    @cached_property
    def week(self) -> np.ndarray:
        """The (7, 2) table of (start, end) minutes, Monday first."""
        return week_of(self.weekdays, self.weekends, self.saturday, self.sunday)

    def channels_out_of_reach(self) -> str:
        """"closes it on every day of the week" when every day's window is closed."""
        closed = bool((self.week[:, 0] >= self.week[:, 1]).all())
        return "closes it on every day of the week" if closed else ""

    def describe(self) -> str:
        """E.g. "call only 08:00-21:00 on weekdays and 08:00-21:00 at weekends, ..."."""
        wd = words(self.weekdays)
        if self.saturday is None and self.sunday is None:
            days = f"{wd} on weekdays and {words(self.weekends)} at weekends"
        else:
            sat = words(self.weekends if self.saturday is None else self.saturday)
            sun = words(self.weekends if self.sunday is None else self.sunday)
            days = f"{wd} on weekdays, {sat} on Saturdays and {sun} on Sundays"
        return (f"{', '.join(self.channels)} only {days}, in the debtor's local time "
                "(every known zone)")

    def restrict(self, win, applies):
        """Intersect the window with this rule's hours for each day of the week."""
        win.restrict_week(applies, self.week)
