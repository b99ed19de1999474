"""JSON Schemas of `GET /v1/kpis`: the report `KpiReport.to_dict()` writes (docs/kpis.md)."""
from __future__ import annotations

from arrears.api.openapi.model import OPT_STR, STR, _object, nullable, ref
from arrears.engine.kpis.catalogue import KPIS, NAMES
from arrears.engine.kpis.groups import GROUP_BY
from arrears.engine.kpis.report import COUNT_FIGURES, MONEY_FIGURES, PLACES

COUNT = {"type": "integer", "minimum": 0}
DAY = {"type": "string", "format": "date"}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "A decimal number."}


def kpi_description(k) -> str:
    """A KPI's description in the schema: its definition, unit and direction (the KPI catalogue's)."""
    return f"{k.definition} Unit: {k.unit}; {'higher' if k.better == 'up' else 'lower'} is better."


def components() -> dict:
    """The KPI report's component schemas."""
    value = _object({"value": nullable(DECIMAL), "unit": {"enum": list(PLACES)}, "reason": OPT_STR},
                    ("value", "unit", "reason"),
                    "One KPI: a decimal string (percent and days to 2 places, ratios to 4), or null "
                    "with the reason it cannot be computed (a zero denominator).")
    figures = _object({**{name: ref("Money") for name in MONEY_FIGURES}, **{name: COUNT for name in COUNT_FIGURES},
                       "collection_costs": nullable(ref("Money"))},
                      (*MONEY_FIGURES, *COUNT_FIGURES, "collection_costs"),
                      "The sums the KPIs are computed from (docs/kpis.md).")
    aging = _object({"bucket": STR, "balance": ref("Money"), "count": COUNT}, ("bucket", "balance", "count"))
    roll = _object({"from": STR, "to": STR, "by_balance": ref("KpiValue"), "by_count": ref("KpiValue")},
                   ("from", "to", "by_balance", "by_count"))
    row = _object({"group": STR, "currency": STR, "figures": ref("KpiFigures"),
                   "aging": {"type": "array", "items": aging},
                   "kpis": _object({k.name: {**ref("KpiValue"), "description": kpi_description(k)} for k in KPIS},
                                   NAMES, "The KPIs (docs/kpis.md), each in its unit."),
                   "roll_rates": {"type": "array", "items": roll}},
                  ("group", "currency", "figures", "aging", "kpis", "roll_rates"),
                  "The KPIs of one group of accounts in one currency.")
    policy = _object({"name": STR, "version": STR, "digest": STR}, ("name", "version", "digest"))
    rows = {"type": "array", "items": ref("KpiRow")}
    report = _object({"from": DAY, "to": DAY, "days": {"type": "integer", "minimum": 1}, "months": DECIMAL,
                      "group_by": nullable({"enum": list(GROUP_BY)}), "policy": policy,
                      "buckets": {"type": "array", "items": STR}, "groups": rows, "total": rows},
                     ("from", "to", "days", "months", "group_by", "policy", "buckets", "groups", "total"),
                     "Collection KPIs of a period: per group (`all` when not grouped) and currency, "
                     "and for the whole portfolio (`total`).")
    return {"KpiValue": value, "KpiFigures": figures, "KpiRow": row, "KpiReport": report}
