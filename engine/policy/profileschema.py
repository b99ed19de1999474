"""The profile JSON Schema's rule kinds and rule keys, generated from the kind registry.

`engine/policy/schemas/profile.schema.json` is committed, because editors read it for
autocomplete, but its `$defs.kinds` (the kinds, each with its summary) and `$defs.rule`
(every rule key with its type and meaning, and the keys each kind requires) are generated
from `arrears.engine.guardrails.kinds.KINDS`, and `$defs.actions` (the stage actions a rule
may name) from `arrears.engine.domain.model.STAGE_ACTIONS`; the rest of the file is edited by hand.
After adding or changing a kind, run `python -m arrears.engine.policy.schemagen` (it
rewrites every generated schema); tests/test_rule_kinds.py fails while the file is stale.
"""
from __future__ import annotations

import copy
import inspect
import json

from arrears.engine.domain.model import STAGE_ACTIONS
from arrears.engine.guardrails.kinds import KINDS
from arrears.engine.guardrails.kinds.base import params
from arrears.engine.policy.validation import SCHEMA_DIR

PATH = SCHEMA_DIR / "profile.schema.json"

# Keys every rule has, whatever its kind.
COMMON = {
    "id": {"type": "string", "pattern": "^[a-z0-9-]+\\.[a-z0-9-]+$",
           "description": "Rule id shown in suppressions, e.g. us-regf.call-7-in-7."},
    "kind": {"$ref": "#/$defs/kinds", "description": "What the rule restricts."},
    "source": {"type": "string", "description": "The legal source (regulation and section)."},
    "note": {"type": "string",
             "description": "Plain-words explanation; say 'confirm' for figures from secondary sources."},
}


def _summary(cls) -> str:
    return inspect.getdoc(cls).splitlines()[0]


def _merge(key: str, schemas: list[dict]) -> dict:
    """One schema for a key several kinds take: the same one, or the union of their enums."""
    if all(s == schemas[0] for s in schemas):
        return dict(schemas[0])
    if all(list(s) == ["enum"] for s in schemas):
        return {"enum": list(dict.fromkeys(v for s in schemas for v in s["enum"]))}
    raise ValueError(f"rule key {key!r} is declared differently by several kinds")


def rule_properties(kinds=KINDS) -> dict:
    """Every rule key's schema; a key's description says which kinds take it and what for."""
    uses: dict[str, list] = {}
    for name, cls in kinds.items():
        for key, p in params(cls).items():
            uses.setdefault(key, []).append((name, p))
    out = dict(COMMON)
    for key, declared in uses.items():
        schema = _merge(key, [p.schema for _name, p in declared])
        by_doc: dict[str, list[str]] = {}
        for name, p in declared:
            if p.doc:
                by_doc.setdefault(p.doc, []).append(name)
        if by_doc:
            schema["description"] = "; ".join(f"{', '.join(names)}: {doc}"
                                              for doc, names in by_doc.items()) + "."
        out[key] = schema
    return out


def kinds_schema(kinds=KINDS) -> dict:
    """`$defs.kinds`: the kind names, each with its one-line summary for editors."""
    return {"enum": list(kinds), "markdownEnumDescriptions": [_summary(cls) for cls in kinds.values()]}


def rule_schema(kinds=KINDS) -> dict:
    """`$defs.rule`: the keys of a rule, and the ones each kind requires."""
    required = [(name, [k for k, p in params(cls).items() if p.required]) for name, cls in kinds.items()]
    return {
        "type": "object",
        "required": ["id", "kind", "source"],
        "description": "One rule; which other keys apply depends on `kind`.",
        "properties": rule_properties(kinds),
        "additionalProperties": False,
        "allOf": [{"if": {"properties": {"kind": {"const": name}}}, "then": {"required": keys}}
                  for name, keys in required if keys],
    }


def generate(schema: dict, kinds=KINDS) -> dict:
    """`schema` (the profile schema as committed) with its generated parts regenerated."""
    out = copy.deepcopy(schema)
    out["$defs"]["kinds"] = kinds_schema(kinds)
    out["$defs"]["rule"] = rule_schema(kinds)
    out["$defs"]["actions"]["items"]["enum"] = list(STAGE_ACTIONS)
    return out


def profile_schema(kinds=KINDS) -> dict:
    """The whole profile schema: the committed file with its generated parts regenerated."""
    return generate(json.loads(PATH.read_text(encoding="utf-8")), kinds)
