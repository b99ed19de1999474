"""Jurisdiction profiles: legal guardrails as data (`policies/profiles/*.yaml`).

A profile applies to an account whose jurisdiction starts with one of its prefixes
(`US` covers `US-MA` and `US-NY-NYC`), whose debtor type it lists, and — for profiles
that depend on it — whose policy turns its setting on. Profiles are loaded with the
same YAML/schema machinery as policies, so their errors name file:line:col too.
Every applicable rule must allow an action; no policy setting can switch one off.
Each rule is built by its kind (`arrears.engine.guardrails.kinds`), which says which keys
it takes and how they are read.

Two sources, both only ever restricting: the shipped profiles (each must be exactly as
released, `baseline.SHIPPED`, so an edit that loosens one is refused) and, optionally, a
company's own profiles directory, which adds profiles of its own. A company profile may not
use a kind that relaxes a stop (one with the `exempt` hook, such as `cease_communication`),
nor reuse a shipped profile's id or a rule id: it can only tighten.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from arrears.engine.domain.errors import PolicyError, Problem
from arrears.engine.guardrails.jurisdiction import matches
from arrears.engine.guardrails.kinds import KINDS, Rule, build_rule
from arrears.engine.guardrails.kinds.base import params
from arrears.engine.policy.baseline import COMMAND as BASELINE_COMMAND
from arrears.engine.policy.baseline import SHIPPED
from arrears.engine.policy.digest import digest_of
from arrears.engine.policy.semantics import zone_problems
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
    # class of a plugin's channel kind -> the built-in kind whose rules it follows here
    # (`channel_classes`; see `arrears.engine.policy.channelclasses`)
    classes: tuple[tuple[str, str], ...] = ()

    def applies(self, jurisdiction: str | None, debtor_type: str, settings: dict) -> bool:
        """Does this profile cover an account with this jurisdiction and debtor type?"""
        if self.setting and not settings.get(self.setting, False):
            return False
        if self.debtor_types and debtor_type not in self.debtor_types:
            return False
        return bool(jurisdiction) and any(matches(jurisdiction, p) for p in self.jurisdictions)


def _semantic_problems(doc, filename: str) -> list[Problem]:
    """Problems the schema cannot see, from each rule kind's parameter checks; unknown time zones."""
    problems = zone_problems(doc.data, doc, filename)
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
    return _read(path)[0]


def check_profile(path: str | Path) -> Profile:
    """Load and check one profile file on its own, as `arrears validate` does: its schema, its
    rules' parameters, and then, for a shipped profile (one in PROFILES_DIR), that it is as
    released, for any other (a company's own), that it only tightens. PolicyError with every problem."""
    profile, doc = _read(path)
    shipped = Path(path).resolve().parent == Path(PROFILES_DIR).resolve()
    problems = _tightening_problems(profile, doc, own=not shipped)
    if problems:
        raise PolicyError(problems)
    return profile


def _read(path: str | Path):
    """(the profile, its document with positions) of one file; PolicyError with every problem."""
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
                   digest=digest_of(data), path=filename,
                   classes=tuple((data.get("channel_classes") or {}).items())), doc


_LOADED: dict[tuple, dict[str, Profile]] = {}     # profiles by their files' names and contents
_LOADED_MAX = 4


def _stamp(path: Path) -> tuple:
    return str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def load_profiles(directory: str | Path = PROFILES_DIR,
                  company: str | Path | None = None) -> dict[str, Profile]:
    """Every profile by id: the shipped ones in `directory`, checked against the release, and
    a company's own in `company` (if given), checked to only tighten. All problems of all
    files are reported at once, each at file:line:col.

    Profiles that loaded are reused while their files stay the same (names and contents):
    checking a policy as its author types must not parse and check them all again."""
    sources = [(path, False) for path in sorted(Path(directory).glob("*.yaml"))]
    if company is not None:
        folder = Path(company)
        if not folder.is_dir():
            raise PolicyError([Problem(str(folder), 1, 1, "the profiles directory does not exist "
                                                          "or is not a directory", "")])
        sources += [(path, True) for path in sorted(folder.glob("*.yaml"))]
    try:
        key = (str(directory), tuple((own,) + _stamp(path) for path, own in sources))
    except OSError:
        key = None
    if key is not None and key in _LOADED:
        return dict(_LOADED[key])
    profiles = _load_all(directory, sources)
    if key is not None:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = dict(profiles)
    return profiles


def _load_all(directory, sources: list) -> dict[str, Profile]:
    """`load_profiles` of the listed files, read and checked now."""
    profiles, problems = {}, []
    for path, own in sources:
        try:
            profile, doc = _read(path)
        except PolicyError as exc:
            problems += exc.problems
            continue
        if profile.id in profiles:
            problems.append(Problem(str(path), *doc.position(("id",)), f"duplicate profile id {profile.id!r}"
                                    + (" (a company profile cannot replace a shipped one)" if own else ""), "/id"))
            continue
        problems += _tightening_problems(profile, doc, own)
        profiles[profile.id] = profile
    problems += [Problem(str(directory), 1, 1, f"the shipped profile {pid!r} is missing: shipped "
                         "profiles cannot be removed", "") for pid in SHIPPED if pid not in profiles]
    ids = [r.id for p in profiles.values() for r in p.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append(Problem(str(directory), 1, 1, f"rule ids used twice: {', '.join(dupes)}", ""))
    if problems:
        raise PolicyError(problems)
    return profiles


def _tightening_problems(profile: Profile, doc, own: bool) -> list[Problem]:
    """A shipped profile must be as released; a company profile may not relax a stop."""
    if not own and profile.id in SHIPPED:
        if profile.digest != SHIPPED[profile.id]:
            return [Problem(profile.path, 1, 1, f"the shipped profile {profile.id!r} differs from the one "
                            "released with Arrears; shipped profiles cannot be edited (a change could "
                            "loosen the law's guardrails): put stricter rules in a profiles directory "
                            "of your own (--profiles DIR). A maintainer changing it on purpose records "
                            f"it with `{BASELINE_COMMAND}`", "")]
        return []
    out = []
    for i, rule in enumerate(profile.rules):
        if "exempt" in rule.hooks:
            line, col = doc.position(("rules", i, "kind"))
            out.append(Problem(profile.path, line, col, f"a {rule.kind} rule lets steps through "
                               f"{rule.exempts}, which would loosen it; a profile of your own can "
                               "only tighten", f"/rules/{i}/kind"))
    return out
