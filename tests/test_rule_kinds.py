"""One home per compliance rule kind: the registry, the generated profile schema, the oracle.

Every rule kind is one module under engine/guardrails/kinds, registered in `KINDS`. These
tests hold the pieces that follow from the registry together: the committed profile schema
is what the registry generates, the independent oracle has a check (or a stated reason) for
every kind, and nothing else in the engine dispatches on a kind's name.
"""
from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from jsonschema import Draft202012Validator

from arrears.engine.domain.model import EVENT_TYPES
from arrears.engine.facts.catalogue import FACTS
from arrears.engine.guardrails.kinds import KINDS
from arrears.engine.guardrails.kinds.base import HOOKS, Rule, param, params
from arrears.engine.guardrails.ruletext import CONTENT_BITS
from arrears.engine.policy import profileschema, schemagen
from arrears.engine.policy.profiles import load_profiles
from tests import oracle

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_profile_schema_is_what_the_registry_generates():
    committed = profileschema.PATH.read_text(encoding="utf-8")
    assert committed == schemagen.render(profileschema.profile_schema()), (
        f"engine/policy/schemas/profile.schema.json is stale: run {schemagen.COMMAND}")
    assert schemagen.main(["--check"]) == 0


def test_the_profile_schema_lists_every_kind_with_its_required_keys():
    schema = profileschema.profile_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["kinds"]["enum"] == list(KINDS)
    required = {branch["if"]["properties"]["kind"]["const"]: branch["then"]["required"]
                for branch in schema["$defs"]["rule"]["allOf"]}
    for name, cls in KINDS.items():
        assert required.get(name, []) == [k for k, p in params(cls).items() if p.required], name
        assert set(params(cls)) <= set(schema["$defs"]["rule"]["properties"]), name


def test_a_new_kind_reaches_the_schema_through_the_registry_alone():
    @dataclass(frozen=True)
    class Curfew(Rule):
        """No contact at all after a curfew hour (a made-up kind)."""

        kind: ClassVar[str] = "curfew"
        hour: int = param(20, {"type": "integer", "minimum": 0, "maximum": 23}, "local hour",
                          required=True)

    schema = profileschema.rule_schema({**KINDS, "curfew": Curfew})
    assert schema["properties"]["hour"]["description"] == "curfew: local hour."
    assert {"if": {"properties": {"kind": {"const": "curfew"}}}, "then": {"required": ["hour"]}} \
        in schema["allOf"]
    assert profileschema.kinds_schema({"curfew": Curfew})["markdownEnumDescriptions"] == [
        "No contact at all after a curfew hour (a made-up kind)."]
    assert Curfew.hooks == frozenset()


def test_each_kind_is_one_module_named_after_it_with_its_hooks_documented():
    for name, cls in KINDS.items():
        assert cls.kind == name
        assert cls.__module__ == f"arrears.engine.guardrails.kinds.{name}", name
        assert inspect.getdoc(cls) and cls.describe is not Rule.describe, name
        for hook in cls.hooks | {"describe"}:
            assert getattr(cls, hook).__doc__, f"{name}.{hook} has no docstring"
    for hook in HOOKS:
        assert getattr(Rule, hook).__doc__, hook


def test_every_shipped_rule_is_built_by_its_kind():
    for profile in load_profiles().values():
        for rule in profile.rules:
            assert type(rule) is KINDS[rule.kind]
            assert rule.describe()


def test_the_oracle_checks_every_registered_kind_independently():
    """A kind the oracle does not know fails here: give it a check, or say why it needs none."""
    assert set(oracle.KIND_CHECKS) == set(KINDS)
    for kind, check in oracle.KIND_CHECKS.items():
        assert callable(check) or (isinstance(check, str) and check), kind
    # independent: the oracle imports nothing of the engine
    tree = ast.parse((ROOT / "tests" / "oracle.py").read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.startswith("arrears")]


def test_no_code_outside_the_kind_modules_dispatches_on_a_kind_name():
    # Names a kind shares with an event, a state, a fact or a content flag are legitimately
    # used for those elsewhere; every other kind name must appear only in its own module.
    shared = set(EVENT_TYPES) | set(FACTS) | set(CONTENT_BITS) | {"hardship"}
    names = set(KINDS) - shared
    kinds_dir = ROOT / "engine" / "guardrails" / "kinds"
    offenders = []
    for folder in ("engine", "api", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.is_relative_to(kinds_dir):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in names:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert offenders == []
