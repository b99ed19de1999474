"""Which jurisdiction profiles cover which accounts.

A profile applies to an account whose jurisdiction starts with one of its prefixes
(`US` covers `US-MA` and `US-NY-NYC`), whose debtor type it lists, and, for profiles that
depend on it, whose policy turns its setting on.
"""
from __future__ import annotations

import numpy as np

# The `profile` of the rules a policy's own house contact hours compile to: they are not a
# jurisdiction profile, so a decision does not list them among its profiles.
HOUSE = "house"


def matches(jurisdiction: str, prefix: str) -> bool:
    """`US-MA` matches the prefixes `US` and `US-MA`, not `US-M` or `US-NY`."""
    return jurisdiction == prefix or jurisdiction.startswith(prefix + "-")


def applicable(profiles, batch, settings: dict, forced: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Per profile id, the accounts of a batch it applies to (forced ids apply to all)."""
    keys = list(zip(batch.jurisdiction, batch.debtor_type))
    uniq = sorted(set(keys), key=lambda k: (str(k[0]), k[1]))
    index = {k: i for i, k in enumerate(uniq)}
    codes = np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))
    out = {}
    for profile in profiles:
        if profile.id in forced:
            out[profile.id] = np.ones(batch.n, dtype=bool)
            continue
        table = np.array([profile.applies(j, d, settings) for j, d in uniq], dtype=bool)
        out[profile.id] = table[codes] if len(uniq) else np.zeros(0, dtype=bool)
    return out
