"""JSON Schemas of `POST /v1/policies:simulate`: the report `SimulationReport.to_dict()` writes.

docs/simulation.md describes every field; tests check every response against these.
"""
from __future__ import annotations

from arrears.api.openapi.model import OPT_STR, STR, TIME, _object, nullable, ref

INT = {"type": "integer", "minimum": 0}
DAY = {"type": "string", "format": "date"}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "A decimal amount."}


def _pair(key: str, value: dict, description: str) -> dict:
    return _object({key: value, "active": INT, "candidate": INT}, (key, "active", "candidate"), description)


def _offers() -> dict:
    early = _object({"offers": INT, "discount": DECIMAL}, ("offers", "discount"))
    settlement = _object({"offers": INT, "amount": DECIMAL, "discount": DECIMAL, "requires_approval": INT},
                         ("offers", "amount", "discount", "requires_approval"))
    return _object({"early_payment_discount": early, "settlement": settlement},
                   ("early_payment_discount", "settlement"), "Incentives one policy offers in one currency.")


def _side() -> dict:
    action = _object({"type": STR, "stage": STR, "attempt": INT, "channel": STR, "not_before": TIME,
                      "reason": STR}, ("type", "stage", "attempt", "channel", "not_before", "reason"))
    return _object({"stage": OPT_STR, "action": nullable(action),
                    "suppressions": {"type": "array", "items": ref("Suppression")},
                    "trace": {"type": "array", "items": ref("TraceStep"),
                              "description": "The trace lines that differ from the other policy's."}},
                   ("stage", "action", "suppressions", "trace"), "One policy's decision for a sampled account.")


def _newly() -> dict:
    rule = _object({"rule": STR, "accounts": INT}, ("rule", "accounts"))
    held = _object({"account_id": STR, "rules": {"type": "array", "items": ref("Suppression")}},
                   ("account_id", "rules"))
    return _object({"accounts": INT, "by_rule": {"type": "array", "items": rule},
                    "sample": {"type": "array", "items": held}}, ("accounts", "by_rule", "sample"))


def components() -> dict:
    """The simulation's component schemas."""
    change = _object({"account_id": STR, "from": OPT_STR, "to": OPT_STR, "active": ref("SimulatedDecision"),
                      "candidate": ref("SimulatedDecision")}, ("account_id", "from", "to", "active", "candidate"),
                     "A sampled account whose stage differs, with the reasons from both policies.")
    transition = _object({"from": OPT_STR, "to": OPT_STR, "accounts": INT}, ("from", "to", "accounts"))
    changes = _object({"stage": INT, "decision": INT, "transitions": {"type": "array", "items": transition},
                       "sample_size": INT, "sample": {"type": "array", "items": change}},
                      ("stage", "decision", "transitions", "sample_size", "sample"))
    by_channel = _object({"channel": STR, "kind": STR, "day": DAY, "active": INT, "candidate": INT},
                         ("channel", "kind", "day", "active", "candidate"))
    by_kind = _object({"kind": STR, "day": DAY, "capacity": nullable(INT), "active": INT, "candidate": INT,
                       "active_over": INT, "candidate_over": INT},
                      ("kind", "day", "capacity", "active", "candidate", "active_over", "candidate_over"))
    capacity = _object({"source": STR, "limits": {"type": "object", "additionalProperties": INT},
                        "timezones": {"type": "object", "additionalProperties": STR},
                        "routes": {"type": "object", "additionalProperties": STR}},
                       ("source", "limits", "timezones", "routes"))
    contacts = _object({"by_channel": {"type": "array", "items": by_channel},
                        "by_kind": {"type": "array", "items": by_kind}, "capacity": capacity},
                       ("by_channel", "by_kind", "capacity"))
    currency = _object({"currency": STR, "active": ref("SimulatedOffers"), "candidate": ref("SimulatedOffers")},
                       ("currency", "active", "candidate"))
    suppressions = _object({"active": INT, "candidate": INT, "newly_suppressed": ref("SimulatedSuppressions"),
                            "newly_released": ref("SimulatedSuppressions")},
                           ("active", "candidate", "newly_suppressed", "newly_released"))
    props = {
        "format": {"const": "simulation/1"}, "evaluated_at": TIME, "read_only": {"const": True},
        "policies": _object({"active": ref("PolicyRef"), "candidate": ref("PolicyRef")}, ("active", "candidate")),
        "accounts": INT,
        "stages": {"type": "array", "items": _pair("stage", OPT_STR, "Accounts per stage (null: none).")},
        "actions": {"type": "array", "items": _pair("action", OPT_STR, "Accounts per action (null: none).")},
        "changes": changes, "suppressions": suppressions,
        "incentives": {"type": "array", "items": currency}, "contacts": contacts,
    }
    report = _object(props, tuple(props), "A candidate policy next to the active one over every stored "
                     "account at one instant (docs/simulation.md). Nothing is stored.")
    return {"SimulationReport": report, "SimulatedDecision": _side(), "SimulatedOffers": _offers(),
            "SimulatedSuppressions": _newly()}
