"""Accounts and events from request JSON: the engine's parsers plus the checks the API adds.

`Account.from_dict` / `Event.from_dict` do the work and name the field that is wrong.
On top, before anything is decided or stored, the API refuses what the engine would
accept but cannot use: `null` inside lists and for `debtor_type` (the store needs
values there), amounts finer than the currency's minor unit or beyond the largest
amount handled (the store's own conversion says which field), and dates outside
1900-2199 (date arithmetic past year 9999 would fail deep inside a decision).
Errors are `InputError`s whose `where` is the field's path from the body root;
`api.problems.from_input_error` turns them into 422 problems with JSON pointers.
"""
from __future__ import annotations

import re
from datetime import date

from engine.errors import InputError
from engine.model import Account, Event
from engine.store.codec import account_row, event_values

FIRST_YEAR, END_YEAR = 1900, 2200
# What an IANA zone name can look like: checked before the engine looks the name up,
# so hostile names never reach the file system (a 500-character name fails there).
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]{1,30}(/[A-Za-z0-9_+\-]{1,30}){0,3}")


def _join(where: str, name) -> str:
    if isinstance(name, int):
        return f"{where}[{name}]"
    return f"{where}.{name}" if where else name


def _no_null_items(data: dict, key: str, where: str) -> None:
    values = data.get(key)
    if isinstance(values, list):
        for i, value in enumerate(values):
            if value is None:
                raise InputError("expected a string, got null", _join(_join(where, key), i))


def _check_zones(data: dict, where: str) -> None:
    names = [("timezone", data.get("timezone"))]
    if isinstance(data.get("other_timezones"), list):
        names += [(i, z) for i, z in enumerate(data["other_timezones"])]
    for key, name in names:
        if isinstance(name, str) and not _ZONE_NAME.fullmatch(name):
            path = _join(where, key) if key == "timezone" else _join(_join(where, "other_timezones"), key)
            raise InputError(f"unknown IANA time zone {name[:60]!r}", path)


def _check_date(value: date | None, where: str) -> None:
    if value is not None and not FIRST_YEAR <= value.year < END_YEAR:
        raise InputError(f"must be between {FIRST_YEAR}-01-01 and {END_YEAR - 1}-12-31", where)


def parse_account(data, where: str = "") -> Account:
    """An `Account` from request JSON at `where` (``items[3].account``; "" for the body root)."""
    if isinstance(data, dict):
        if "debtor_type" in data and data["debtor_type"] is None:
            raise InputError("expected consumer or business, got null", _join(where, "debtor_type"))
        for key in ("tags", "other_timezones"):
            _no_null_items(data, key, where)
        _check_zones(data, where)
        if isinstance(data.get("contact"), dict):
            _no_null_items(data["contact"], "preferred_channels", _join(where, "contact"))
    account = Account.from_dict(data, where or "")
    for i, invoice in enumerate(account.invoices):
        base = _join(_join(where, "invoices"), i)
        _check_date(invoice.due_date, _join(base, "due_date"))
        _check_date(invoice.issued_date, _join(base, "issued_date"))
    account_row(account, where)      # exact in minor units, within the limit
    return account


def parse_event(data, currency: str | None, where: str) -> Event:
    """An `Event` from request JSON at `where`; amounts checked against `currency` if given."""
    event = Event.from_dict(data, where)
    _check_date(event.at.date(), _join(where, "at"))
    _check_date(event.until, _join(where, "until"))
    for i, (due, _amount) in enumerate(event.instalments):
        _check_date(due, _join(_join(_join(where, "instalments"), i), "due_date"))
    if currency is not None:
        event_values(event, currency, where)
    return event


def parse_events(items, currency: str | None, where: str) -> list[Event]:
    """Events from a JSON list at `where` (``events``, ``items[2].events``)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError("expected a list of events", where)
    return [parse_event(item, currency, _join(where, i)) for i, item in enumerate(items)]
