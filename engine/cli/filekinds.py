"""The kinds of file `arrears validate` recognises, and how each is checked against its own schema.

`KINDS` is the registry: one `FileKind` per kind of YAML file Arrears reads (a policy, a policy
test, a jurisdiction profile, a goals file, a replay mapping, an experiment). A new kind is one more
entry: its name, its JSON Schema under engine/policy/schemas/, and the function that checks a file
of it; `recognise` and `arrears validate` then take it from here.

A file's kind is recognised, in this order, from:
1. the schema its `# yaml-language-server: $schema=…/NAME.schema.json` line names;
2. its top-level keys: each kind's *distinctive* keys are the top-level properties of its schema
   that no other kind's schema has (a policy's `escalation`, a test's `cases`, a profile's
   `applies_to`, a goals file's `goals`); the kind with the most of them wins;
3. its name, for a kind that has a naming convention (`*_test.yaml`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from arrears.engine.domain.words import plural

_SCHEMA_LINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*?([A-Za-z0-9_-]+)\.schema\.json\s*$")


@dataclass
class Context:
    """What checking a file may need: the plugins' facts, the company profiles directory, and
    the policies checked so far (a goals file names their aging buckets and segments)."""

    facts: dict = field(default_factory=dict)
    profiles: Path | None = None
    policies: list = field(default_factory=list)
    # The policy warnings to look for (`arrears.engine.cli.warnopts.WarningContext`; None: none),
    # and those found, by file path.
    warnings: object = None
    found: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FileKind:
    """One kind of file: its `name` in messages, its JSON `schema` (engine/policy/schemas/), the
    file-name ending that names it (`suffix`, if it has one), and `check(path, context)`, which
    returns the `ok` line's summary (further lines: notes shown under it) or raises PolicyError
    with every problem.
    `after_policies`: checked once every policy given has been (it refers to them)."""

    name: str
    schema: str
    check: Callable[[Path, Context], str]
    suffix: str = ""
    after_policies: bool = False


def _check_policy(path: Path, context: Context) -> str:
    from arrears.engine.policy import load
    policy, doc = load.load_checked(path, facts=context.facts, company_profiles=context.profiles)
    context.policies.append(policy)
    if context.warnings is not None:
        context.found[str(path)] = context.warnings.warnings(policy, doc, str(path))
    summary = f"{policy.name} {policy.version} {policy.digest}"
    if policy.plugin_facts:
        used = ", ".join(f"{name} ({fd.plugin})" for name, fd in policy.plugin_facts.items())
        summary += f"\n    uses plugin facts: {used}"
    return summary


def _check_policy_test(path: Path, context: Context) -> str:
    from arrears.engine.policy.validation import parse_policy_test
    suite = parse_policy_test(path).data
    return f"policy test of {suite['policy']}, {plural(len(suite['cases']), 'case')}"


def _check_profile(path: Path, context: Context) -> str:
    from arrears.engine.policy.profiles import check_profile
    profile = check_profile(path)
    return f"profile {profile.id}, {plural(len(profile.rules), 'rule')}"


def _check_goals(path: Path, context: Context) -> str:
    """Valid if it fits the aging buckets and segments of one of the policies checked (without
    any, on its own); otherwise the problems it has against the first of them."""
    from arrears.engine.domain.errors import PolicyError
    from arrears.engine.goals import load_goals
    first = None
    for policy in context.policies or [None]:
        names = {} if policy is None else {"buckets": policy.bucket_names, "segments": tuple(policy.segments)}
        try:
            goalset = load_goals(path, **names)
        except PolicyError as exc:
            first = first or exc
            continue
        return f"goals file, {plural(len(goalset.goals), 'goal')}"
    raise first


def _check_replay_mapping(path: Path, context: Context) -> str:
    from arrears.engine.replay.mapping import load_mapping
    mapping = load_mapping(path)
    return (f"replay mapping, {plural(len(mapping.columns), 'column')} renamed, "
            f"{plural(len(mapping.ignore), 'column')} ignored")


def _check_experiment(path: Path, context: Context) -> str:
    from arrears.engine.experiments import load_experiment
    experiment = load_experiment(path, facts=context.facts)
    shares = ", ".join(f"{arm.name} {float(arm.share * 100):g}%" for arm in experiment.arms)
    size = experiment.sample_size()
    return (f"experiment {experiment.name} ({shares}), {experiment.start} to {experiment.end}"
            f"\n    needs {size.total:,} eligible debtors to see {experiment.metric.minimum_detectable_effect:g} "
            f"on {experiment.metric.kpi}")


KINDS: tuple[FileKind, ...] = (
    FileKind("policy", "policy", _check_policy),
    FileKind("policy test", "policytest", _check_policy_test, suffix="_test.yaml"),
    FileKind("profile", "profile", _check_profile),
    FileKind("goals file", "goals", _check_goals, after_policies=True),
    FileKind("replay mapping", "replaymap", _check_replay_mapping),
    FileKind("experiment", "experiment", _check_experiment),
)


def _properties(kind: FileKind) -> set[str]:
    from arrears.engine.policy.validation import load_schema
    return set(load_schema(kind.schema).get("properties", {}))


def distinctive_keys() -> dict[str, set[str]]:
    """Each kind's name -> the top-level keys of its schema that no other kind's schema has."""
    keys = {kind.name: _properties(kind) for kind in KINDS}
    return {name: own - set().union(*(other for n, other in keys.items() if n != name))
            for name, own in keys.items()}


def recognise(path: Path, text: str, data) -> FileKind | None:
    """The kind of the file at `path` (its `text`, parsed as `data`), or None if it cannot be told."""
    for line in text.splitlines()[:5]:
        named = _SCHEMA_LINE.match(line.strip())
        if named:
            for kind in KINDS:
                if kind.schema == named.group(1):
                    return kind
    if isinstance(data, dict):
        top = {key for key in data if isinstance(key, str)}
        own = distinctive_keys()
        scores = {kind.name: len(top & own[kind.name]) for kind in KINDS}
        best = max(scores.values(), default=0)
        if best:
            return next(kind for kind in KINDS if scores[kind.name] == best)
    return next((kind for kind in KINDS if kind.suffix and path.name.endswith(kind.suffix)), None)


def expected() -> str:
    """What a recognisable file looks like (each kind's distinctive keys that its schema
    requires), for the message about one that is not."""
    from arrears.engine.policy.validation import load_schema
    own = distinctive_keys()
    parts = []
    for kind in KINDS:
        required = set(load_schema(kind.schema).get("required", ()))
        keys = sorted(own[kind.name] & required) or sorted(own[kind.name])
        parts.append(f"a {kind.name} has {', '.join(keys)}")
    return "; ".join(parts)
