"""What a debtor's history may say about whom to contact and how: the representative
named on a `represented` event, and the debtor's own wishes on a `contact_preference` event.

Both are parsed (and refused with an `InputError` naming the field) when an event arrives
through the API, an import or the CLI, and stored as canonical JSON on the event
(`Event.detail_json`); the decision core reads that JSON back with `representative_of` and
`wishes_of`, trusting it because it was checked on the way in.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from arrears.engine.domain.errors import InputError, json_type
from arrears.engine.domain.kinds import BUILTIN_DEBTOR_FACING, DEBTOR_FACING_KINDS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = (1 << 7) - 1
# The built-in debtor-facing channel kinds a wish can name (webhooks and tasks never reach the
# debtor); `wish_channels()` adds the debtor-facing kinds plugins registered.
WISH_CHANNELS = BUILTIN_DEBTOR_FACING          # ("email", "sms", "letter", "call")
# When the debtor asks not to be contacted at work but gives no working hours: the ACCC/ASIC
# guideline's default working day (part 2 s4), Monday to Friday.
DEFAULT_WORKING_HOURS = (9 * 60, 17 * 60)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_LANG = re.compile(r"^[a-z]{2}$")
MAX_TEXT = 500


def wish_channels() -> tuple[str, ...]:
    """The channel kinds a wish can name: every registered kind that reaches the debtor, the
    built-in ones (`WISH_CHANNELS`) first, then those plugins added (WhatsApp, push, …)."""
    return tuple(DEBTOR_FACING_KINDS)


def _keys(data, allowed, where):
    if not isinstance(data, dict):
        raise InputError(f"expected an object, got {json_type(data)}", where)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}", where)


def _text(value, where, required=False):
    if value is None:
        if required:
            raise InputError("is required (missing or null)", where)
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"expected a non-empty string, got {value!r}", where)
    if len(value) > MAX_TEXT:
        raise InputError(f"must be at most {MAX_TEXT} characters, got {len(value)}", where)
    return value.strip()


@dataclass(frozen=True, slots=True)
class Representative:
    """Who represents the debtor (attorney, solicitor, financial counsellor) and how to reach them."""

    name: str
    firm: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None

    @classmethod
    def from_dict(cls, data, where="representative") -> "Representative":
        """Parse a representative object; the contact details must look like what they claim."""
        _keys(data, ("name", "firm", "email", "phone", "address"), where)
        email = _text(data.get("email"), f"{where}.email")
        if email is not None and not _EMAIL.match(email):
            raise InputError(f"expected an email address such as name@example.com, got {email!r}",
                             f"{where}.email")
        phone = _text(data.get("phone"), f"{where}.phone")
        if phone is not None and (not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 6):
            raise InputError(f"expected a phone number (digits, optional +, spaces, brackets, "
                             f"dots or dashes; at least 6 digits), got {phone!r}", f"{where}.phone")
        return cls(name=_text(data.get("name"), f"{where}.name", required=True),
                   firm=_text(data.get("firm"), f"{where}.firm"), email=email, phone=phone,
                   address=_text(data.get("address"), f"{where}.address"))

    def to_dict(self) -> dict:
        """JSON form, absent fields left out."""
        return {k: v for k, v in (("name", self.name), ("firm", self.firm), ("email", self.email),
                                  ("phone", self.phone), ("address", self.address)) if v is not None}

    def reachable_kinds(self) -> frozenset[str]:
        """Channel kinds that can reach the representative: email, a call, a letter.

        No SMS: a text message is not how one writes to a solicitor's office.
        """
        kinds = set()
        if self.email:
            kinds.add("email")
        if self.phone:
            kinds.add("call")
        if self.address:
            kinds.add("letter")
        return frozenset(kinds)


def _hours(data, where) -> tuple[int, int]:
    _keys(data, ("start", "end"), where)
    out = []
    for key in ("start", "end"):
        value = data.get(key)
        m = _TIME.match(value) if isinstance(value, str) else None
        if m is None:
            raise InputError(f"expected a local time HH:MM, got {value!r}", f"{where}.{key}")
        out.append(int(m.group(1)) * 60 + int(m.group(2)))
    if out[0] >= out[1]:
        raise InputError("start must be before end (a window within one day)", where)
    return out[0], out[1]


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Wishes:
    """The debtor's own requests on when and how to be contacted (all optional).

    `hours`: the local hours contact is welcome (start, end in minutes after midnight);
    `days`: the weekdays it is welcome (bit 0 Monday … bit 6 Sunday); `channels`: the only
    debtor-facing channel kinds to use; `no_contact_at_work` with `working_hours`: no call or
    text on a working day (Monday to Friday) before the working day ends; `language`: the
    language to write in (ISO 639-1).
    """

    hours: tuple[int, int] | None = None
    days: int = ALL_DAYS
    channels: tuple[str, ...] = ()
    no_contact_at_work: bool = False
    working_hours: tuple[int, int] | None = None
    language: str | None = None

    @classmethod
    def from_dict(cls, data, where="wishes") -> "Wishes":
        """Parse a wishes object (`{}` withdraws every earlier wish)."""
        _keys(data, ("hours", "days", "channels", "no_contact_at_work", "working_hours", "language"),
              where)
        hours = data.get("hours")
        hours = None if hours is None else _hours(hours, f"{where}.hours")
        days = ALL_DAYS
        if data.get("days") is not None:
            listed = data["days"]
            if not isinstance(listed, list) or not listed:
                raise InputError(f"expected a non-empty list of {', '.join(WEEKDAYS)}", f"{where}.days")
            days = 0
            for i, day in enumerate(listed):
                if day not in WEEKDAYS:
                    raise InputError(f"expected one of {', '.join(WEEKDAYS)}; got {day!r}",
                                     f"{where}.days[{i}]")
                days |= 1 << WEEKDAYS.index(day)
        channels = data.get("channels")
        if channels is not None:
            known = wish_channels()
            if not isinstance(channels, list) or not channels:
                raise InputError(f"expected a non-empty list of {', '.join(known)}", f"{where}.channels")
            for i, kind in enumerate(channels):
                if kind not in known:
                    raise InputError(f"expected one of {', '.join(known)}; got {kind!r}",
                                     f"{where}.channels[{i}]")
        at_work = data.get("no_contact_at_work", False)
        if not isinstance(at_work, bool):
            raise InputError(f"expected true or false, got {at_work!r}", f"{where}.no_contact_at_work")
        working = data.get("working_hours")
        if working is not None:
            if not at_work:
                raise InputError("only with no_contact_at_work: true", f"{where}.working_hours")
            working = _hours(working, f"{where}.working_hours")
        language = data.get("language")
        if language is not None and (not isinstance(language, str) or not _LANG.match(language)):
            raise InputError(f"expected an ISO 639-1 code such as fr, got {language!r}", f"{where}.language")
        return cls(hours=hours, days=days, channels=tuple(dict.fromkeys(channels or ())),
                   no_contact_at_work=at_work,
                   working_hours=(working or DEFAULT_WORKING_HOURS) if at_work else None,
                   language=language)

    def to_dict(self) -> dict:
        """JSON form (the shape `from_dict` reads), defaults left out."""
        out: dict = {}
        if self.hours is not None:
            out["hours"] = {"start": _fmt(self.hours[0]), "end": _fmt(self.hours[1])}
        if self.days != ALL_DAYS:
            out["days"] = [d for i, d in enumerate(WEEKDAYS) if self.days >> i & 1]
        if self.channels:
            out["channels"] = list(self.channels)
        if self.no_contact_at_work:
            out["no_contact_at_work"] = True
            out["working_hours"] = {"start": _fmt(self.working_hours[0]), "end": _fmt(self.working_hours[1])}
        if self.language is not None:
            out["language"] = self.language
        return out

    def describe(self) -> str:
        """The wishes in plain words, e.g. `contact only 18:00-20:00; only on mon, tue`."""
        parts = []
        if self.hours is not None:
            parts.append(f"contact only {_fmt(self.hours[0])}-{_fmt(self.hours[1])}")
        if self.days != ALL_DAYS:
            parts.append("only on " + ", ".join(d for i, d in enumerate(WEEKDAYS) if self.days >> i & 1))
        if self.channels:
            parts.append("only by " + ", ".join(self.channels))
        if self.no_contact_at_work:
            parts.append(f"no call or text at work (weekdays {_fmt(self.working_hours[0])}-"
                         f"{_fmt(self.working_hours[1])})")
        if self.language is not None:
            parts.append(f"in language {self.language}")
        return "; ".join(parts) or "no particular wishes"


def detail_text(obj) -> str:
    """Canonical JSON of a representative's or wishes' `to_dict()` (sorted keys, no spaces)."""
    return json.dumps(obj.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=4096)
def representative_of(text: str) -> Representative:
    """The representative stored as `text` (validated when it was recorded)."""
    return Representative(**json.loads(text))


@lru_cache(maxsize=4096)
def wishes_of(text: str) -> Wishes:
    """The wishes stored as `text` (validated when they were recorded)."""
    return Wishes.from_dict(json.loads(text))
