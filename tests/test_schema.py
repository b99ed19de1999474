"""The policy JSON Schema and the readable, located problems built from its errors."""
from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from arrears.engine.domain.errors import PolicyError
from arrears.engine.domain.model import CHANNEL_KINDS
from arrears.engine.facts import catalogue as factdefs
from arrears.engine.policy import schemagen
from arrears.engine.policy.validation import check_policy_text, parse_policy, policy_schema, validate_document
from arrears.engine.policy.yamlsrc import load_document

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
    committed, generated = schemagen.regenerated()
    if committed != generated:
        pytest.fail("engine/policy/schemas/policy.schema.json is stale: the fact catalogue or the channel kinds "
                    f"changed. Regenerate it with `{schemagen.COMMAND}` and commit the result.", pytrace=False)


def test_a_new_fact_reaches_the_schema_through_the_generator(monkeypatch):
    fact = factdefs.FactDef("days_to_next_thing", factdefs.INT, "Days until the next thing.", ("window_days",),
                            optional=True)
    monkeypatch.setattr(schemagen, "FACTS", {**factdefs.FACTS, fact.name: fact})
    generated = schemagen.generate(policy_schema())["$defs"]["factCondition"]["properties"]["fact"]["else"]
    assert generated["enum"][-1] == "days_to_next_thing"
    assert generated["markdownEnumDescriptions"][-1] == ("(int, optional) Days until the next thing. "
                                                         "Parameters: window_days.")
    # what is not derived from the catalogue is left as written
    assert schemagen.generate(policy_schema())["properties"]["metadata"] == policy_schema()["properties"]["metadata"]


def test_an_operator_or_parameter_the_generator_cannot_describe_is_an_error(monkeypatch):
    monkeypatch.setattr(schemagen, "OPERATORS", {**factdefs.OPERATORS, factdefs.STRING: ("eq", "matches")})
    with pytest.raises(ValueError, match="operator.*matches.*OPERATOR_SCHEMAS"):
        schemagen.generate(policy_schema())
    monkeypatch.undo()
    fact = factdefs.FactDef("calls", factdefs.INT, "Calls.", ("outcome",))
    monkeypatch.setattr(schemagen, "FACTS", {**factdefs.FACTS, "calls": fact})
    with pytest.raises(ValueError, match="parameter.*outcome"):
        schemagen.generate(policy_schema())


def test_the_generator_command_checks_and_rewrites(tmp_path, capsys):
    stale = policy_schema() | {"$defs": {**policy_schema()["$defs"]}}
    stale["$defs"]["factCondition"] = {**stale["$defs"]["factCondition"], "oneOf": []}
    path = tmp_path / "policy.schema.json"
    path.write_text(schemagen.render(stale), encoding="utf-8")
    assert schemagen.main(["--check", "--path", str(path)]) == 1
    assert schemagen.COMMAND in capsys.readouterr().err
    assert schemagen.main(["--path", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == schemagen.regenerated()[1]
    assert schemagen.main(["--check", "--path", str(path)]) == 0


def test_operators_and_channel_kinds_match_factdefs():
    leaf = policy_schema()["$defs"]["factCondition"]
    operators = {op for ops in factdefs.OPERATORS.values() for op in ops}
    assert {b["required"][0] for b in leaf["oneOf"]} == operators
    assert set(leaf["properties"]) == operators | {"fact", "window_days", "channel"}
    assert leaf["properties"]["channel"]["enum"] == list(CHANNEL_KINDS)
    kind = policy_schema()["properties"]["channels"]["additionalProperties"]["properties"]["kind"]
    assert kind["enum"] == list(CHANNEL_KINDS)


def test_every_property_has_a_description():
    missing = [f"{path}/properties/{name}" for path, sub in walk(policy_schema())
               for name, prop in sub.get("properties", {}).items()
               if isinstance(sub.get("properties"), dict) and not prop.get("description")]
    missing += [f"/$defs/{name}" for name, d in policy_schema()["$defs"].items() if not d.get("description")]
    assert missing == []


def test_unknown_keys_are_errors_everywhere():
    open_objects = [path for path, sub in walk(policy_schema())
                    if "properties" in sub and isinstance(sub["properties"], dict)
                    and sub.get("additionalProperties") is not False]
    assert open_objects == []


def test_default_policy_has_no_problems():
    doc = load_document(TEXT, "default.yaml")
    assert validate_document(doc, "default.yaml") == []
    assert check_policy_text(TEXT, "default.yaml")[1] == []
    assert parse_policy(DEFAULT).data["metadata"]["name"] == "default"


CASES = [
    ([("channels:\n  email", "chanels:\n  email")], "chanels",
     "unknown key 'chanels'; did you mean 'channels'?"),
    ([('version: "1.0.0"', 'versio: "1.0.0"')], "versio", "unknown key 'versio'; did you mean 'version'?"),
    ([('  name: default\n  version: "1.0.0"\n', '  name: default\n')], "name: default",
     "missing required key 'version'"),
    ([('version: "1.0.0"', "version: 1.0")], "1.0", "expected a string, got 1.0 (quote it to make it text)"),
    ([("days_past_due: 15", "days_past_due: abc")], "abc", "expected a whole number, got 'abc'"),
    ([("tone: firm\n", "tone: firmm\n")], "firmm",
     "'firmm' is not allowed; expected one of: friendly, neutral, firm, formal, final; did you mean 'firm'?"),
    ([("kind: sms", "kind: smss")], "smss", "did you mean 'sms'?"),
    ([("action: refer_to_agency", "action: refer_to_agent")], "refer_to_agent",
     "expected one of: reminder, notice, call, formal_notice, legal_warning, refer_to_agency"),
    ([("scope: invoice", "scope: invoices")], "invoices", "did you mean 'invoice'?"),
    ([('{fact: balance, lt: "50.00"}', '{fact: balanc, lt: "50.00"}')], "balanc,", "did you mean 'balance'?"),
    ([('{fact: balance, lt: "50.00"}', '{fact: x_Crm-Score, lt: "50.00"}')], "x_Crm",
     "'x_Crm-Score': a plugin fact name is x_ followed by lower-case letters, digits and underscores"),
    ([("{fact: tags, contains: vip}", "{fact: tags, contains: vip, eq: x}")], "{fact: tags",
     "a fact condition takes exactly one operator; found 2: eq, contains"),
    ([("{fact: tags, contains: vip}", "{fact: tags}")], "{fact: tags", "a fact condition needs one operator"),
    ([("{fact: risk_score, gte: 0.7}", "{fact: risk_score, between: [0.5]}")], "[0.5]",
     "expected a list of exactly 2 items, got 1"),
    ([("{fact: tags, contains: vip}", "{fact: tags, contains: vip, foo: 1}")], "foo", "unknown key 'foo'"),
    ([("{fact: promises_broken, window_days: 365", "{fact: promises_broken, window_days: 0")], "0, gte",
     "expected a value of at least 1, got 0"),
    ([("when: {fact: debtor_type, eq: consumer}", "when: consumer")], "consumer\n",
     "expected a mapping, got 'consumer'"),
    ([("      any:\n        - {fact: risk_score", "      any: []\n      x:\n        - {fact: risk_score")],
     "[]", "must not be empty"),
    ([("      any:\n        - {fact: risk_score", "      any: []\n      x:\n        - {fact: risk_score")],
     "x:", "unknown key 'x'"),
    ([('cap: "50000.00"', 'cap: "50,000"')], '"50,000"', "'50,000': expected a decimal amount such as \"50.00\""),
    ([("repeat_every_days: 3", "repeat_every_days: 0")], "0\n", "expected a value of at least 1, got 0"),
    ([("call_script: {languages: [en]}", "call_script: {languages: []}")], "[]", "must not be empty"),
    ([("effective_from: 2026-01-01", 'effective_from: "2026-02-30"')], '"2026', "'2026-02-30' is not a valid date"),
    ([("{name: current, max_days: 0}", "{name: current, max_day: 0}")], "max_day:",
     "unknown key 'max_day'; did you mean 'max_days'?"),
    ([("  consumer:\n    description: Private", "  consumer group:\n    description: Private")], "consumer group",
     "bad name 'consumer group': a segment name starts with a letter"),
    ([("evaluation:\n  max_interval_days: 7", "evaluation:\n  max_interval_days: 7\n  often: yes")], "often",
     "unknown key 'often'"),
    ([("max_discount_percent: 40", "max_discount_percent: 140")], "140", "expected a value of at most 100, got 140"),
    ([("fdcpa_applies: false", "fdcpa_applies: nope")], "nope", "expected true or false, got 'nope'"),
    ([("basis_days: 365", "basis_days: 364")], "364", "364 is not allowed; expected one of: 360, 365"),
]


@pytest.mark.parametrize("edits, anchor, fragment", CASES, ids=[c[2][:40] for c in CASES])
def test_schema_problem_is_located_and_readable(edits, anchor, fragment):
    text, (line, col) = mutate(edits, anchor)
    doc, problems = check_policy_text(text, "bad.yaml")
    found = [p for p in problems if fragment in p.message]
    assert found, "\n".join(map(str, problems))
    assert (found[0].file, found[0].line, found[0].col) == ("bad.yaml", line, col), "\n".join(map(str, problems))


def test_every_problem_is_reported_at_once():
    edits = [("channels:\n  email", "chanels:\n  email"), ("days_past_due: 15", "days_past_due: abc"),
             ("tone: firm\n", "tone: firmm\n"), ("kind: webhook", "kind: hook")]
    text = TEXT
    for old, new in edits:
        text = text.replace(old, new, 1)
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "bad.yaml")
    messages = [p.message for p in info.value.problems]
    assert len(messages) >= 3
    assert info.value.problems == sorted(info.value.problems)
    assert len(set(info.value.problems)) == len(info.value.problems)


def test_missing_top_level_sections():
    doc, problems = check_policy_text("metadata: {name: x, version: '1'}\n", "p.yaml")
    assert [str(p) for p in problems] == [
        f"p.yaml:1:1: missing required key {key!r}" for key in ("aging", "channels", "escalation", "templates")]


def test_problem_paths_are_json_pointers():
    text, _ = mutate([("days_past_due: 15", "days_past_due: abc")], "abc")
    _, problems = check_policy_text(text, "bad.yaml")
    assert [p.path for p in problems] == ["/escalation/stages/2/days_past_due"]


def test_a_value_that_is_not_a_date_does_not_hide_the_other_problems():
    text = TEXT.replace("effective_from: 2026-01-01", "effective_from: 2026-13-01", 1)
    text = text.replace("max_interval_days: 7", "max_interval_days: seven", 1)
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "bad.yaml")
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 2, messages               # the date once (not again by the schema)
    assert "'2026-13-01' is not a valid date or time" in messages[0]
    assert "expected a whole number, got 'seven'" in messages[1]


@pytest.mark.parametrize("keys, instance, expected", [
    (("eq", "lt"), {}, "a fact condition needs one operator (eq, lt); found none"),
    (("eq", "lt"), {"eq": 1, "lt": 2}, "a fact condition takes exactly one operator; found 2: eq, lt"),
    (("value", "change_percent"), {"value": 1, "change_percent": 2},
     "takes exactly one of the keys; found 2: value, change_percent"),
])
def test_an_either_or_choice_of_keys_is_worded_for_what_it_is(keys, instance, expected):
    from arrears.engine.policy.validation import _choice_message
    schema = {"oneOf": [{"required": [k]} for k in keys]}
    (error,) = Draft202012Validator(schema).iter_errors(instance)
    assert _choice_message(error) == expected
