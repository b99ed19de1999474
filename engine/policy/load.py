"""Load a policy: read, parse with positions, validate (schema + semantics), compile.

`load_policy` is the one entry point the CLI, the API and the tick use, so a policy
that loads anywhere loads the same everywhere.
"""
from __future__ import annotations

from pathlib import Path

from arrears.engine.domain import kinds as channel_kinds
from arrears.engine.domain.errors import PolicyError, Problem
from arrears.engine.domain.words import did_you_mean
from arrears.engine.facts import pluginfacts
from arrears.engine.policy import channelclasses
from arrears.engine.policy.compiler import CompiledPolicy, compile_policy
from arrears.engine.policy.profiles import PROFILES_DIR, load_profiles
from arrears.engine.policy.validation import parse_policy
from arrears.engine.policy.yamlsrc import Document


def load_policy(source: str | Path, *, filename: str | None = None,
                profiles_dir: str | Path = PROFILES_DIR, company_profiles: str | Path | None = None,
                facts=None, kinds=None) -> CompiledPolicy:
    """Compile a policy from a file path or from YAML text, with the jurisdiction profiles.

    `facts`: the facts the loaded plugins provide, as `arrears.plugins.facts.plugin_facts(pm)`
    returns them (a mapping by name; an iterable of `PluginFact` also works). Conditions
    may use those (`x_…`) besides the built-in facts; the digest does not depend on them.
    Raises `arrears.engine.domain.errors.PolicyError` carrying every problem found (YAML syntax, schema,
    semantics, unknown profiles, broken profile files, plugin facts no loaded plugin
    provides), each located as file:line:col.
    `company_profiles`: a directory of the company's own stricter profiles, applied besides
    the shipped ones in `profiles_dir` (see `arrears.engine.policy.profiles.load_profiles`).
    `kinds`: the channel kinds the loaded plugins add (`arrears.engine.domain.kinds.ChannelKind`,
    as `arrears.plugins.manager.register_kinds(pm)` returns them), registered if they are not yet;
    by default every kind registered in this process. A channel may have one of those kinds
    (else: file:line:col), and each loaded profile must say how its class is treated.
    """
    return load_checked(source, filename=filename, profiles_dir=profiles_dir,
                        company_profiles=company_profiles, facts=facts, kinds=kinds)[0]


def load_checked(source: str | Path, *, filename: str | None = None,
                 profiles_dir: str | Path = PROFILES_DIR, company_profiles: str | Path | None = None,
                 facts=None, kinds=None) -> tuple[CompiledPolicy, Document]:
    """`load_policy`, also returning the document with the position of every value, which the
    warnings (`arrears.engine.policy.warnrules`) locate their findings with."""
    sources = pluginfacts.catalogue(facts)
    plugin_kinds = _plugin_kinds(kinds)
    profiles = load_profiles(profiles_dir, company_profiles)
    doc = parse_policy(source, filename=filename,
                       extra_checks=lambda d, name: _profile_problems(d, name, profiles)
                       + channelclasses.coverage_problems(profiles, d, name),
                       facts=pluginfacts.definitions(sources), kinds=plugin_kinds)
    name = filename or (str(source) if _is_path(source) else "<policy>")
    used = channelclasses.used_plugin_kinds(doc.data)
    return compile_policy(doc.data, source=name, profiles=channelclasses.treated(profiles, used), facts=sources,
                          positions={**doc.values, **doc.keys},
                          channel_rules=channelclasses.consent_rules(used),
                          company_profiles=None if company_profiles is None else str(company_profiles)), doc


def _plugin_kinds(kinds) -> tuple[str, ...]:
    """The names of the plugin channel kinds a policy may use: `kinds` (registered now), or
    every plugin kind registered in this process."""
    if kinds is None:
        return tuple(channel_kinds.CHANNEL_KINDS[len(channel_kinds.BUILTIN_NAMES):])
    try:
        return tuple(k.name for k in channel_kinds.register(kinds))
    except channel_kinds.KindError as exc:
        raise PolicyError([Problem("<plugins>", 1, 1, line.strip(" -"), "")
                           for line in str(exc).splitlines()[1:]]) from exc


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
