"""What a policy condition says about a fact or a segment, read from its text, without any account.

The warnings and the ladder ask two questions of a `when` (as written in the policy, not compiled):
which values it restricts a fact to (`pinned`: a segment `{fact: debtor_type, eq: business}` only
ever holds for businesses) and whether it holds for every account of a segment (`holds_for`).
Both answer "unknown" rather than guess: `None`.
"""
from __future__ import annotations


def _dict(x):
    return x if isinstance(x, dict) else {}


def pinned(spec, fact: str, segments: dict, _seen: frozenset = frozenset()) -> frozenset | None:
    """The values of `fact` for which condition `spec` can hold (from `eq`/`in` tests, through
    `all`, `any` and segment references); None if the condition does not restrict `fact`.

    `segments`: the policy's `segments` section as written (name -> {when: ...})."""
    if not isinstance(spec, dict):
        return None
    found: list[frozenset] = []
    if spec.get("fact") == fact:
        if "eq" in spec:
            found.append(frozenset([spec["eq"]]))
        elif isinstance(spec.get("in"), list):
            found.append(frozenset(spec["in"]))
    name = spec.get("segment")
    if isinstance(name, str) and name not in _seen:
        inner = pinned(_dict(segments.get(name)).get("when"), fact, segments, _seen | {name})
        if inner is not None:
            found.append(inner)
    for item in spec.get("all") or ():
        inner = pinned(item, fact, segments, _seen)
        if inner is not None:
            found.append(inner)
    branches = [pinned(item, fact, segments, _seen) for item in spec.get("any") or ()]
    if branches and all(b is not None for b in branches):
        found.append(frozenset().union(*branches))
    if not found:
        return None
    out = found[0]
    for values in found[1:]:
        out &= values
    return out


def holds_for(spec, segment: str | None, segments: dict) -> bool | None:
    """Whether condition `spec` holds for every account of `segment` (True), for none (False), or
    depends on the account (None). No condition holds for everyone."""
    if spec is None:
        return True
    if not isinstance(spec, dict):
        return None
    if "segment" in spec and len(spec) == 1:
        if spec["segment"] == segment:
            return True
        return None
    if "not" in spec and len(spec) == 1:
        inner = holds_for(spec["not"], segment, segments)
        return None if inner is None else not inner
    if "all" in spec and len(spec) == 1:
        parts = [holds_for(item, segment, segments) for item in spec["all"] or ()]
        if any(p is False for p in parts):
            return False
        return True if all(p is True for p in parts) else None
    if "any" in spec and len(spec) == 1:
        parts = [holds_for(item, segment, segments) for item in spec["any"] or ()]
        if any(p is True for p in parts):
            return True
        return False if parts and all(p is False for p in parts) else None
    return None
