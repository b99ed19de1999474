"""Input model: parsing accounts and events, and errors that name the offending field."""
from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from arrears.engine.domain.errors import ArrearsError, InputError
from arrears.engine.domain.model import CONTACT_OUTCOMES, EVENT_TYPES, Account, Contact, Event, Invoice

ACCOUNT = {
    "id": "A1",
    "currency": "EUR",
    "timezone": "Europe/London",
    "debtor_type": "business",
    "jurisdiction": "GB-ENG",
    "language": "en",
    "tags": ["vip", "retail"],
    "risk_score": 0.25,
    "on_time_ratio": 1,
    "relationship_tier": "key",
    "account_manager": "jane",
    "contact": {"email": "a@example.com", "phone": "+441", "mobile": "+447", "address": "1 High St",
                "preferred_channels": ["sms", "email"]},
    "invoices": [
        {"id": "I1", "amount": "1200.50", "due_date": "2026-10-01", "issued_date": "2026-09-01"},
        {"id": "I2", "amount": 300, "due_date": "2026-11-01"},
    ],
}


def account_with(path, value):
    """A copy of ACCOUNT with the dotted/indexed `path` set to `value` (or removed if ...)."""
    data = copy.deepcopy(ACCOUNT)
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if value is ...:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


# ---- accounts ------------------------------------------------------------------------------

def test_account_parses_every_field():
    acc = Account.from_dict(ACCOUNT)
    assert acc.id == "A1" and acc.currency == "EUR" and acc.debtor_type == "business"
    assert acc.timezone == "Europe/London" and acc.jurisdiction == "GB-ENG" and acc.language == "en"
    assert acc.tags == frozenset({"vip", "retail"})
    assert acc.risk_score == 0.25 and acc.on_time_ratio == 1.0
    assert acc.relationship_tier == "key" and acc.account_manager == "jane"
    assert acc.invoices == (
        Invoice("I1", Decimal("1200.50"), date(2026, 10, 1), date(2026, 9, 1)),
        Invoice("I2", Decimal("300"), date(2026, 11, 1), None),
    )
    assert acc.contact == Contact("a@example.com", "+441", "+447", "1 High St", ("sms", "email"))


def test_account_defaults():
    acc = Account.from_dict({"id": "A", "currency": "JPY"})
    assert acc.debtor_type == "consumer"
    assert acc.invoices == () and acc.tags == frozenset()
    assert acc.timezone is None and acc.risk_score is None and acc.contact == Contact()


def test_money_is_decimal_never_float():
    acc = Account.from_dict(account_with("invoices.0.amount", 0.1))
    assert acc.invoices[0].amount == Decimal("0.1")
    assert isinstance(acc.invoices[0].amount, Decimal)


@pytest.mark.parametrize("kinds, expected", [
    ({"email": "e"}, {"email", "webhook", "task"}),
    ({"mobile": "m"}, {"sms", "call", "webhook", "task"}),
    ({"phone": "p"}, {"call", "webhook", "task"}),
    ({"address": "a"}, {"letter", "webhook", "task"}),
    ({}, {"webhook", "task"}),
])
def test_reachable_kinds(kinds, expected):
    assert Contact.from_dict(kinds).reachable_kinds() == frozenset(expected)


@pytest.mark.parametrize("path, value, where", [
    ("id", ..., "account.id"),
    ("id", "", "account.id"),
    ("id", 12, "account.id"),
    ("currency", "eur", "account.currency"),
    ("currency", "EURO", "account.currency"),
    ("currency", None, "account.currency"),
    ("debtor_type", "company", "account.debtor_type"),
    ("timezone", "Mars/Olympus", "account.timezone"),
    ("timezone", "", "account.timezone"),
    ("tags", "vip", "account.tags"),
    ("tags", ["vip", ""], "account.tags[1]"),
    ("risk_score", 1.5, "account.risk_score"),
    ("risk_score", True, "account.risk_score"),
    ("on_time_ratio", "0.9", "account.on_time_ratio"),
    ("on_time_ratio", -0.1, "account.on_time_ratio"),
    ("relationship_tier", 3, "account.relationship_tier"),
    ("invoices", {"id": "I1"}, "account.invoices"),
    ("invoices.1.id", ..., "account.invoices[1].id"),
    ("invoices.1.amount", ..., "account.invoices[1].amount"),
    ("invoices.1.amount", "12,50", "account.invoices[1].amount"),
    ("invoices.1.amount", "NaN", "account.invoices[1].amount"),
    ("invoices.1.amount", "Infinity", "account.invoices[1].amount"),
    ("invoices.1.amount", True, "account.invoices[1].amount"),
    ("invoices.1.amount", "-1.00", "account.invoices[1].amount"),
    ("invoices.1.due_date", ..., "account.invoices[1].due_date"),
    ("invoices.1.due_date", "2026-13-01", "account.invoices[1].due_date"),
    ("invoices.1.due_date", "01/11/2026", "account.invoices[1].due_date"),
    ("invoices.1.due_date", datetime(2026, 11, 1, tzinfo=timezone.utc), "account.invoices[1].due_date"),
    ("invoices.0.issued_date", "yesterday", "account.invoices[0].issued_date"),
    ("invoices.1", "I2", "account.invoices[1]"),
    ("invoices.1.id", "I1", "account.invoices"),                  # duplicate invoice id
    ("contact", "a@example.com", "account.contact"),
    ("contact.email", "", "account.contact.email"),
    ("contact.preferred_channels", "sms", "account.contact.preferred_channels"),
    ("contact.preferred_channels", ["sms", "pigeon"], "account.contact.preferred_channels[1]"),
    ("contact.fax", "+441", "account.contact"),
])
def test_account_errors_name_the_field(path, value, where):
    with pytest.raises(InputError) as info:
        Account.from_dict(account_with(path, value))
    assert info.value.where == where
    assert str(info.value).startswith(where + ": ")
    assert isinstance(info.value, ArrearsError)


@pytest.mark.parametrize("container, extra, where", [
    ("", {"balance": "1"}, "account"),
    ("invoices.0", {"currency": "EUR"}, "account.invoices[0]"),
    ("contact", {"twitter": "@x"}, "account.contact"),
])
def test_unknown_fields_are_rejected_and_named(container, extra, where):
    data = copy.deepcopy(ACCOUNT)
    node = data
    for key in filter(None, container.split(".")):
        node = node[int(key)] if key.isdigit() else node[key]
    node.update(extra)
    with pytest.raises(InputError) as info:
        Account.from_dict(data)
    assert info.value.where == where
    assert next(iter(extra)) in str(info.value)


def test_account_must_be_an_object():
    with pytest.raises(InputError) as info:
        Account.from_dict(["A1"])
    assert info.value.where == "account"


@pytest.mark.parametrize("value,named", [(["A1"], "a list"), (None, "null"), ("A1", "a string"), (7, "a number"),
                                         (1.5, "a number"), (True, "a boolean")])
def test_a_wrong_type_is_named_as_json_names_it(value, named):
    """The messages name what the sender wrote (JSON's types), never a Python type."""
    from arrears.engine.domain.requests import Representative, Wishes
    for parse, where in ((Account.from_dict, "account"), (Event.from_dict, "event"), (Wishes.from_dict, "wishes"),
                         (Representative.from_dict, "representative")):
        with pytest.raises(InputError) as info:
            parse(value)
        assert str(info.value) == f"{where}: expected an object, got {named}", parse
    if not isinstance(value, list) and value is not None:      # (a list is one; null is "none")
        with pytest.raises(InputError, match=f"^account.invoices: expected a list of invoices, got {named}$"):
            Account.from_dict({"id": "A1", "currency": "GBP", "invoices": value})


def test_custom_location_prefix():
    data = account_with("invoices.1.due_date", "soon")
    with pytest.raises(InputError) as info:
        Account.from_dict(data, where="accounts[7]")
    assert info.value.where == "accounts[7].invoices[1].due_date"


# ---- events --------------------------------------------------------------------------------

# A valid value for every field an event type may require.
FIELD_VALUES = {
    "amount": "10",
    "until": "2026-12-01",
    "channel": "email",
    "outcome": "sent",
    "instalments": [{"due_date": "2026-12-01", "amount": "10"}],
    "wishes": {"language": "fr"},
}


def minimal(etype: str) -> dict:
    return {"type": etype, "at": "2026-11-22T15:00:00Z",
            **{name: FIELD_VALUES[name] for name in EVENT_TYPES[etype]}}


def test_required_fields_are_known():
    assert {f for fields in EVENT_TYPES.values() for f in fields} <= set(FIELD_VALUES)


@pytest.mark.parametrize("etype", sorted(EVENT_TYPES))
def test_every_event_type_parses_with_its_required_fields(etype):
    event = Event.from_dict(minimal(etype))
    assert event.type == etype
    assert event.at == datetime(2026, 11, 22, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("etype, field", [(t, f) for t, fields in sorted(EVENT_TYPES.items())
                                           for f in fields])
def test_event_required_fields(etype, field):
    data = minimal(etype)
    del data[field]
    with pytest.raises(InputError) as info:
        Event.from_dict(data, where="events[3]")
    assert info.value.where == f"events[3].{field}"
    assert etype in str(info.value)


def test_event_times_are_normalised_to_utc():
    e = Event.from_dict({"type": "note", "at": "2026-03-29T01:30:00+02:00"})
    assert e.at == datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc)
    assert e.at.utcoffset() == timedelta(0)
    aware = datetime(2026, 7, 1, 12, tzinfo=timezone(timedelta(hours=-4)))
    assert Event.from_dict({"type": "note", "at": aware}).at == datetime(2026, 7, 1, 16, tzinfo=timezone.utc)
    assert Event.from_dict({"type": "note", "at": "2026-07-01T16:00:00z"}).at.hour == 16


@pytest.mark.parametrize("at", [
    "2026-11-22T15:00:00",                 # no offset
    datetime(2026, 11, 22, 15),            # naive datetime
    "2026-11-22",                          # a date is not an instant
    "22/11/2026 15:00",
    1763823600,                            # epoch numbers are not accepted
    None,
])
def test_naive_or_malformed_times_are_rejected(at):
    with pytest.raises(InputError) as info:
        Event.from_dict({"type": "note", "at": at})
    assert info.value.where == "event.at"


@pytest.mark.parametrize("data, where, fragment", [
    ({"at": "2026-11-22T15:00:00Z"}, "event.type", "required"),
    ({"type": "refund", "at": "2026-11-22T15:00:00Z"}, "event.type", "refund"),
    ({"type": "payment", "at": "2026-11-22T15:00:00Z", "amount": "0"}, "event.amount", "positive"),
    ({"type": "payment", "at": "2026-11-22T15:00:00Z", "amount": "-5"}, "event.amount", "positive"),
    ({"type": "payment", "at": "2026-11-22T15:00:00Z", "amount": "ten"}, "event.amount", "ten"),
    ({"type": "contact_attempt", "at": "2026-11-22T15:00:00Z", "channel": "fax", "outcome": "sent"},
     "event.channel", "fax"),
    ({"type": "contact_attempt", "at": "2026-11-22T15:00:00Z", "channel": "sms", "outcome": "ok"},
     "event.outcome", "ok"),
    ({"type": "promise_to_pay", "at": "2026-11-22T15:00:00Z", "amount": "1", "until": "next week"},
     "event.until", "next week"),
    ({"type": "payment_plan", "at": "2026-11-22T15:00:00Z", "instalments": {"due_date": "2026-12-01"}},
     "event.instalments", "list"),
    ({"type": "payment_plan", "at": "2026-11-22T15:00:00Z",
      "instalments": [{"due_date": "2026-12-01", "amount": "1"}, {"due_date": "2026-12-32", "amount": "1"}]},
     "event.instalments[1].due_date", "2026-12-32"),
    ({"type": "payment_plan", "at": "2026-11-22T15:00:00Z",
      "instalments": [{"due_date": "2026-12-01", "amount": "x"}]},
     "event.instalments[0].amount", "x"),
    ({"type": "payment_plan", "at": "2026-11-22T15:00:00Z",
      "instalments": [{"due_date": "2026-12-01", "amount": "1", "interest": "0"}]},
     "event.instalments[0]", "interest"),
    ({"type": "note", "at": "2026-11-22T15:00:00Z", "amout": "1"}, "event", "amout"),
    ({"type": "note", "at": "2026-11-22T15:00:00Z", "stage": ""}, "event.stage", "non-empty"),
])
def test_event_errors_name_the_field(data, where, fragment):
    with pytest.raises(InputError) as info:
        Event.from_dict(data)
    assert info.value.where == where
    assert fragment in str(info.value)


def test_event_fields_are_parsed():
    e = Event.from_dict({"type": "payment_plan", "at": "2026-11-22T15:00:00Z", "id": "E9",
                         "instalments": [{"due_date": "2027-01-01", "amount": "50.5"},
                                         {"due_date": "2026-12-01", "amount": 50}]})
    assert e.id == "E9"
    # instalments are kept in date order whatever order they came in
    assert e.instalments == ((date(2026, 12, 1), Decimal("50")), (date(2027, 1, 1), Decimal("50.5")))
    c = Event.from_dict({"type": "contact_attempt", "at": "2026-11-22T15:00:00Z", "channel": "letter",
                         "outcome": "returned", "stage": "formal_notice", "invoice_id": "I1"})
    assert (c.channel, c.outcome, c.stage, c.invoice_id) == ("letter", "returned", "formal_notice", "I1")


def test_every_contact_outcome_is_accepted():
    for outcome in CONTACT_OUTCOMES:
        e = Event.from_dict({"type": "contact_outcome", "at": "2026-11-22T15:00:00Z", "channel": "call",
                             "outcome": outcome})
        assert e.outcome == outcome


def test_event_must_be_an_object():
    with pytest.raises(InputError) as info:
        Event.from_dict("payment", where="events[0]")
    assert info.value.where == "events[0]"


@pytest.mark.parametrize("amount", ["-50.00", "0"])
def test_instalment_amounts_must_be_positive(amount):
    with pytest.raises(InputError) as info:
        Event.from_dict({"type": "payment_plan", "at": "2026-11-22T15:00:00Z",
                         "instalments": [{"due_date": "2026-12-01", "amount": amount}]})
    assert info.value.where == "event.instalments[0].amount"
