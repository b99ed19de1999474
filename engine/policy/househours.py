"""A policy's house contact hours, compiled into the guardrails' own rule kinds.

`compliance.contact_hours` says when the creditor itself contacts debtors, per channel kind
and debtor type, in the debtor's local time, wherever they live: also where no jurisdiction
profile gives any hours (GB business debtors, the EU, Japan, a US creditor without the
FDCPA). Each entry becomes a `contact_window` rule (and a `public_holidays` rule unless
holidays stay open) with the id `house.<id>`, evaluated exactly like a profile's: windows
intersect, so a profile can only narrow the house hours and the house hours only narrow a
profile's. There is one home for contact hours (`arrears.engine.guardrails.windows`).
"""
from __future__ import annotations

from dataclasses import dataclass

from arrears.engine.guardrails.jurisdiction import HOUSE
from arrears.engine.guardrails.kinds.base import Rule
from arrears.engine.guardrails.kinds.contact_window import ContactWindow
from arrears.engine.guardrails.kinds.public_holidays import PublicHolidays

DEBTOR_TYPES = ("consumer", "business")


@dataclass(frozen=True)
class HouseRule:
    """One rule of the house hours and the debtor types it covers."""

    rule: Rule
    debtor_types: tuple[str, ...]


def compile_house_hours(compliance: dict, policy_name: str) -> tuple[HouseRule, ...]:
    """The rules of a (validated) policy's `compliance.contact_hours`, in order."""
    out = []
    for entry in compliance.get("contact_hours") or ():
        rid = f"{HOUSE}.{entry['id']}"
        source = f"policy {policy_name}, compliance.contact_hours {entry['id']}"
        types = tuple(entry.get("debtor_types") or DEBTOR_TYPES)
        common = {"source": source, "note": entry.get("description", ""),
                  "channels": list(entry["channels"])}
        window = {"id": rid, **common, "weekdays": entry["weekdays"],
                  "weekends": entry["saturday"], "saturday": entry["saturday"],
                  "sunday": entry["sunday"]}
        out.append(HouseRule(ContactWindow.from_spec(window, HOUSE), types))
        if entry.get("holidays", "closed") == "closed":
            holidays = {"id": f"{rid}-holidays", **common, "note": "", "scope": "national"}
            out.append(HouseRule(PublicHolidays.from_spec(holidays, HOUSE), types))
    return tuple(out)
