"""Jurisdiction profiles: legal guardrails as data (`policies/profiles/*.yaml`).

A profile applies to an account whose jurisdiction starts with one of its prefixes
(`US` covers `US-MA` and `US-NY-NYC`), whose debtor type it lists, and — for profiles
that depend on it — whose policy turns its setting on. Profiles are loaded with the
same YAML/schema machinery as policies, so their errors name file:line:col too.
Every applicable rule must allow an action; no policy setting can switch one off.
Each rule is built by its kind (`arrears.engine.guardrails.kinds`), which says which keys
it takes and how they are read.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arrears.engine.domain.errors import PolicyError, Problem
from arrears.engine.guardrails.jurisdiction import matches
from arrears.engine.guardrails.kinds import KINDS, Rule, build_rule
from arrears.engine.guardrails.kinds.base import params
from arrears.engine.policy.digest import digest_of
from arrears.engine.policy.yamlsrc import load_file
from arrears.policies import PROFILES_DIR


@dataclass(frozen=True)
class Profile:
    """A loaded profile: who it applies to and its rules."""

    id: str
    name: str
    jurisdictions: tuple[str, ...]
    debtor_types: tuple[str, ...]
    setting: str | None
    rules: tuple[Rule, ...]
    digest: str
    path: str

    def applies(self, jurisdiction: str | None, debtor_type: str, settings: dict) -> bool:
        """Does this profile cover an account with this jurisdiction and debtor type?"""
        if self.setting and not settings.get(self.setting, False):
            return False
        if self.debtor_types and debtor_type not in self.debtor_types:
            return False
        return bool(jurisdiction) and any(matches(jurisdiction, p) for p in self.jurisdictions)


def _semantic_problems(doc, filename: str) -> list[Problem]:
    """Problems the schema cannot see, from each rule kind's parameter checks."""
    problems = []
    for i, spec in enumerate(doc.data.get("rules") or []):
        kind = KINDS.get(spec.get("kind")) if isinstance(spec, dict) else None
        for key, p in (params(kind) if kind else {}).items():
            message = p.check(spec[key]) if p.check and key in spec else None
            if message:
                line, col = doc.position(("rules", i, key))
                problems.append(Problem(filename, line, col, f"{key}: {message}", f"/rules/{i}/{key}"))
    return problems


def load_profile(path: str | Path) -> Profile:
    """Load and validate one profile file; raises PolicyError with every problem."""
    from arrears.engine.policy.validation import validate_document
    filename = str(path)
    doc = load_file(filename, filename)
    problems = validate_document(doc, filename, schema="profile")
    problems += _semantic_problems(doc, filename) if not problems else []
    if problems:
        raise PolicyError(problems)
    data = doc.data
    applies = data["applies_to"]
    return Profile(id=data["id"], name=data["name"], jurisdictions=tuple(applies["jurisdictions"]),
                   debtor_types=tuple(applies.get("debtor_types") or ()),
                   setting=applies.get("setting"),
                   rules=tuple(build_rule(r, data["id"]) for r in data["rules"]),
                   digest=digest_of(data), path=filename)


def load_profiles(directory: str | Path = PROFILES_DIR) -> dict[str, Profile]:
    """Every profile in a directory, by id; all problems of all files reported at once."""
    profiles, problems = {}, []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            profile = load_profile(path)
        except PolicyError as exc:
            problems += exc.problems
            continue
        if profile.id in profiles:
            problems.append(Problem(str(path), 1, 1, f"duplicate profile id {profile.id!r}", "/id"))
        profiles[profile.id] = profile
    ids = [r.id for p in profiles.values() for r in p.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append(Problem(str(directory), 1, 1, f"rule ids used twice: {', '.join(dupes)}", ""))
    if problems:
        raise PolicyError(problems)
    return profiles
