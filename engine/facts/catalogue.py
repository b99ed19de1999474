"""The catalogue of facts that policy conditions may use.

This is the single source of truth. The policy JSON Schema's fact names, hover texts,
parameters and operators are generated from it (`python -m arrears.engine.policy.schemagen`,
engine/policy/schemagen.py; tests/test_schema.py fails while the committed schema is stale);
the condition compiler's columns (engine/policy/conditions.py) and docs/facts.md are checked
against it by tests/test_fact_catalogue.py. A new fact is an entry here, its column there,
a test of its values and a row in docs/facts.md.

Plugins add facts of their own (`arrears_facts`, see `plugins/facts.py`). Their names
live in a namespace of their own, `x_…`, which no built-in fact name may ever use, so a
plugin fact can never collide with a built-in one added later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from arrears.engine.domain.model import DEBTOR_TYPES

# Value kinds a fact may have; they decide which operators apply.
INT = "int"          # whole number (days, counts)
NUMBER = "number"    # real number (ratios, scores)
MONEY = "money"      # decimal amount in the account's currency (major units)
STRING = "string"    # a code such as a jurisdiction or a tier
SET = "set"          # a set of codes (tags, channel kinds)
BOOL = "bool"

OPERATORS = {
    INT: ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between", "exists"),
    NUMBER: ("eq", "ne", "lt", "lte", "gt", "gte", "between", "exists"),
    MONEY: ("eq", "ne", "lt", "lte", "gt", "gte", "between", "exists"),
    STRING: ("eq", "ne", "in", "not_in", "exists"),
    SET: ("contains", "not_contains", "exists"),
    BOOL: ("eq", "ne", "exists"),
}

# The plugin-fact namespace. The schema's pattern for plugin fact names is this one.
PLUGIN_PREFIX = "x_"
PLUGIN_FACT_PATTERN = r"^x_[a-z][a-z0-9_]*$"
_PLUGIN_FACT = re.compile(PLUGIN_FACT_PATTERN)


def is_plugin_fact(name) -> bool:
    """True if `name` is in the plugin-fact namespace (`x_…`), well formed or not."""
    return isinstance(name, str) and name.startswith(PLUGIN_PREFIX)


def valid_plugin_fact_name(name) -> bool:
    """True if `name` is a well-formed plugin fact name: `x_` then lower_snake_case."""
    return isinstance(name, str) and _PLUGIN_FACT.match(name) is not None


@dataclass(frozen=True)
class FactDef:
    """One fact: its name, value kind, accepted parameters and meaning."""

    name: str
    kind: str
    description: str
    params: tuple[str, ...] = ()
    optional: bool = False   # may be missing for an account; comparisons are then false
    plugin: str = ""         # the plugin providing it ("" for a built-in fact)
    # The only values a string/set fact takes, if it is enumerated (built in, or a plugin fact
    # declaring them): a condition comparing it with another value is a policy problem.
    choices: tuple[str, ...] = ()


def _f(name, kind, description, params=(), optional=False, choices=()):
    return FactDef(name, kind, description, tuple(params), optional, choices=tuple(choices))


FACTS: dict[str, FactDef] = {f.name: f for f in (
    _f("days_past_due", INT, "Days since the oldest unpaid, undisputed due date, in the "
       "debtor's local time; negative before it is due."),
    _f("balance", MONEY, "Open balance still being collected (disputed amounts excluded "
       "when disputes pause per invoice)."),
    _f("total_balance", MONEY, "Open balance including disputed amounts."),
    _f("overdue_balance", MONEY, "Open amount of invoices already past their due date."),
    _f("disputed_amount", MONEY, "Open amount under an unresolved dispute."),
    _f("open_invoices", INT, "Number of invoices with an open amount."),
    _f("overdue_invoices", INT, "Number of open invoices past their due date."),
    _f("bucket", STRING, "Name of the aging bucket the account falls in."),
    _f("debtor_type", STRING, "`consumer` or `business`.", choices=DEBTOR_TYPES),
    _f("jurisdiction", STRING, "ISO 3166 country with optional subdivision, e.g. US-MA.",
       optional=True),
    _f("country", STRING, "The country part of the jurisdiction, e.g. US.", optional=True),
    _f("language", STRING, "The debtor's preferred language (ISO 639-1)."),
    _f("currency", STRING, "ISO 4217 currency of the account."),
    _f("relationship_tier", STRING, "Relationship tier from the CRM, e.g. strategic.",
       optional=True),
    _f("account_manager", STRING, "The account manager named on the account, e.g. to route "
       "contact to them when one is set.", optional=True),
    _f("tags", SET, "Free-form tags set on the account."),
    _f("risk_score", NUMBER, "External risk score from 0 (safe) to 1 (risky).", optional=True),
    _f("on_time_ratio", NUMBER, "Share of past invoices paid on time, 0 to 1.", optional=True),
    _f("payments", INT, "Payments received in the last `window_days` days.",
       params=("window_days",)),
    _f("paid_amount", MONEY, "Amount received in the last `window_days` days.",
       params=("window_days",)),
    _f("days_since_last_payment", INT, "Days since the last payment.", optional=True),
    _f("contacts", INT, "Contact attempts in the last `window_days` days, on one channel "
       "kind if `channel` is given.", params=("window_days", "channel")),
    _f("conversations", INT, "Contacts that reached the debtor (a conversation) in the last "
       "`window_days` days.", params=("window_days",)),
    _f("days_since_last_contact", INT, "Days since the last contact attempt.", optional=True),
    _f("promises_broken", INT, "Promises to pay broken in the last `window_days` days.",
       params=("window_days",)),
    _f("promise_open", BOOL, "A promise to pay is pending (its date has not passed)."),
    _f("plan_active", BOOL, "A payment plan is in force."),
    _f("plan_in_good_standing", BOOL, "A payment plan is in force and no instalment is missed."),
    _f("dispute_open", BOOL, "Any invoice has an unresolved dispute."),
    _f("hardship", BOOL, "A hardship notice is in force."),
    _f("cease_communication", BOOL, "The debtor asked us to stop communicating."),
    _f("bankrupt", BOOL, "The debtor is in bankruptcy or insolvency."),
    _f("deceased", BOOL, "The debtor is deceased."),
    _f("represented", BOOL, "The debtor is represented (attorney, debt adviser)."),
    _f("breathing_space", BOOL, "A statutory breathing space is in force."),
    _f("on_hold", BOOL, "A manual hold is in force."),
    _f("opted_out", SET, "Channel kinds the debtor opted out of."),
    _f("reachable", SET, "Channel kinds we hold contact details for and that are not "
       "opted out."),
    _f("last_stage", STRING, "The escalation stage reached in the current episode.",
       optional=True),
    _f("local_hour", INT, "Hour of day (0-23) in the debtor's time zone."),
    _f("local_weekday", INT, "ISO weekday (1 = Monday … 7 = Sunday) in the debtor's time zone."),
)}

PARAM_DEFAULTS = {"window_days": 30}
