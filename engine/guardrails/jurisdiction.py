"""Which jurisdiction profiles cover which accounts.

A profile applies to an account whose jurisdiction starts with one of its prefixes
(`US` covers `US-MA` and `US-NY-NYC`), whose debtor type it lists, and, for profiles that
depend on it, whose policy turns its setting on.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.facts.compute import distinct_codes

# The `profile` of the rules a policy's own house contact hours compile to: they are not a
# jurisdiction profile, so a decision does not list them among its profiles.
HOUSE = "house"


def matches(jurisdiction: str, prefix: str) -> bool:
    """`US-MA` matches the prefixes `US` and `US-MA`, not `US-M` or `US-NY`."""
    return jurisdiction == prefix or jurisdiction.startswith(prefix + "-")


def applicable(profiles, batch, settings: dict, forced: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Per profile id, the accounts of a batch it applies to (forced ids apply to all)."""
    # Per distinct (jurisdiction, debtor type): each column coded on its own, then the pairs.
    j_codes, j_uniq = distinct_codes(batch.jurisdiction)
    d_codes, d_uniq = distinct_codes(batch.debtor_type)
    width = max(len(d_uniq), 1)
    pair = j_codes * width + d_codes
    pairs = np.flatnonzero(np.bincount(pair, minlength=len(j_uniq) * width))   # no sort needed
    code_of = np.full(len(j_uniq) * width, -1, dtype=np.int64)
    code_of[pairs] = np.arange(pairs.size)
    codes = code_of[pair]
    uniq = [(j_uniq[k // width], d_uniq[k % width]) for k in pairs.tolist()]
    out = {}
    for profile in profiles:
        if profile.id in forced:
            out[profile.id] = np.ones(batch.n, dtype=bool)
            continue
        table = np.array([profile.applies(j, d, settings) for j, d in uniq], dtype=bool)
        out[profile.id] = table[codes] if len(uniq) else np.zeros(0, dtype=bool)
    return out
