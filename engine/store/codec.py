"""Rows <-> model objects: minor units, epoch days and seconds, canonical JSON.

Storing refuses what it could not give back exactly: an amount with more decimal
places than its currency has (12.345 EUR) is an `InputError`, not a silent rounding.
Times are kept to the whole second (the resolution of the decision core).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from arrears.engine.domain.batch import day_to_date, epoch_day
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Contact, Event, Invoice
from arrears.engine.domain.money import MAX_MINOR, exponent, from_minor
from arrears.engine.domain.requests import representative_of, wishes_of

_CONTACT_FIELDS = ("name", "email", "phone", "mobile", "address")
# What an event says, in `event_values` order.
EVENT_COLUMNS = ("type", "at", "amount_minor", "invoice_id", "channel", "stage", "outcome", "until_day",
                 "instalments", "event_id", "note", "detail")
# An event row as the audit digest covers it (see engine/store/audit.py), then as inserted.
EVENT_DIGEST_COLUMNS = ("acct_no", *EVENT_COLUMNS, "event_key", "recorded_at")
_NOTE_AT = EVENT_DIGEST_COLUMNS.index("note")     # revision 0004's column: see event_digest_line
_DETAIL_AT = EVENT_DIGEST_COLUMNS.index("detail")  # revision 0005's column: likewise
EVENT_INSERT_COLUMNS = (*EVENT_DIGEST_COLUMNS, "audit_seq")
INVOICE_COLUMNS = ("invoice_id", "amount_minor", "due_day", "issued_day")   # after acct_no
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def canonical(obj) -> str:
    """Canonical JSON text: sorted keys, no insignificant spaces, UTF-8 kept as is."""
    return _canonical(obj)


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def sha256(text: str) -> str:
    """Hex SHA-256 of `text` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def minor_units(amount, currency: str, where: str) -> int:
    """Exact minor units of `amount`; InputError if that would round or exceed MAX_MINOR."""
    scaled = amount.scaleb(exponent(currency))          # exact: only moves the decimal point
    if scaled != scaled.to_integral_value():
        raise InputError(f"{amount} has more decimal places than {currency} allows "
                         f"({exponent(currency)})", where)
    minor = int(scaled)
    if abs(minor) > MAX_MINOR:       # what the decision core can add up without overflow
        raise InputError(f"{amount} is beyond the largest amount Arrears handles "
                         f"({from_minor(MAX_MINOR, currency)})", where)
    return minor


def account_row(acc: Account, where: str = "account") -> tuple[dict, list[tuple]]:
    """The `accounts` columns (content only) and the `invoices` rows (INVOICE_COLUMNS tuples).

    The row carries `digest`, a hash of the whole content including invoices, so an
    upsert of an unchanged account can be recognised and skipped.
    """
    contact = {k: getattr(acc.contact, k) for k in _CONTACT_FIELDS if getattr(acc.contact, k)}
    if acc.contact.preferred_channels:
        contact["preferred_channels"] = list(acc.contact.preferred_channels)
    row = {"id": acc.id, "currency": acc.currency, "debtor_type": acc.debtor_type,
           "jurisdiction": acc.jurisdiction, "timezone": acc.timezone, "language": acc.language,
           "tags": canonical(sorted(acc.tags)) if acc.tags else "[]", "risk_score": acc.risk_score,
           "on_time_ratio": acc.on_time_ratio, "relationship_tier": acc.relationship_tier,
           "account_manager": acc.account_manager, "debtor_id": acc.debtor_id,
           "other_timezones": canonical(list(acc.other_timezones)) if acc.other_timezones else "[]",
           "contact": canonical(contact)}
    invoices = [(inv.id, minor_units(inv.amount, acc.currency, f"{where}.invoices[{i}].amount"),
                 epoch_day(inv.due_date), None if inv.issued_date is None else epoch_day(inv.issued_date))
                for i, inv in enumerate(acc.invoices)]
    # Only compared with itself (to skip no-op upserts), so Python's repr is canonical enough.
    row["digest"] = sha256(repr((sorted(row.items()), sorted(invoices))))
    return row, invoices


def account_from_row(row, invoice_rows) -> Account:
    """Rebuild the `Account` stored in an `accounts` row and its `invoices` rows."""
    cur = row.currency
    contact = json.loads(row.contact)
    invoices = tuple(Invoice(id=inv.invoice_id, amount=from_minor(inv.amount_minor, cur),
                             due_date=day_to_date(inv.due_day),
                             issued_date=None if inv.issued_day is None else day_to_date(inv.issued_day))
                     for inv in invoice_rows)
    return Account(id=row.id, currency=cur, invoices=invoices, debtor_type=row.debtor_type,
                   jurisdiction=row.jurisdiction, timezone=row.timezone, language=row.language,
                   tags=frozenset(json.loads(row.tags)), risk_score=row.risk_score,
                   on_time_ratio=row.on_time_ratio, relationship_tier=row.relationship_tier,
                   contact=Contact(preferred_channels=tuple(contact.pop("preferred_channels", ())),
                                   **contact),
                   account_manager=row.account_manager, debtor_id=row.debtor_id,
                   other_timezones=tuple(json.loads(row.other_timezones)))


def epoch_seconds(t: datetime) -> int:
    """Whole epoch seconds of an aware datetime (sub-second precision is dropped)."""
    return int(t.timestamp())


def event_values(ev: Event, currency: str, where: str = "event") -> tuple:
    """An event's EVENT_COLUMNS values (what the event says, without bookkeeping)."""
    plan = None
    if ev.instalments:
        plan = canonical([[epoch_day(due), minor_units(amount, currency, f"{where}.instalments[{i}].amount")]
                          for i, (due, amount) in enumerate(ev.instalments)])
    amount = None if ev.amount is None else minor_units(ev.amount, currency, f"{where}.amount")
    return (ev.type, epoch_seconds(ev.at), amount, ev.invoice_id, ev.channel, ev.stage, ev.outcome,
            None if ev.until is None else epoch_day(ev.until), plan, ev.id, ev.note, ev.detail_json)


def event_from_row(row, currency: str) -> Event:
    """Rebuild the `Event` stored in an `events` row."""
    plan = json.loads(row.instalments) if row.instalments else ()
    return Event(type=row.type, at=datetime.fromtimestamp(row.at, timezone.utc), id=row.event_id,
                 amount=None if row.amount_minor is None else from_minor(row.amount_minor, currency),
                 invoice_id=row.invoice_id, channel=row.channel, stage=row.stage, outcome=row.outcome,
                 until=None if row.until_day is None else day_to_date(row.until_day),
                 instalments=tuple((day_to_date(d), from_minor(m, currency)) for d, m in plan),
                 note=row.note, **_detail(row.type, row.detail))


def _detail(etype: str, text: str | None) -> dict:
    """The `representative` or `wishes` an event row keeps as JSON in `detail`."""
    if text is None:
        return {}
    if etype == "represented":
        return {"representative": representative_of(text)}
    return {"wishes": wishes_of(text)}


def event_digest_line(values: tuple) -> bytes:
    """One event's line in a batch digest: its EVENT_DIGEST_COLUMNS values as a JSON array.

    An event without a note leaves the note out, so its line is exactly what it was before
    revision 0004 added the column, and batches recorded by older versions still verify.
    (The two forms differ in length, so they can never be mistaken for each other.)
    """
    if values[_DETAIL_AT] is not None:
        # Revision 0005's detail (a representative, wishes): the line keeps every column,
        # so it is one longer than any line without a detail.
        return (_encode(values) + "\n").encode("utf-8")
    values = (*values[:_DETAIL_AT], *values[_DETAIL_AT + 1:])
    if values[_NOTE_AT] is None:
        values = (*values[:_NOTE_AT], *values[_NOTE_AT + 1:])
    return (_encode(values) + "\n").encode("utf-8")
