"""The policy JSON Schema's catalogue-derived parts, generated from the fact catalogue.

`engine/policy/schemas/policy.schema.json` is a committed file because editors read it
(autocomplete, hover text, inline errors) and the validator loads it as it is. Most of it
is written by hand, but these parts restate the fact catalogue
(`arrears.engine.facts.catalogue`) and the channel kinds (`arrears.engine.domain.model`),
so they are generated, never edited:

- the built-in fact names (`$defs/factCondition/properties/fact/else/enum`) and their
  hover texts (`markdownEnumDescriptions`: kind, optional, meaning, values, parameters);
- the plugin-fact namespace (`fact/if` and `fact/then`: the `x_` prefix and name pattern);
- the fact parameters (`window_days` with its default, `channel` with the channel kinds);
- the operators the kinds allow (one property and one `oneOf` branch each);
- the channel kinds a channel may have (`channels/*/kind`), and the default retry time of a
  failed channel per kind (`channels/*/retry_after_hours`, from `domain.model.RETRY_AFTER_HOURS`);
- a stage's actions (`stages/*/action`, from `domain.model.STAGE_ACTIONS`);
- the keys of a stage's (and a stage variant's) template-per-kind mapping (`stages/*/template`,
  `stages/*/variants/*/template`: each kind, and `written`).

Everything else in the file is left exactly as written. After changing the catalogue, run
`python -m arrears.engine.policy.schemagen` (it rewrites every generated schema);
tests/test_schema.py fails, printing that command, while the committed file is stale.
"""
from __future__ import annotations

import copy

from arrears.engine.domain.kinds import BUILTIN_NAMES as CHANNEL_KINDS
from arrears.engine.domain.kinds import BUILTIN_RETRY_HOURS as RETRY_AFTER_HOURS
from arrears.engine.domain.kinds import BUILTIN_WRITTEN as WRITTEN_KINDS
from arrears.engine.domain.model import STAGE_ACTIONS
from arrears.engine.facts.catalogue import (
    FACTS,
    OPERATORS,
    PARAM_DEFAULTS,
    PLUGIN_FACT_PATTERN,
    PLUGIN_PREFIX,
)

_SCALAR = ["string", "number", "boolean"]
_ORDERED = ["string", "number"]
# The schema of each operator's value, in the order the schema lists them. The catalogue says
# which operators exist (OPERATORS); a new one needs its value described here.
OPERATOR_SCHEMAS = {
    "eq": {"description": "Equal to this value.", "type": _SCALAR},
    "ne": {"description": "Not equal to this value.", "type": _SCALAR},
    "lt": {"description": "Less than this value (money as a decimal string).", "type": _ORDERED},
    "lte": {"description": "Less than or equal to this value.", "type": _ORDERED},
    "gt": {"description": "Greater than this value.", "type": _ORDERED},
    "gte": {"description": "Greater than or equal to this value.", "type": _ORDERED},
    "in": {"description": "One of these values.", "type": "array", "minItems": 1, "items": {"type": _SCALAR}},
    "not_in": {"description": "None of these values.", "type": "array", "minItems": 1, "items": {"type": _SCALAR}},
    "between": {"description": "Within [low, high], both ends included.", "type": "array", "minItems": 2,
                "maxItems": 2, "items": {"type": _ORDERED}},
    "contains": {"description": "The set fact contains this code.", "type": "string"},
    "not_contains": {"description": "The set fact does not contain this code.", "type": "string"},
    "exists": {"description": "true: the fact is known for the account; false: it is missing.", "type": "boolean"},
}


def _param_schemas() -> dict:
    """The schema of each fact parameter the catalogue uses (a new one needs describing here)."""
    return {
        "window_days": {"type": "integer", "description": "Look-back window in days for counting facts "
                                                          f"(default {PARAM_DEFAULTS['window_days']}).",
                        "minimum": 1},
        "channel": {"description": "Count only contacts on this channel kind.", "enum": list(CHANNEL_KINDS)},
    }


def fact_description(fact) -> str:
    """A fact's hover text in editors: `(kind) meaning`, then its parameters if it takes any."""
    kind = fact.kind + (", optional" if fact.optional else "")
    params = f" Parameters: {', '.join(fact.params)}." if fact.params else ""
    values = f" Values: {', '.join(fact.choices)}." if fact.choices else ""
    return f"({kind}) {fact.description}{values}{params}"


def _operators() -> list[str]:
    used = {op for ops in OPERATORS.values() for op in ops}
    missing = sorted(used - set(OPERATOR_SCHEMAS))
    if missing:
        raise ValueError(f"operator(s) {', '.join(missing)} of the fact catalogue have no value schema in "
                         "schemagen.OPERATOR_SCHEMAS")
    return [op for op in OPERATOR_SCHEMAS if op in used]


def _params() -> list[str]:
    names = list(dict.fromkeys(p for fact in FACTS.values() for p in fact.params))
    missing = [p for p in names if p not in _param_schemas()]
    if missing:
        raise ValueError(f"fact parameter(s) {', '.join(missing)} have no schema in schemagen._param_schemas")
    return names


def generate(schema: dict) -> dict:
    """A copy of the policy schema `schema` with every catalogue-derived part rewritten."""
    out = copy.deepcopy(schema)
    leaf = out["$defs"]["factCondition"]
    fact = leaf["properties"]["fact"]
    fact["if"] = {"pattern": "^" + PLUGIN_PREFIX}
    fact["then"] = {**fact.get("then", {}), "pattern": PLUGIN_FACT_PATTERN}
    fact["else"] = {"enum": list(FACTS), "markdownEnumDescriptions": [fact_description(f) for f in FACTS.values()]}
    params, operators = _param_schemas(), _operators()
    leaf["properties"] = {"fact": fact, **{p: params[p] for p in _params()},
                          **{op: copy.deepcopy(OPERATOR_SCHEMAS[op]) for op in operators}}
    leaf["oneOf"] = [{"required": [op]} for op in operators]
    channel = out["properties"]["channels"]["additionalProperties"]["properties"]
    channel["kind"]["enum"] = list(CHANNEL_KINDS)
    channel["retry_after_hours"] = _retry_schema()
    stage = out["properties"]["escalation"]["properties"]["stages"]["items"]["properties"]
    stage["action"]["enum"] = list(STAGE_ACTIONS)
    stage["template"]["properties"] = _template_keys()
    stage["variants"]["items"]["properties"]["template"]["properties"] = _template_keys()
    return out


def with_kinds(schema: dict, kinds) -> dict:
    """A copy of the policy schema `schema` that also allows the plugin channel kinds `kinds`
    (names) wherever a channel kind is written: a channel's `kind`, the `channel` fact
    parameter, a stage's template-per-kind keys, the kinds house contact hours cover. The committed file knows the built-ins only
    (editors accept nothing else); `arrears validate` and the loaders check against this."""
    out = copy.deepcopy(schema)
    names = [*CHANNEL_KINDS, *(k for k in kinds if k not in CHANNEL_KINDS)]
    out["properties"]["channels"]["additionalProperties"]["properties"]["kind"]["enum"] = names
    out["$defs"]["factCondition"]["properties"]["channel"]["enum"] = names
    hours = out["properties"]["compliance"]["properties"]["contact_hours"]["items"]["properties"]["channels"]["items"]
    hours["enum"] = [*hours["enum"], *names[len(CHANNEL_KINDS):]]
    stage = out["properties"]["escalation"]["properties"]["stages"]["items"]["properties"]
    for where in (stage["template"], stage["variants"]["items"]["properties"]["template"]):
        for name in names[len(CHANNEL_KINDS):]:
            where["properties"][name] = {"type": "string", "description": f"Template id for the stage's {name} channels."}
    return out


def _retry_schema() -> dict:
    """`channels/*/retry_after_hours`: its meaning and the default of each channel kind."""
    defaults = ", ".join(f"{kind} {hours}" for kind, hours in RETRY_AFTER_HOURS.items())
    return {"type": "integer", "minimum": 1, "maximum": 8760,
            "description": "Hours after a failed contact attempt on this channel before it is tried "
                           "again for the same stage (meanwhile the stage's other channels are used; "
                           "with none, the step waits and the suppression says until when). "
                           f"Default by kind: {defaults}."}


def _template_keys() -> dict:
    """The keys of a stage's template-per-kind mapping: every channel kind, then `written`."""
    keys = {kind: {"type": "string", "description": f"Template id for the stage's {kind} channels."}
            for kind in CHANNEL_KINDS}
    keys["written"] = {"type": "string", "description": "Template id for the stage's "
                                                        f"{', '.join(WRITTEN_KINDS)} channels "
                                                        "(a kind named itself wins)."}
    return keys
