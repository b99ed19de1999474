"""The policy JSON Schema and the readable, located problems built from its errors."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from arrears.engine.facts import catalogue as factdefs
from arrears.engine.policy import policyschema, schemagen
from arrears.engine.policy.validation import SCHEMA_DIR, policy_schema

DEFAULT = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
TEXT = DEFAULT.read_text(encoding="utf-8")


def mutate(edits, anchor):
    """Apply (old, new) edits to default.yaml; return the text and where `anchor` now is.

    `anchor` is looked for from the line of the first edit on, so it names the spot the problem
    must point at without hard-coding line numbers of default.yaml.
    """
    text = TEXT
    for old, new in edits:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    at = text.index(anchor, text.rfind("\n", 0, text.index(edits[0][1])) + 1)
    return text, (text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1)


def walk(schema, path=""):
    """Every (path, subschema) in the schema."""
    yield path, schema
    for key, value in schema.items():
        if isinstance(value, dict):
            yield from walk(value, f"{path}/{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield from walk(item, f"{path}/{key}/{i}")


def test_schema_is_valid_draft_2020_12():
    schema = policy_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]


def test_fact_enum_is_the_fact_catalogue_and_plugin_facts_have_their_namespace():
    fact = policy_schema()["$defs"]["factCondition"]["properties"]["fact"]
    builtin = fact["else"]
    assert builtin["enum"] == list(factdefs.FACTS)
    assert len(builtin["markdownEnumDescriptions"]) == len(factdefs.FACTS)
    # x_… names are plugin facts: the schema checks their shape, `validate` who provides them
    assert fact["if"] == {"pattern": "^" + factdefs.PLUGIN_PREFIX}
    assert fact["then"]["pattern"] == factdefs.PLUGIN_FACT_PATTERN
    assert not any(factdefs.is_plugin_fact(name) for name in factdefs.FACTS)
    validator = Draft202012Validator({"$defs": policy_schema()["$defs"], **fact})
    assert [e.validator for e in validator.iter_errors("x_crm_strategic")] == []
    assert [e.validator for e in validator.iter_errors("x_CRM")] == ["pattern"]
    assert [e.validator for e in validator.iter_errors("balanc")] == ["enum"]
    assert [e.validator for e in validator.iter_errors(3)] == ["type"]


def test_the_committed_schema_is_generated_from_the_fact_catalogue():
    committed, generated = schemagen.regenerated()[SCHEMA_DIR / "policy.schema.json"]
    if committed != generated:
        pytest.fail("engine/policy/schemas/policy.schema.json is stale: the fact catalogue or the channel kinds "
                    f"changed. Regenerate it with `{schemagen.COMMAND}` and commit the result.", pytrace=False)


def test_a_new_fact_reaches_the_schema_through_the_generator(monkeypatch):
    fact = factdefs.FactDef("days_to_next_thing", factdefs.INT, "Days until the next thing.", ("window_days",),
                            optional=True)
    monkeypatch.setattr(policyschema, "FACTS", {**factdefs.FACTS, fact.name: fact})
    generated = policyschema.generate(policy_schema())["$defs"]["factCondition"]["properties"]["fact"]["else"]
    assert generated["enum"][-1] == "days_to_next_thing"
    assert generated["markdownEnumDescriptions"][-1] == ("(int, optional) Days until the next thing. "
                                                         "Parameters: window_days.")
    # what is not derived from the catalogue is left as written
    assert policyschema.generate(policy_schema())["properties"]["metadata"] == policy_schema()["properties"]["metadata"]


def test_an_operator_or_parameter_the_generator_cannot_describe_is_an_error(monkeypatch):
    monkeypatch.setattr(policyschema, "OPERATORS", {**factdefs.OPERATORS, factdefs.STRING: ("eq", "matches")})
    with pytest.raises(ValueError, match="operator.*matches.*OPERATOR_SCHEMAS"):
        policyschema.generate(policy_schema())
    monkeypatch.undo()
    fact = factdefs.FactDef("calls", factdefs.INT, "Calls.", ("outcome",))
    monkeypatch.setattr(policyschema, "FACTS", {**factdefs.FACTS, "calls": fact})
    with pytest.raises(ValueError, match="parameter.*outcome"):
        policyschema.generate(policy_schema())


def test_the_generator_command_checks_and_rewrites(tmp_path, capsys):
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, schemas)
    stale = policy_schema() | {"$defs": {**policy_schema()["$defs"]}}
    stale["$defs"]["factCondition"] = {**stale["$defs"]["factCondition"], "oneOf": []}
    path = schemas / "policy.schema.json"
    path.write_text(schemagen.render(stale), encoding="utf-8")
    assert schemagen.main(["--check", "--dir", str(schemas)]) == 1
    assert schemagen.COMMAND in capsys.readouterr().err
    assert schemagen.main(["--dir", str(schemas)]) == 0
    assert path.read_text(encoding="utf-8") == (SCHEMA_DIR / "policy.schema.json").read_text(encoding="utf-8")
    assert schemagen.main(["--check", "--dir", str(schemas)]) == 0


def test_every_action_a_message_can_have_is_an_action_type():
    """The webhook's event types derive from ACTION_TYPES: a stage's actions (the schema's enum)
    and the event messages' must all be among them."""
    from arrears.engine.domain.model import ACTION_TYPES, STAGE_ACTIONS
    from arrears.engine.policy.stages import MESSAGE_ACTIONS
    stage = policy_schema()["properties"]["escalation"]["properties"]["stages"]["items"]["properties"]
    assert stage["action"]["enum"] == list(STAGE_ACTIONS)
    assert set(MESSAGE_ACTIONS.values()) <= set(ACTION_TYPES)
