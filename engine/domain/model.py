"""Input model: accounts with their invoices, and the append-only events of their history.

`Account.from_dict` / `Event.from_dict` parse JSON-like data and raise `InputError`
naming the offending field (``account.invoices[1].due_date``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import available_timezones

from arrears.engine.domain.errors import InputError, json_type
from arrears.engine.domain.kinds import CHANNEL_KINDS, RETRY_AFTER_HOURS, WRITTEN_KINDS  # noqa: F401
from arrears.engine.domain.kinds import reachable as _reachable
from arrears.engine.domain.money import check_currency, parse_amount
from arrears.engine.domain.requests import Representative, Wishes, detail_text
from arrears.engine.domain.words import did_you_mean

DEBTOR_TYPES = ("consumer", "business")

# The kinds of channel a contact can go through (built-in, then those plugins add), the hours
# after a failed attempt before a channel of each kind is tried again for the same stage
# unless the policy's channel says otherwise (`retry_after_hours`: a failed call or message is
# often a passing fault, try the next day; a returned letter waits a week; a webhook is
# retried within the hour), and the kinds that put written words before the debtor (only
# debtor-facing templates may go through them): one table, `domain.kinds`, re-exported here.

# What a contact does (`Action.type`, a message's `action_type`): the escalation ladder's
# actions (the policy schema's stage `action` enum and the profiles' `actions` are generated
# from STAGE_ACTIONS), then those of event messages (`policy.stages.MESSAGE_ACTIONS`: a
# payment's acknowledgement, a plan's confirmation). Webhook endpoints subscribe to them.
STAGE_ACTIONS = ("reminder", "notice", "call", "formal_notice", "legal_warning", "refer_to_agency",
                 "legal_action", "write_off", "manual_review")
ACTION_TYPES = (*STAGE_ACTIONS, "acknowledgement", "confirmation")

# Event types and the fields each one requires beyond `type` and `at`.
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "payment": ("amount",),
    "credit_note": ("amount",),
    "promise_to_pay": ("amount", "until"),
    "dispute_opened": (),            # invoice_id, or none for the whole account
    "dispute_resolved": (),
    "contact_attempt": ("channel", "outcome"),
    "contact_outcome": ("channel", "outcome"),
    "hardship": (),
    "hardship_ended": (),
    "cease_communication": (),
    "channel_opt_out": ("channel",),
    "channel_opt_in": ("channel",),
    "represented": (),               # representative: who, and how to reach them (optional)
    "representation_ended": (),
    "bankruptcy": (),
    "bankruptcy_ended": (),
    "deceased": (),
    "breathing_space": (),
    "breathing_space_ended": (),
    "payment_plan": ("instalments",),
    "payment_plan_cancelled": (),
    "hold": (),
    "hold_released": (),
    "acknowledgement": (),
    "note": (),
    "validation_notice_sent": (),    # US: the debt validation notice went out
    "consent_given": ("channel",),   # written consent to electronic contact on a channel
    "consent_withdrawn": ("channel",),
    "write_off": ("amount",),        # bad debt written off: no longer owed, not collected
    "contact_preference": ("wishes",),   # the debtor's own wishes on when and how (engine/domain/requests)
    # England and Wales: a mental health crisis moratorium (no fixed length; `until` optional)
    # and the end of the debtor's crisis treatment (`until`: its day; it lasts 30 days more).
    "mental_health_crisis_moratorium": (),
    "crisis_treatment_ended": (),
    # The debtor complained (about a contact, a charge, how they were treated): recorded and shown,
    # counted by experiments' `complaints` guardrail; it decides nothing by itself.
    "complaint": (),
}

# Contact outcomes. Attempts count towards frequency and stage progress unless
# `failed` (never left us) or `queued` (a call task waiting for an agent: it marks
# the stage as started, but is not yet an attempt on the debtor).
# `read` and `replied` come from delivery receipts (`contact_outcome` events reporting on a
# message already recorded); new outcomes go at the end, so stored codes keep their meaning.
CONTACT_OUTCOMES = ("queued", "sent", "delivered", "failed", "no_answer", "voicemail",
                    "busy", "conversation", "wrong_party", "refused", "returned", "read", "replied")
NOT_ATTEMPTS = ("queued", "failed")
CONVERSATIONS = ("conversation",)

# An event's free-text `note` (any type; the text of a `note` event): kept and shown,
# never read by a decision. Bounded so history stays cheap to load and to show.
NOTE_MAX = 2000
NAME_MAX = 200           # a contact's `name` (the debtor's name as greeted and searched)
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"    # tab and line breaks are fine
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def _str(value, where, *, required=False, choices=None):
    if value is None:
        if required:
            raise InputError("is required (missing or null)", where)
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"expected a non-empty string, got {value!r}", where)
    if choices is not None and value not in choices:
        raise InputError(f"expected one of {', '.join(choices)}; got {value!r}{did_you_mean(value, choices)}",
                         where)
    return value


def _note(value, where, limit: int = NOTE_MAX):
    text = _str(value, where)
    if text is None:
        return None
    if len(text) > limit:
        raise InputError(f"must be at most {limit:,} characters, got {len(text):,}", where)
    bad = _CONTROL.search(text)
    if bad:
        raise InputError(f"must not contain control characters (U+{ord(bad.group()):04X} at character "
                         f"{bad.start() + 1})", where)
    return text


def _name(value, where):
    """A contact's name: a note of at most NAME_MAX characters on one line (it is greeted in a
    message's first line and an email's headers may carry it)."""
    text = _note(value, where, NAME_MAX)
    if text is not None and any(c in text for c in "\t\r\n"):
        raise InputError("must be on one line (no tab or line break)", where)
    return text


# Dates and times outside these years are refused: they are data errors, and the batch
# arithmetic (epoch days, local-time offsets) is only meaningful well inside them.
YEARS = (1900, 2199)
INSTANT_YEARS = (1970, 2199)
# The text forms read from JSON (RFC 3339), as regular expressions the OpenAPI document
# publishes too (`arrears.api.openapi.model`): what one accepts, the other states. The year
# range is the year as written (an offset may move the UTC instant a day either side).
_MONTH_DAY = r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = rf"^(19[0-9]{{2}}|2[01][0-9]{{2}}){_MONTH_DAY}$"
INSTANT_PATTERN = (rf"^(19[7-9][0-9]|2[01][0-9]{{2}}){_MONTH_DAY}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                   r"(\.[0-9]{1,6})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
_DATE = re.compile(DATE_PATTERN)
_INSTANT = re.compile(INSTANT_PATTERN)
# IANA time zone names a `timezone` may take (the tz database this process has; not the
# machine-dependent `localtime`).
TIMEZONES = tuple(sorted(available_timezones() - {"localtime"}))
_TIMEZONES = frozenset(TIMEZONES)


def _in_range(value, where):
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise InputError(f"must be between {YEARS[0]}-01-01 and {YEARS[1]}-12-31 "
                         f"(year {value.year})", where)
    return value


def parse_date(value, where) -> date:
    """A calendar date from `date` or a string ``YYYY-MM-DD`` (years 1900-2199)."""
    if isinstance(value, datetime):
        raise InputError(f"expected a date (YYYY-MM-DD), got a date-time {value!r}", where)
    if isinstance(value, date):
        return _in_range(value, where)
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        if (isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
                and not YEARS[0] <= int(value[:4]) <= YEARS[1]):
            raise InputError(f"must be between {YEARS[0]}-01-01 and {YEARS[1]}-12-31 (year {value[:4]})", where)
        raise InputError(f"expected a date (YYYY-MM-DD), got {value!r}", where)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"expected a date (YYYY-MM-DD), got {value!r}", where) from None


def parse_instant(value, where) -> datetime:
    """An aware UTC datetime from a datetime or an RFC 3339 string with an offset
    (``2026-11-22T15:00:00Z``; years 1970-2199 as written)."""
    if isinstance(value, str):
        if not _INSTANT.fullmatch(value):
            if _INSTANT.fullmatch(value + "Z"):
                raise InputError("time must carry a UTC offset (e.g. 'Z' or '+01:00')", where)
            if re.match(r"^[0-9]{4}-", value) and not re.match(r"^(19[7-9][0-9]|2[01][0-9]{2})-", value):
                raise InputError(f"must be between {INSTANT_YEARS[0]}-01-01 and {INSTANT_YEARS[1]}-12-31 "
                                 f"(year {value[:4]})", where)
            raise InputError(f"expected an RFC 3339 time such as 2026-11-22T15:00:00Z, got {value!r}", where)
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InputError(f"expected an RFC 3339 time such as 2026-11-22T15:00:00Z, got {value!r}",
                             where) from None
        return value.astimezone(timezone.utc)
    if not isinstance(value, datetime):
        raise InputError(f"expected an RFC 3339 time, got {value!r}", where)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError("time must carry a UTC offset (e.g. 'Z' or '+01:00')", where)
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        raise InputError(f"must be between 1970-01-01 and {YEARS[1]}-12-31 (out of range)",
                         where) from None
    return _in_range(utc, where) if utc.year >= 1970 else _too_early(utc, where)


def _too_early(value, where):
    raise InputError(f"must be between 1970-01-01 and {YEARS[1]}-12-31 (year {value.year})", where)


def _zone(value, where):
    name = _str(value, where)
    if name is not None and name not in _TIMEZONES:
        raise InputError(f"unknown IANA time zone {name[:64]!r}{did_you_mean(name, TIMEZONES)}", where)
    return name


def _list(value, where, what: str) -> list:
    """A JSON list (absent or null: empty); anything else, `{}` and `""` included, is refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"expected a list of {what}, got {json_type(value)}", where)
    return value


def _float01(value, where):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputError(f"expected a number from 0 to 1, got {value!r}", where)
    return float(value)


def _check_keys(data, allowed, where):
    if not isinstance(data, dict):
        raise InputError(f"expected an object, got {json_type(data)}", where)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
                         where)


@dataclass(frozen=True, slots=True)
class Invoice:
    """One receivable: its original amount and due date. Payments come as events."""

    id: str
    amount: Decimal
    due_date: date
    issued_date: date | None = None

    @classmethod
    def from_dict(cls, data, where="invoice") -> "Invoice":
        """Parse an invoice object."""
        _check_keys(data, ("id", "amount", "due_date", "issued_date"), where)
        amount = parse_amount(data.get("amount"), f"{where}.amount")
        if amount < 0:
            raise InputError("must not be negative (use a credit_note event)", f"{where}.amount")
        issued = data.get("issued_date")
        return cls(id=_str(data.get("id"), f"{where}.id", required=True), amount=amount,
                   due_date=parse_date(data.get("due_date"), f"{where}.due_date"),
                   issued_date=None if issued is None else parse_date(issued, f"{where}.issued_date"))


@dataclass(frozen=True, slots=True)
class Contact:
    """How the debtor can be reached, and which channel kinds they prefer (in order); `name`: the
    debtor's name (NAME_MAX characters, no control characters), greeted in messages and searched
    in the console."""

    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    address: str | None = None
    preferred_channels: tuple[str, ...] = ()
    name: str | None = None

    @classmethod
    def from_dict(cls, data, where="contact") -> "Contact":
        """Parse a contact object."""
        if data is None:
            return cls()
        _check_keys(data, ("name", "email", "phone", "mobile", "address", "preferred_channels"), where)
        prefs = _list(data.get("preferred_channels"), f"{where}.preferred_channels", "channel kinds")
        for i, kind in enumerate(prefs):
            _str(kind, f"{where}.preferred_channels[{i}]", required=True, choices=CHANNEL_KINDS)
        return cls(**{k: _str(data.get(k), f"{where}.{k}") for k in ("email", "phone", "mobile",
                                                                     "address")},
                   preferred_channels=tuple(prefs), name=_name(data.get("name"), f"{where}.name"))

    def reachable_kinds(self) -> frozenset[str]:
        """Channel kinds we hold details for (webhooks, internal tasks and kinds that need no
        detail always work; a call reaches a mobile too)."""
        return _reachable({"email": self.email, "mobile": self.mobile, "phone": self.phone,
                           "address": self.address})


@dataclass(frozen=True, slots=True)
class Account:
    """A debtor account: who owes, in which currency and jurisdiction, and its invoices."""

    id: str
    currency: str
    invoices: tuple[Invoice, ...] = ()
    debtor_type: str = "consumer"
    jurisdiction: str | None = None
    timezone: str | None = None
    language: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)
    risk_score: float | None = None
    on_time_ratio: float | None = None
    relationship_tier: str | None = None
    contact: Contact = field(default_factory=Contact)
    account_manager: str | None = None
    debtor_id: str | None = None                 # groups accounts of one debtor (per-debtor caps)
    other_timezones: tuple[str, ...] = ()        # further zones the debtor is known to be in

    @classmethod
    def from_dict(cls, data, where="account") -> "Account":
        """Parse an account object (as the API and the CLI receive it)."""
        _check_keys(data, ("id", "currency", "invoices", "debtor_type", "jurisdiction", "timezone",
                           "language", "tags", "risk_score", "on_time_ratio", "relationship_tier",
                           "contact", "account_manager", "debtor_id", "other_timezones"), where)
        invoices = _list(data.get("invoices"), f"{where}.invoices", "invoices")
        parsed = tuple(Invoice.from_dict(inv, f"{where}.invoices[{i}]") for i, inv in enumerate(invoices))
        ids = [inv.id for inv in parsed]
        if len(set(ids)) != len(ids):
            raise InputError("invoice ids must be unique within an account", f"{where}.invoices")
        tz = _zone(data.get("timezone"), f"{where}.timezone")
        others = _list(data.get("other_timezones"), f"{where}.other_timezones", "IANA time zones")
        others = tuple(_zone(_str(z, f"{where}.other_timezones[{i}]", required=True),
                             f"{where}.other_timezones[{i}]") for i, z in enumerate(others))
        tags = _list(data.get("tags"), f"{where}.tags", "strings")
        return cls(
            id=_str(data.get("id"), f"{where}.id", required=True),
            currency=check_currency(data.get("currency"), f"{where}.currency"),
            invoices=parsed,
            debtor_type=_str(data.get("debtor_type", "consumer"), f"{where}.debtor_type",
                             required=True, choices=DEBTOR_TYPES),
            jurisdiction=_str(data.get("jurisdiction"), f"{where}.jurisdiction"),
            timezone=tz,
            language=_str(data.get("language"), f"{where}.language"),
            tags=frozenset(_str(t, f"{where}.tags[{i}]", required=True) for i, t in enumerate(tags)),
            risk_score=_float01(data.get("risk_score"), f"{where}.risk_score"),
            on_time_ratio=_float01(data.get("on_time_ratio"), f"{where}.on_time_ratio"),
            relationship_tier=_str(data.get("relationship_tier"), f"{where}.relationship_tier"),
            contact=Contact.from_dict(data.get("contact"), f"{where}.contact"),
            account_manager=_str(data.get("account_manager"), f"{where}.account_manager"),
            debtor_id=_str(data.get("debtor_id"), f"{where}.debtor_id"),
            other_timezones=others,
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One fact in an account's history. Which fields matter depends on `type`."""

    type: str
    at: datetime
    id: str | None = None
    amount: Decimal | None = None
    invoice_id: str | None = None
    channel: str | None = None       # a channel kind (email, sms, call, …)
    stage: str | None = None         # the escalation stage a contact belonged to
    outcome: str | None = None       # contact outcome
    until: date | None = None        # promise date, end of a hold, breathing space, hardship
    instalments: tuple[tuple[date, Decimal], ...] = ()
    note: str | None = None          # free text (NOTE_MAX characters); never affects a decision
    representative: Representative | None = None   # on a `represented` event
    wishes: Wishes | None = None     # on a `contact_preference` event

    @property
    def detail_json(self) -> str | None:
        """The representative or the wishes as canonical JSON (how the store keeps them)."""
        detail = self.representative or self.wishes
        return None if detail is None else detail_text(detail)

    @classmethod
    def from_dict(cls, data, where="event") -> "Event":
        """Parse an event object."""
        _check_keys(data, ("id", "type", "at", "amount", "invoice_id", "channel", "stage", "outcome",
                           "until", "instalments", "note", "representative", "wishes"), where)
        etype = _str(data.get("type"), f"{where}.type", required=True, choices=tuple(EVENT_TYPES))
        for name in EVENT_TYPES[etype]:
            if data.get(name) in (None, []):
                raise InputError(f"is required for a {etype} event", f"{where}.{name}")
        amount = data.get("amount")
        if amount is not None:
            amount = parse_amount(amount, f"{where}.amount")
            if amount <= 0:
                raise InputError("must be positive", f"{where}.amount")
        until = data.get("until")
        plan = _list(data.get("instalments"), f"{where}.instalments", "{due_date, amount}")
        instalments = []
        for i, item in enumerate(plan):
            w = f"{where}.instalments[{i}]"
            _check_keys(item, ("due_date", "amount"), w)
            value = parse_amount(item.get("amount"), f"{w}.amount")
            if value <= 0:
                raise InputError("must be positive", f"{w}.amount")
            instalments.append((parse_date(item.get("due_date"), f"{w}.due_date"), value))
        return cls(
            type=etype,
            at=parse_instant(data.get("at"), f"{where}.at"),
            id=_str(data.get("id"), f"{where}.id"),
            amount=amount,
            invoice_id=_str(data.get("invoice_id"), f"{where}.invoice_id"),
            channel=_str(data.get("channel"), f"{where}.channel", choices=CHANNEL_KINDS),
            stage=_str(data.get("stage"), f"{where}.stage"),
            outcome=_str(data.get("outcome"), f"{where}.outcome", choices=CONTACT_OUTCOMES),
            until=None if until is None else parse_date(until, f"{where}.until"),
            instalments=tuple(sorted(instalments)),
            note=_note(data.get("note"), f"{where}.note"),
            **_requests(etype, data, where),
        )


def _requests(etype: str, data: dict, where: str) -> dict:
    """The `representative` (represented events only) and `wishes` (contact_preference only)."""
    out = {}
    for key, owner, parse in (("representative", "represented", Representative.from_dict),
                              ("wishes", "contact_preference", Wishes.from_dict)):
        if data.get(key) is None:
            continue
        if etype != owner:
            raise InputError(f"only a {owner} event carries {key}", f"{where}.{key}")
        out[key] = parse(data[key], f"{where}.{key}")
    return out
