"""Check a policy document against the JSON Schema and the semantic rules.

jsonschema's own messages are written for programmers ("Additional properties are
not allowed"); compliance staff get one `Problem` per mistake, located at
`file:line:col`, worded in terms of the policy, and all of them at once.
"""
from __future__ import annotations

import datetime
import functools
import json
import os
from importlib.resources import files
from pathlib import Path

from jsonschema import Draft202012Validator

from arrears.engine.domain.errors import PolicyError, Problem
from arrears.engine.domain.words import did_you_mean
from arrears.engine.facts.catalogue import OPERATORS
from arrears.engine.policy.semantics import check_semantics, shown, zone_problems
from arrears.engine.policy.yamlsrc import Document, load_document, load_file, pointer

SCHEMA_DIR = Path(str(files(__package__))) / "schemas"
SCHEMA_PATH = SCHEMA_DIR / "policy.schema.json"

_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "nothing"}


@functools.cache
def load_schema(name: str = "policy") -> dict:
    """A shipped JSON Schema (`engine/policy/schemas/NAME.schema.json`), loaded once."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def policy_schema() -> dict:
    """The policy JSON Schema, loaded once."""
    return load_schema("policy")


@functools.cache
def _validator(name: str = "policy", kinds: tuple[str, ...] = ()) -> Draft202012Validator:
    """The validator of a shipped schema; for a policy, allowing the plugin channel kinds `kinds`."""
    schema = load_schema(name)
    if kinds:
        from arrears.engine.policy.policyschema import with_kinds
        schema = with_kinds(schema, kinds)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _jsonable(value):
    # YAML reads unquoted dates as dates; editors (YAML 1.2) and the schema see strings.
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _type_message(error) -> str:
    expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    names = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
    message = f"expected {names}, got {shown(error.instance)}"
    number = isinstance(error.instance, (int, float)) and not isinstance(error.instance, bool)
    if "string" in expected and number:
        message += " (quote it to make it text)"
    return message


def _choice_message(error) -> str:
    # A oneOf of {required: [key]} branches means "exactly one of these keys": the operators
    # of a fact condition, or any other either-or choice of keys (worded generically).
    branches = error.validator_value
    if not all(isinstance(b, dict) and list(b) == ["required"] and len(b["required"]) == 1 for b in branches):
        return error.message
    keys = [b["required"][0] for b in branches]
    found = [key for key in keys if isinstance(error.instance, dict) and key in error.instance]
    operators = all(any(key in ops for ops in OPERATORS.values()) for key in keys)
    if not found:
        what = "a fact condition needs one operator" if operators else "needs one of the keys"
        return f"{what} ({', '.join(keys)}); found none"
    what = "a fact condition takes exactly one operator" if operators else "takes exactly one of the keys"
    return f"{what}; found {len(found)}: {', '.join(found)}"


def _messages(error):
    """Yield (path, message, at_key) for one jsonschema error."""
    path, kind = tuple(error.absolute_path), error.validator
    instance, value = error.instance, error.validator_value
    if "propertyNames" in error.absolute_schema_path:
        message = error.schema.get("patternErrorMessage", "is not a valid name")
        yield path + (instance,), f"bad name {instance!r}: {message}", True
    elif kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield path + (key,), f"unknown key {key!r}{did_you_mean(key, allowed)}", True
    elif kind == "required" and isinstance(instance, dict):
        for key in value:
            if key not in instance:
                yield path, f"missing required key {key!r}", False
    elif kind == "type":
        yield path, _type_message(error), False
    elif kind in ("enum", "const"):
        allowed = value if kind == "enum" else [value]
        hint = did_you_mean(instance, allowed) if isinstance(instance, str) else ""
        listed = ", ".join(map(str, allowed))
        yield path, f"{shown(instance)} is not allowed; expected one of: {listed}{hint}", False
    elif kind in ("oneOf", "anyOf"):      # anyOf fails only when none of its keys is there
        yield path, _choice_message(error), False
    else:
        yield path, _plain_message(error), False


def _plain_message(error) -> str:
    kind, value, schema = error.validator, error.validator_value, error.schema
    if kind == "pattern":
        return f"{shown(error.instance)}: " + schema.get("patternErrorMessage", f"does not match {value}")
    if kind in ("minItems", "maxItems") and value == schema.get("minItems") == schema.get("maxItems"):
        return f"expected a list of exactly {value} items, got {len(error.instance)}"
    simple = {
        "minItems": lambda: "must not be empty" if value == 1 else f"expected at least {value} items",
        "maxItems": lambda: f"expected at most {value} items",
        "minimum": lambda: f"expected a value of at least {value}, got {shown(error.instance)}",
        "maximum": lambda: f"expected a value of at most {value}, got {shown(error.instance)}",
        "minLength": lambda: "must not be empty",
        "minProperties": lambda: "must not be empty",
        "uniqueItems": lambda: "contains the same item twice",
        "format": lambda: f"{shown(error.instance)} is not a valid {value}",
    }
    return simple[kind]() if kind in simple else error.message


def validate_document(doc: Document, filename: str, schema: str = "policy",
                      kinds: tuple[str, ...] = ()) -> list[Problem]:
    """Every problem `doc` has against a shipped schema, located at file:line:col, sorted.
    `kinds`: the channel kinds the loaded plugins add (names), which a policy may use."""
    problems = set()
    for error in _validator(schema, tuple(kinds)).iter_errors(_jsonable(doc.data)):
        for path, message, at_key in _messages(error):
            line, col = doc.key_position(path) if at_key else doc.position(path)
            problems.add(Problem(filename, line, col, message, pointer(path)))
    return sorted(problems)


def check_policy_text(text: str | bytes, filename: str, facts: dict | None = None,
                      kinds: tuple[str, ...] = ()) -> tuple[Document | None, list[Problem]]:
    """Load and check policy text; returns the document (None if unreadable) and all problems.

    `facts`: the plugin facts' definitions by name (`arrears.engine.facts.catalogue.FactDef`), which
    conditions may use besides the built-in facts. `kinds`: the names of the channel kinds the
    loaded plugins add, which channels may have besides the built-in kinds.
    """
    try:
        doc = load_document(text, filename, lenient=True)
    except PolicyError as exc:
        return None, list(exc.problems)
    return doc, _check(doc, filename, facts, kinds)


def _check(doc: Document, filename: str, facts: dict | None = None, kinds: tuple[str, ...] = ()) -> list[Problem]:
    # A value the loader could not read (a date that is none) is reported once, by the loader.
    loaded = list(doc.value_problems)
    flagged = {(p.line, p.col) for p in loaded}
    schema_problems = [p for p in validate_document(doc, filename, kinds=kinds) if (p.line, p.col) not in flagged]
    # Semantic rules look at some of the same values (a bad operator, a bad language); where
    # the schema already flagged that spot, its message is enough.
    flagged |= {(p.line, p.col) for p in schema_problems}
    semantic = [p for p in check_semantics(doc.data, doc, filename, facts)
                if (p.line, p.col) not in flagged]
    return sorted(set(loaded) | set(schema_problems) | set(semantic))


def _as_path(source):
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    # One line naming a file (or looking like a file name) is a path, not YAML text: a
    # mistyped path should say "cannot read file", not "expected a mapping".
    if isinstance(source, str) and "\n" not in source and len(source) < 4096:
        if os.path.isfile(source) or source.endswith((".yaml", ".yml")):
            return source
    return None


def parse_policy(source, filename: str | None = None, extra_checks=None, facts: dict | None = None,
                 kinds: tuple[str, ...] = ()) -> Document:
    """Load a policy from a path or YAML text; raise PolicyError with every problem at once.

    `extra_checks(doc, filename) -> list[Problem]` adds checks that need more than the
    document (e.g. that named profiles exist); their problems are reported with the rest.
    `facts`: plugin fact definitions by name, `kinds`: plugin channel kinds' names (see
    `check_policy_text`).
    """
    path = _as_path(source)
    if path is not None:
        filename = filename or path
        doc = load_file(path, filename, lenient=True)
        problems = _check(doc, filename, facts, kinds)
    else:
        filename = filename or "<policy>"
        doc, problems = check_policy_text(source, filename, facts, kinds)
    if doc is not None and extra_checks is not None:
        problems = sorted(set(problems) | set(extra_checks(doc, filename)))
    if problems:
        raise PolicyError(problems)
    return doc


def parse_policy_test(path) -> Document:
    """Load a policy test file (`*_test.yaml`); raise PolicyError with every problem at once:
    the schema's, the policy it names missing (relative to the test file), unknown time zones."""
    filename = os.fspath(path)
    doc = load_file(filename, filename)
    problems = validate_document(doc, filename, schema="policytest")
    policy = doc.data.get("policy") if isinstance(doc.data, dict) else None
    if isinstance(policy, str) and not (Path(filename).parent / policy).is_file():
        line, col = doc.position(("policy",))
        problems.append(Problem(filename, line, col, f"no policy file {policy!r} next to this test file",
                                "/policy"))
    problems += zone_problems(doc.data, doc, filename)
    if problems:
        raise PolicyError(sorted(set(problems)))
    return doc
