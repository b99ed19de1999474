"""JSON Schemas (OpenAPI 3.1 = JSON Schema 2020-12) of the engine's own values.

Accounts and events as `Account.from_dict` / `Event.from_dict` accept them, and the
`Decision` exactly as `Decision.to_dict` writes it. The API validates request
envelopes against these schemas and leaves accounts and events to the engine's
parsers (which name the field that is wrong); `tests/api` check every response
against the document, so the two cannot drift apart unnoticed.
"""
from __future__ import annotations

from arrears.engine.domain.model import (
    CHANNEL_KINDS,
    CONTACT_OUTCOMES,
    CONTROL_CHARACTERS,
    DATE_PATTERN,
    DEBTOR_TYPES,
    EVENT_TYPES,
    INSTANT_PATTERN,
    NAME_MAX,
    NOTE_MAX,
    TIMEZONES,
)
from arrears.engine.domain.kinds import DEBTOR_FACING_KINDS
from arrears.engine.domain.money import AMOUNT_PATTERN
from arrears.engine.domain.requests import WEEKDAYS


def ref(name: str) -> dict:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    """`schema` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}
# Dates and instants as the engine reads them (`parse_date`, `parse_instant` match these patterns).
DATE = {"type": "string", "format": "date", "pattern": DATE_PATTERN, "examples": ["2026-10-01"],
        "description": "A calendar date YYYY-MM-DD, years 1900-2199."}
INSTANT = {"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN,
           "examples": ["2026-11-22T15:00:00Z"],
           "description": "An RFC 3339 time with seconds and an offset (`Z` or `+01:00`), at most six "
                          "fractional digits, years 1970-2199 as written."}
DIGEST = {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$",
          "description": "A stored policy version's digest (`sha256:` and 64 hex digits)."}
# A pattern rather than an enum: the same set, stated as compactly, without tools that walk an
# enum value by value (schema fuzzers, form builders) trying all 600 names.
TIMEZONE = {"type": "string", "pattern": "^(" + "|".join(z.replace("+", r"\+") for z in TIMEZONES) + ")$",
            "description": "An IANA time zone name, such as Europe/London (exactly one of those the "
                           "pattern lists)."}
UNIT = {"type": "number", "minimum": 0, "maximum": 1}
AMOUNT = {"description": "A decimal amount in the account's currency (major units), e.g. \"120.50\"; no "
                         "finer than the currency's minor unit (2 decimal places for most, 0 for JPY) and "
                         "at most 10^14 minor units.",
          "anyOf": [{"type": "string", "pattern": AMOUNT_PATTERN.replace("-?", "")},
                    {"type": "number", "minimum": 0}]}
POSITIVE_AMOUNT = {"description": "A positive decimal amount, e.g. \"50.00\".",
                   "anyOf": [{"type": "string", "pattern": r"^[0-9]*[1-9][0-9]*(\.[0-9]+)?$|"
                                                           r"^[0-9]+\.[0-9]*[1-9][0-9]*$"},
                             {"type": "number", "exclusiveMinimum": 0}]}


def _object(properties: dict, required=(), description: str = "", closed: bool = True) -> dict:
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


INVOICE = _object({"id": TEXT, "amount": AMOUNT, "due_date": DATE, "issued_date": nullable(DATE)},
                  ("id", "amount", "due_date"), "One receivable; payments arrive as events.")

_ONE_LINE = f"[^{CONTROL_CHARACTERS}\\t\\r\\n]"        # a character of a one-line text (a contact's name)
CONTACT = _object({"name": nullable({**TEXT, "maxLength": NAME_MAX,
                                      # one character neither blank nor a control character
                                      "pattern": f"^{_ONE_LINE}*[^{CONTROL_CHARACTERS}\\s]{_ONE_LINE}*$",
                                      "description": "The debtor's name, on one line: greeted in messages "
                                                     "(`account.name`), searched in the console."}),
                   **{k: nullable(TEXT) for k in ("email", "phone", "mobile", "address")},
                   "preferred_channels": nullable({"type": "array", "items": {"enum": CHANNEL_KINDS}})},
                  description="How the debtor can be reached.")

ACCOUNT = _object({
    "id": TEXT,
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code"},
    "invoices": nullable({"type": "array", "items": ref("Invoice")}),
    "debtor_type": {"enum": list(DEBTOR_TYPES), "default": "consumer"},
    **{k: nullable(TEXT) for k in ("jurisdiction", "language", "relationship_tier",
                                   "account_manager", "debtor_id")},
    "timezone": nullable(ref("TimeZone")),
    "tags": nullable({"type": "array", "items": TEXT}),
    "risk_score": nullable(UNIT),
    "on_time_ratio": nullable(UNIT),
    "contact": nullable(ref("Contact")),
    "other_timezones": nullable({"type": "array", "items": ref("TimeZone")}),
}, ("id", "currency"), "A debtor account. `timezone` is an IANA zone such as Europe/London.")

# PUT /v1/accounts/{account_id}: the id comes from the path, so the body may leave it out.
ACCOUNT_AT_PATH = {**ACCOUNT, "required": ["currency"],
                   "description": "An account whose id is in the path (`id`, if given, must match it)."}

INSTALMENT = _object({"due_date": DATE, "amount": POSITIVE_AMOUNT}, ("due_date", "amount"))


def _event_rules() -> list[dict]:
    """Per event type, the fields it requires (EVENT_TYPES); `representative` and `wishes` only on
    the one type that carries each (null elsewhere)."""
    rules = [{"if": {"properties": {"type": {"not": {"const": owner}}}, "required": ["type"]},
              "then": {"properties": {key: {"type": "null"}}}}
             for key, owner in (("representative", "represented"), ("wishes", "contact_preference"))]
    for etype, needed in EVENT_TYPES.items():
        if needed:
            # present and not null (`Event.from_dict` reads null as missing); a plan not empty
            then = {"required": list(needed), "properties": {name: {"not": {"type": "null"}} for name in needed}}
            if "instalments" in needed:
                then["properties"]["instalments"] = {"type": "array", "minItems": 1}
            rules.append({"if": {"properties": {"type": {"const": etype}}, "required": ["type"]},
                          "then": then})
    return rules


_HOURS = _object({"start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                  "end": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}},
                 ("start", "end"), "Local hours HH:MM, start before end.")
REPRESENTATIVE = _object({
    "name": TEXT, "firm": nullable(TEXT),
    "email": nullable({**TEXT, "description": "An email address (name@example.com)."}),
    "phone": nullable({**TEXT, "description": "A phone number: digits, optional +, spaces, brackets, dots "
                                              "or dashes; at least 6 digits."}),
    "address": nullable(TEXT),
}, ("name",), "Who represents the debtor (only on a `represented` event). Contact goes to them by "
              "email, call or letter; with none of those, a manual-review task is created.")
WISHES = {**_object({
    "hours": nullable(_HOURS),
    "days": nullable({"type": "array", "minItems": 1, "items": {"enum": list(WEEKDAYS)}}),
    # the live table: the debtor-facing kinds plugins add count
    "channels": nullable({"type": "array", "minItems": 1, "items": {"enum": DEBTOR_FACING_KINDS}}),
    "no_contact_at_work": {"type": "boolean"},
    "working_hours": nullable(_HOURS),
    "language": nullable({"type": "string", "pattern": "^[a-z]{2}$"}),
}, description="The debtor's own wishes (only on a `contact_preference` event, which replaces earlier "
               "ones; `{}` withdraws them): welcome hours and weekdays, the only channels to use, no call "
               "or text at work (working_hours only with no_contact_at_work; default 09:00-17:00), "
               "the language to write in."),
    # working_hours only with no_contact_at_work: true
    "if": {"properties": {"working_hours": {"type": "object"}}, "required": ["working_hours"]},
    "then": {"properties": {"no_contact_at_work": {"const": True}}, "required": ["no_contact_at_work"]},
}

EVENT = {
    **_object({
        "type": {"enum": list(EVENT_TYPES)},
        "at": INSTANT,
        "id": nullable(TEXT),
        "amount": nullable(POSITIVE_AMOUNT),
        "invoice_id": nullable(TEXT),
        "channel": nullable({"enum": CHANNEL_KINDS}),   # the live table: kinds plugins add count
        "stage": nullable(TEXT),
        "outcome": nullable({"enum": list(CONTACT_OUTCOMES)}),
        "until": nullable(DATE),
        "instalments": nullable({"type": "array", "items": ref("Instalment")}),
        "note": nullable({**TEXT, "maxLength": NOTE_MAX,
                          # not blank, no control characters (the engine's `_note`)
                          "pattern": f"^[^{CONTROL_CHARACTERS}]*[^{CONTROL_CHARACTERS}\\s][^{CONTROL_CHARACTERS}]*$",
                          "description": "Free text (the text of a `note` event, a call summary …); "
                                         "no control characters except tab and line breaks. Never "
                                         "affects a decision."}),
        "representative": nullable(ref("Representative")),
        "wishes": nullable(ref("Wishes")),
    }, ("type", "at"), "One fact in an account's history; which fields matter depends on `type`."),
    "allOf": _event_rules(),
}

MONEY = _object({"amount": {"type": "string"}, "currency": {"type": "string"}}, ("amount", "currency"),
                "Money: a decimal string and its ISO 4217 currency.")
TIME = {"type": "string", "format": "date-time"}
OPT_TIME = nullable(TIME)
STR = {"type": "string"}
OPT_STR = nullable(STR)

DECISION_PARTS = {
    "PolicyRef": _object({k: STR for k in ("name", "version", "digest", "profiles_digest")},
                         ("name", "version", "digest", "profiles_digest")),
    "Priority": _object({"score": {"type": "number"},
                         "contributions": {"type": "object", "additionalProperties": {"type": "number"}}},
                        ("score", "contributions")),
    "Action": _object({"type": STR, "stage": STR, "attempt": {"type": "integer"}, "channel": STR,
                       "channel_kind": STR, "template": STR, "tone": STR, "language": STR,
                       "not_before": TIME, "reason": STR, "account_manager": OPT_STR,
                       "content": {"type": "array", "items": STR},
                       "recipient": _object({"role": {"enum": ["representative", "review"]},
                                             "representative": ref("Representative")}, ("role",),
                                            "Only for a represented debtor: the message goes to the "
                                            "representative, or is a manual-review task for staff."),
                       "assignee": {"type": "string",
                                    "description": "Only when the stage is assigned to the account "
                                                   "manager (`assign_to: account_manager`), the account has "
                                                   "one and the step is a call or task: the manager who "
                                                   "works it."}},
                      ("type", "stage", "attempt", "channel", "channel_kind", "template", "tone",
                       "language", "not_before", "reason", "account_manager", "content")),
    "Offer": _object({"kind": STR, "amount": ref("Money"), "discount": ref("Money"),
                      "expires_at": TIME, "requires_approval": {"type": "boolean"},
                      "approval_reasons": {"type": "array", "items": STR,
                                           "description": "Only when approval is needed: which figure "
                                                          "is above which threshold, e.g. \"balance "
                                                          "12000.00 GBP is above 10000.00 GBP\"."}},
                     ("kind", "amount", "discount", "expires_at", "requires_approval")),
    "Suppression": _object({"rule": STR, "reason": STR, "until": OPT_TIME}, ("rule", "reason", "until")),
    "Fees": _object({"late_fee": ref("Money"), "interest": ref("Money"), "frozen": {"type": "boolean"},
                     "note": OPT_STR}, ("late_fee", "interest", "frozen", "note")),
    "TraceStep": _object({"step": STR, "outcome": STR, "detail": STR,
                          "source": {"type": "string", "description": "Where the step's rule is written in "
                                     "the policy, as file:line:col; empty for the engine's own steps."}},
                         ("step", "outcome", "detail", "source")),
}

_DECISION_PROPS = {
    "account_id": STR, "evaluated_at": TIME, "policy": ref("PolicyRef"),
    "days_past_due": nullable({"type": "integer"}), "bucket": STR,
    "balance": ref("Money"), "total_balance": ref("Money"), "overdue_balance": ref("Money"),
    "disputed_amount": ref("Money"), "priority": ref("Priority"),
    "segments": {"type": "array", "items": STR}, "stage": OPT_STR,
    "action": nullable(ref("Action")),
    "offers": {"type": "array", "items": ref("Offer")},
    "suppressions": {"type": "array", "items": ref("Suppression")},
    "fees": nullable(ref("Fees")), "profiles": {"type": "array", "items": STR},
    "next_evaluation_at": TIME,
    "trace": {"type": "array", "items": ref("TraceStep"),
              "description": "Every step of the evaluation in plain words: the explanation. "
                             "Present when asked for (`?trace=true`)."},
}
DECISION = _object(_DECISION_PROPS, tuple(k for k in _DECISION_PROPS if k != "trace"),
                   "What the engine decided for one account at one moment, and why.")

COMPONENTS = {"TimeZone": TIMEZONE, "Account": ACCOUNT, "AccountAtPath": ACCOUNT_AT_PATH, "Invoice": INVOICE, "Contact": CONTACT,
              "Event": EVENT,
              "Instalment": INSTALMENT, "Representative": REPRESENTATIVE,
              "Wishes": WISHES, "Money": MONEY, "Decision": DECISION, **DECISION_PARTS}

# Parsed by the engine (Account.from_dict, Event.from_dict), not by the envelope validator.
ENGINE_PARSED = ("Account", "AccountAtPath", "Event")
