"""Accounts and events from request JSON: the engine's parsers plus the store's money check.

`Account.from_dict` / `Event.from_dict` do the work and name the field that is wrong
(null items, dates outside 1900-2199 and impossible zone names included). On top, before
anything is decided or stored, the API applies the store's exact conversion to minor
units, so an amount finer than the currency allows or beyond the largest handled is
refused here, naming the field. Errors are `InputError`s whose `where` is the field's path
from the body root; `arrears.api.problems.from_input_error` turns them into 422 problems.
"""
from __future__ import annotations

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Event
from arrears.engine.store.codec import event_values, minor_units


def _join(where: str, name) -> str:
    if isinstance(name, int):
        return f"{where}[{name}]"
    return f"{where}.{name}" if where else name


def parse_account(data, where: str = "") -> Account:
    """An `Account` from request JSON at `where` (``items[3].account``; "" for the body root)."""
    account = Account.from_dict(data, where or "")
    # Exact in minor units and within the limit, as `account_row` will require of it (without
    # building the whole row: deciding needs only the check).
    for i, invoice in enumerate(account.invoices):
        minor_units(invoice.amount, account.currency, f"{where}.invoices[{i}].amount")
    return account


def parse_event(data, currency: str | None, where: str) -> Event:
    """An `Event` from request JSON at `where`; amounts checked against `currency` if given."""
    event = Event.from_dict(data, where)
    if currency is not None:
        event_values(event, currency, where)
    return event


def parse_events(items, currency: str | None, where: str) -> list[Event]:
    """Events from a JSON list at `where` (``events``, ``items[2].events``)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError("expected a list of events", where)
    events = [parse_event(item, currency, _join(where, i)) for i, item in enumerate(items)]
    # An event id is unique per account (the store records it once): a history that repeats
    # one would count that payment twice here and once in the store.
    seen: dict[str, int] = {}
    for i, ev in enumerate(events):
        if ev.id is not None and seen.setdefault(ev.id, i) != i:
            raise InputError(f"event id {ev.id!r} repeats {_join(where, seen[ev.id])}: an event id is unique "
                             "per account", f"{_join(where, i)}.id")
    return events
