"""Load a policy: read, parse with positions, validate (schema + semantics), compile.

`load_policy` is the one entry point the CLI, the API and the tick use, so a policy
that loads anywhere loads the same everywhere.
"""
from __future__ import annotations

from pathlib import Path

from arrears.engine.domain.errors import Problem
from arrears.engine.domain.words import did_you_mean
from arrears.engine.facts import pluginfacts
from arrears.engine.policy.compiler import CompiledPolicy, compile_policy
from arrears.engine.policy.profiles import PROFILES_DIR, load_profiles
from arrears.engine.policy.validation import parse_policy


def load_policy(source: str | Path, *, filename: str | None = None,
                profiles_dir: str | Path = PROFILES_DIR, company_profiles: str | Path | None = None,
                facts=None) -> CompiledPolicy:
    """Compile a policy from a file path or from YAML text, with the jurisdiction profiles.

    `facts`: the facts the loaded plugins provide, as `arrears.plugins.facts.plugin_facts(pm)`
    returns them (a mapping by name; an iterable of `PluginFact` also works). Conditions
    may use those (`x_…`) besides the built-in facts; the digest does not depend on them.
    Raises `arrears.engine.domain.errors.PolicyError` carrying every problem found (YAML syntax, schema,
    semantics, unknown profiles, broken profile files, plugin facts no loaded plugin
    provides), each located as file:line:col.
    `company_profiles`: a directory of the company's own stricter profiles, applied besides
    the shipped ones in `profiles_dir` (see `arrears.engine.policy.profiles.load_profiles`).
    """
    sources = pluginfacts.catalogue(facts)
    profiles = load_profiles(profiles_dir, company_profiles)
    doc = parse_policy(source, filename=filename,
                       extra_checks=lambda d, name: _profile_problems(d, name, profiles),
                       facts=pluginfacts.definitions(sources))
    name = filename or (str(source) if _is_path(source) else "<policy>")
    return compile_policy(doc.data, source=name, profiles=profiles, facts=sources)


def _profile_problems(doc, name: str, profiles: dict) -> list[Problem]:
    """Profiles a policy names must exist."""
    named = (doc.data.get("compliance") or {}).get("profiles") if isinstance(doc.data, dict) else None
    problems = []
    for i, pid in enumerate(named if isinstance(named, list) else []):
        if isinstance(pid, str) and pid != "auto" and pid not in profiles:
            line, col = doc.position(("compliance", "profiles", i))
            problems.append(Problem(name, line, col, f"unknown profile {pid!r}"
                                    f"{did_you_mean(pid, list(profiles) + ['auto'])}",
                                    f"/compliance/profiles/{i}"))
    return problems


def _is_path(source) -> bool:
    if isinstance(source, Path):
        return True
    return isinstance(source, str) and "\n" not in source and Path(source).is_file()
